/**
 * `GET /api/v1/jobs/{cluster}/{jobId}` on every backend, over the jobs of
 * ../shared/samples/job-events.lp plus host events and logs inside and outside each window.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { HttpApp } from '../../../../plugins/shared/http/app.ts';
import { readSample } from '../../../helpers/samples.ts';
import { apiOver, backends, recordsOf, writeAll, type OpenedStorage } from './backends.ts';

const s = (sec: number) => `${BigInt(sec) * 1_000_000_000n}`;

/** The stop of job 4711 as ../shared/samples/missing-cluster.lp repeats it. */
function repeatedStop4711(): string {
  const lines = readSample('missing-cluster.lp').toString('utf8').split('\n');
  return lines.find((l) => l.startsWith('job,function=stop_job') && l.includes('4711'))!;
}

// Host records: `in` inside a job's window, `out` outside it or on another cluster.
const HOSTS = [
  `hw,cluster=testcluster,hostname=node001 event="in-4711-a" ${s(1735733000)}`,
  `hw,cluster=testcluster,hostname=node001 event="out-4711-before" ${s(1735732799)}`,
  `hw,cluster=testcluster,hostname=node001 event="in-4711-at-stop" ${s(1735736400)}`,
  `hw,cluster=testcluster,hostname=node001 event="out-4711-after" ${s(1735736401)}`,
  `hw,cluster=clusterb,hostname=node001 event="out-other-cluster" ${s(1735733000)}`,
  `syslog,cluster=testcluster,hostname=node002,loglevel=error log="in-4711-log" ${s(1735734000)}`,
  // The stop of 4711 again from another sender, without the partition tag: the same run,
  // not a second one without a start.
  repeatedStop4711(),
  `hw,cluster=testcluster,hostname=node011 event="in-1001" ${s(1735733000)}`,
  `syslog,cluster=testcluster,hostname=node004 log="in-4712-log" ${s(1735733520)}`,
  `syslog,cluster=testcluster,hostname=node004 log="out-4712-log" ${s(1735733521)}`,
  // A requeued job: two runs under one jobId, told apart by startTime.
  `job,function=start_job,hostname=ctrl01 event="{\\"jobId\\":5000,\\"cluster\\":\\"testcluster\\",\\"resources\\":[{\\"hostname\\":\\"node005\\"}],\\"startTime\\":1735740000}" ${s(1735740000)}`,
  `job,function=stop_job,hostname=ctrl01 event="{\\"jobId\\":5000,\\"cluster\\":\\"testcluster\\",\\"jobState\\":\\"requeued\\",\\"stopTime\\":1735740100}" ${s(1735740100)}`,
  `job,function=start_job,hostname=ctrl01 event="{\\"jobId\\":5000,\\"cluster\\":\\"testcluster\\",\\"resources\\":[{\\"hostname\\":\\"node006\\"}],\\"startTime\\":1735740200}" ${s(1735740200)}`,
  `job,function=stop_job,hostname=ctrl01 event="{\\"jobId\\":5000,\\"cluster\\":\\"testcluster\\",\\"jobState\\":\\"completed\\",\\"stopTime\\":1735740300}" ${s(1735740300)}`,
  `hw,cluster=testcluster,hostname=node005 event="in-5000-run1" ${s(1735740050)}`,
  `hw,cluster=testcluster,hostname=node006 event="in-5000-run2" ${s(1735740250)}`,
  `hw,cluster=testcluster,hostname=node006 event="out-5000-run1" ${s(1735740050)}`,
].join('\n');

interface Item {
  name: string;
  payload: string;
  time: string;
}
interface Run {
  start_time: number | null;
  start: Item | null;
  stop: Item | null;
  from: string | null;
  to: string | null;
  hosts: string[];
  events: Item[];
  logs: Item[];
  truncated: boolean;
}

/** A run reduced to what the test compares: payload heads and times. */
function brief(run: Run) {
  const head = (i: Item | null) => (i ? `${i.name}@${i.time}` : null);
  return {
    start_time: run.start_time,
    start: head(run.start),
    stop: head(run.stop),
    from: run.from,
    to: run.to,
    hosts: run.hosts,
    events: run.events.map((e) => e.payload),
    logs: run.logs.map((e) => e.payload),
    truncated: run.truncated,
  };
}

for (const backend of await backends()) {
  describe(`job view: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStorage;
    let app: HttpApp;
    before(async () => {
      opened = await backend.open();
      await writeAll(opened.storage, recordsOf(readSample('job-events.lp').toString('utf8')));
      await writeAll(opened.storage, recordsOf(HOSTS));
      app = await apiOver(opened.storage);
    });
    after(async () => {
      await app?.close();
      await opened?.close();
    });

    const job = async (path: string) => {
      const res = await app.inject({ method: 'GET', url: `/api/v1/jobs/${path}` });
      assert.equal(res.statusCode, 200, res.body);
      return (res.json() as { runs: Run[] }).runs.map(brief);
    };

    test('adapter job 4711: no cluster tag, adapter hostname; its hosts in the window', async () => {
      assert.deepEqual(await job('testcluster/4711'), [
        {
          start_time: 1735732800,
          start: `job@${s(1735732800)}`,
          stop: `job@${s(1735736400)}`,
          from: s(1735732800),
          to: s(1735736400),
          hosts: ['node001', 'node002'],
          events: ['in-4711-a', 'in-4711-at-stop'],
          logs: ['in-4711-log'],
          truncated: false,
        },
      ]);
    });

    test('documentation-shaped job 1001 (function tag only)', async () => {
      assert.deepEqual(await job('testcluster/1001'), [
        {
          start_time: 1735732860,
          start: `job@${s(1735732860)}`,
          stop: `job@${s(1735734060)}`,
          from: s(1735732860),
          to: s(1735734060),
          hosts: ['node011', 'node012'],
          events: ['in-1001'],
          logs: [],
          truncated: false,
        },
      ]);
    });

    test('cc-lib job 4712: stop at the start time, window from its duration', async () => {
      assert.deepEqual(await job('testcluster/4712'), [
        {
          start_time: 1735732920,
          start: `start_job@${s(1735732920)}`,
          stop: `stop_job@${s(1735732920)}`,
          from: s(1735732920),
          to: s(1735733520),
          hosts: ['node004'],
          events: [],
          logs: ['in-4712-log'],
          truncated: false,
        },
      ]);
    });

    test('spec-shaped job 69: a stop without a start, no window', async () => {
      assert.deepEqual(await job('testcluster/69'), [
        {
          start_time: null,
          start: null,
          stop: `job@${s(1735740000)}`,
          from: null,
          to: s(1735740000),
          hosts: [],
          events: [],
          logs: [],
          truncated: false,
        },
      ]);
    });

    test('a requeued job gives one run per start; startTime picks one', async () => {
      const runs = await job('testcluster/5000');
      assert.deepEqual(
        runs.map((r) => [r.start_time, r.stop, r.hosts, r.events]),
        [
          [1735740000, `job@${s(1735740100)}`, ['node005'], ['in-5000-run1']],
          [1735740200, `job@${s(1735740300)}`, ['node006'], ['in-5000-run2']],
        ],
      );
      const second = await job('testcluster/5000?startTime=1735740200');
      assert.deepEqual(second, [runs[1]]);
    });

    test('unknown jobs, clusters and start times are 404', async () => {
      for (const path of ['testcluster/9999', 'clusterb/4711', 'testcluster/4711?startTime=1']) {
        const res = await app.inject({ method: 'GET', url: `/api/v1/jobs/${path}` });
        assert.equal(res.statusCode, 404, path);
        assert.equal(res.json().code, 'CCES_ERR_JOB_NOT_FOUND');
      }
    });
  });
}
