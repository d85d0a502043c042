/**
 * Job and node-state events of the samples: every good entry decodes to exactly the values
 * the files' comments state.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSample, m } from './expect.ts';

/** Compact JSON, exactly as the samples write their payloads. */
const j = (value: unknown): string => JSON.stringify(value);

const adapter = { hostname: 'ctrl01', type: 'node', 'type-id': '0' };
const tc = { cluster: 'testcluster' };

describe('line-protocol samples: events', () => {
  it('batch-crlf.lp: CR LF, blank and space-only lines, comments, no final newline', () => {
    const r = decodeSample('batch-crlf.lp');
    const start = { ...tc, function: 'start_job', ...adapter };
    const stop = { ...tc, function: 'stop_job', ...adapter };
    const server = { ...tc, hostname: 'server01' };
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.messages, [
      m(
        2,
        'job',
        start,
        { event: j({ jobId: 4740, ...tc, startTime: 1735733400 }) },
        1735733400_000000000n,
      ),
      m(
        4,
        'ccb',
        { ...server, loglevel: 'info' },
        { log: 'job 4740 registered' },
        1735733401_000000000n,
      ),
      m(
        7,
        'ccb',
        { ...server, loglevel: 'debug' },
        { log: 'leading spaces before the measurement are skipped' },
        1735733402_000000000n,
      ),
      m(
        8,
        'ccb',
        { ...server, loglevel: 'debug' },
        { log: 'trailing spaces after the timestamp' },
        1735733403_000000000n,
      ),
      m(
        11,
        'nodestate',
        tc,
        { event: j({ ...tc, nodes: [{ hostname: 'node001', states: ['idle'] }] }) },
        1735733404_000000000n,
      ),
      m(
        12,
        'job',
        stop,
        { event: j({ jobId: 4740, ...tc, jobState: 'cancelled', stopTime: 1735733460 }) },
        1735733460_000000000n,
      ),
    ]);
  });

  it('job-events.lp: 9 valid events in every producer shape, one in seconds', () => {
    const r = decodeSample('job-events.lp');
    const firstJob = {
      ...tc,
      subCluster: 'main',
      partition: 'batch',
      project: 'proj001',
      user: 'user001',
      shared: 'none',
      jobState: '',
      resources: [
        { hostname: 'node001', hwthreads: [0, 1, 2, 3] },
        { hostname: 'node002', hwthreads: [0, 1, 2, 3] },
      ],
      energyFootprint: null,
      footprint: null,
      metaData: {
        jobName: 'sim-run',
        slurmInfo: 'JobId=4711 JobName=sim-run',
        submitTime: '1735732700',
      },
      concurrentJobs: { items: null, count: 0 },
      energy: 0,
      walltime: 3600,
      jobId: 4711,
      duration: 0,
      numNodes: 2,
      numHwthreads: 8,
      statistics: null,
      startTime: 1735732800,
    };
    const apiStart = {
      jobId: 1001,
      user: 'user002',
      ...tc,
      subCluster: 'main',
      partition: 'normal',
      project: 'proj002',
      numNodes: 2,
      numHwthreads: 128,
      numAcc: 0,
      walltime: 86400,
      resources: [{ hostname: 'node011' }, { hostname: 'node012' }],
      startTime: 1735732860,
    };
    const node = (hostname: string, states: string[], cpus: number, mem: number, jobs: number) => ({
      hostname,
      states,
      cpusAllocated: cpus,
      memoryAllocated: mem,
      gpusAllocated: 0,
      jobsRunning: jobs,
    });
    const libJob = {
      jobId: 4712,
      ...tc,
      user: 'user003',
      project: 'proj001',
      numNodes: 1,
      resources: [{ hostname: 'node004' }],
      startTime: 1735732920,
    };
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.messages, [
      m(
        4,
        'job',
        { function: 'start_job', ...adapter },
        { event: j(firstJob) },
        1735732800_000000000n,
      ),
      m(
        6,
        'job',
        {
          function: 'stop_job',
          hostname: 'ctrl01',
          partition: 'batch',
          type: 'node',
          'type-id': '0',
        },
        { event: j({ jobId: 4711, ...tc, jobState: 'completed', stopTime: 1735736400 }) },
        1735736400_000000000n,
      ),
      m(8, 'job', { function: 'start_job' }, { event: j(apiStart) }, 1735732860_000000000n),
      m(
        9,
        'job',
        { function: 'stop_job' },
        { event: j({ jobId: 1001, ...tc, stopTime: 1735734060, jobState: 'completed' }) },
        1735734060_000000000n,
      ),
      m(
        11,
        'nodestate',
        {},
        {
          event: j({
            ...tc,
            nodes: [
              node('node001', ['allocated'], 64, 256000, 1),
              node('node003', ['idle', 'down'], 0, 0, 0),
            ],
          }),
        },
        1735732830_000000000n,
      ),
      m(13, 'start_job', {}, { event: j(libJob) }, 1735732920_000000000n),
      m(
        14,
        'stop_job',
        {},
        { event: j({ ...libJob, duration: 600, jobState: 'completed' }) },
        1735732920_000000000n,
      ),
      m(
        16,
        'job',
        { ...tc, function: 'stop_job', hostname: 'mgmt01', type: 'node', 'type-id': '0' },
        { event: j({ jobId: 69, ...tc, stopTime: 1735740000, jobState: 'completed' }) },
        1735740000_000000000n,
      ),
      m(
        18,
        'myevent',
        { ...tc, hostname: 'login01' },
        { event: 'This is my event' },
        1735732805_000000000n,
      ),
    ]);
  });

  it('missing-cluster.lp: 6 valid lines without a cluster tag', () => {
    const r = decodeSample('missing-cluster.lp');
    const cb = { cluster: 'clusterb' };
    const node = {
      hostname: 'node101',
      states: ['mixed'],
      cpusAllocated: 32,
      memoryAllocated: 64000,
      gpusAllocated: 1,
      jobsRunning: 2,
    };
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.messages, [
      m(
        2,
        'job',
        { function: 'start_job', ...adapter },
        {
          event: j({
            jobId: 4730,
            ...cb,
            user: 'user004',
            project: 'proj003',
            numNodes: 1,
            resources: [{ hostname: 'node101' }],
            startTime: 1735733100,
          }),
        },
        1735733100_000000000n,
      ),
      m(
        3,
        'job',
        {
          function: 'stop_job',
          hostname: 'ctrl01',
          partition: 'batch',
          type: 'node',
          'type-id': '0',
        },
        { event: j({ jobId: 4730, ...cb, jobState: 'timeout', stopTime: 1735734300 }) },
        1735734300_000000000n,
      ),
      m(4, 'nodestate', {}, { event: j({ ...cb, nodes: [node] }) }, 1735733110_000000000n),
      m(
        6,
        'ccnc',
        { hostname: 'node101', type: 'node', 'type-id': '0', loglevel: 'info' },
        { log: 'controller started' },
        1735733111_000000000n,
      ),
      m(
        7,
        'myevent',
        { hostname: 'login01' },
        { event: 'plain text, no JSON' },
        1735733112_000000000n,
      ),
      m(
        9,
        'job',
        { function: 'stop_job', ...adapter },
        { event: j({ jobId: 4711, ...tc, jobState: 'completed', stopTime: 1735736400 }) },
        1735736400_000000000n,
      ),
    ]);
  });

  it('long-payload.lp: an 86 KB event, a 12 KB log and a 4.5 KB tag value, exact', () => {
    const r = decodeSample('long-payload.lp');
    const pad = (k: number, width: number) => String(k).padStart(width, '0');
    const steps = Array.from(
      { length: 879 },
      (_, k) =>
        `srun --ntasks=4 ./app --input "case_${pad(k, 5)}.dat" --output out_${pad(k, 5)}.h5 # step ${k}`,
    );
    const script =
      '#!/bin/bash\n#SBATCH --job-name=longscript\n#SBATCH --nodes=4\n#SBATCH --time=24:00:00\n' +
      `module load toolchain/2024a\n${steps.join(' \\\n')} \\`;
    const job = {
      ...tc,
      subCluster: 'main',
      partition: 'batch',
      project: 'proj001',
      user: 'user001',
      shared: 'none',
      resources: Array.from({ length: 64 }, (_, k) => ({
        hostname: `node${pad(k + 1, 3)}`,
        hwthreads: [0, 1, 2, 3, 4, 5, 6, 7],
      })),
      metaData: {
        jobName: 'longscript',
        slurmInfo:
          'JobId=4750 JobName=longscript\n   UserId=user001 GroupId=grp001\n   NodeList=node[001-064]',
        jobScript: script,
        submitTime: '1735732800',
      },
      jobId: 4750,
      numNodes: 64,
      numHwthreads: 512,
      walltime: 86400,
      startTime: 1735733500,
    };
    const log = Array.from(
      { length: 300 },
      (_, k) => `attempt ${k} failed: connection refused`,
    ).join('; ');
    const nodes = Array.from({ length: 500 }, (_, k) => `node${pad(k + 1, 3)}`).join(',');
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.messages, [
      m(
        2,
        'job',
        { ...tc, function: 'start_job', ...adapter },
        { event: j(job) },
        1735733500_000000000n,
      ),
      m(
        3,
        'ccb',
        { ...tc, hostname: 'server01', loglevel: 'warn' },
        { log: `retry ${log}` },
        1735733501_000000000n,
      ),
      m(
        4,
        'job',
        { ...tc, function: 'start_job', hostname: 'ctrl01', nodes },
        { event: j({ jobId: 4751, ...tc, numNodes: 500, startTime: 1735733502 }) },
        1735733502_000000000n,
      ),
    ]);
    // Longer than 64 KiB, where fixed line buffers (Go's bufio.Scanner) give up.
    assert.equal((r.messages[0]!.fields.event as string).length, 79391);
    assert.equal(r.messages[2]!.tags.nodes!.length, 3999);
  });
});
