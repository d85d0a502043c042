/**
 * Escaping and field types of the samples: the exact strings, names, tags and values the
 * files' "# expect" comments state.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSample, m, nul } from './expect.ts';

/** Compact JSON, exactly as the samples write their payloads. */
const j = (value: unknown): string => JSON.stringify(value);

const tc = { cluster: 'testcluster' };

describe('line-protocol samples: text and types', () => {
  it('json-escaping.lp: the exact decoded strings of the "# expect event" comments', () => {
    const r = decodeSample('json-escaping.lp');
    const events = r.messages.map((msg) => msg.fields.event);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(events, [
      '{"jobName":"say \\"hi\\""}',
      '{"workdir":"C:\\\\scratch\\\\run1"}',
      '{"pattern":"^node\\\\d+$"}',
      '{"jobScript":"#!/bin/bash\\n#SBATCH -N 2\\nsrun ./app"}',
      '{"jobScript":"#!/bin/bash\n#SBATCH -N 2\nsrun ./app"}',
      'trailing backslash \\',
      'path C:\temp\\x',
      'a=b, c=d "quoted"',
      '',
      '{"comment":"Pr\\u00fcfung"}',
    ]);
    assert.deepEqual(
      r.messages.map((msg) => msg.line),
      [4, 6, 8, 10, 12, 14, 16, 18, 20, 22],
    );
    assert.deepEqual(
      r.messages.map((msg) => msg.time),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(
        (k) => 1735732800_000000000n + BigInt(k) * 1_000_000_000n,
      ),
    );
    const start = { ...tc, function: 'start_job', hostname: 'ctrl01' };
    for (const msg of r.messages.slice(0, 5)) assert.deepEqual(msg.tags, nul(start));
    for (const msg of r.messages.slice(5))
      assert.deepEqual(msg.tags, nul({ ...tc, hostname: 'node001' }));
    assert.equal(JSON.parse(events[0] as string).jobName, 'say "hi"');
    assert.equal(JSON.parse(events[9] as string).comment, 'Prüfung');
  });

  it('logs.lp: 8 valid lines, stack traces with real line feeds, one integer log field', () => {
    const r = decodeSample('logs.lp');
    const node = (id: string, level: string) => ({
      ...tc,
      type: 'node',
      'type-id': id,
      loglevel: level,
    });
    const ctrl = (method: string) => ({
      hostname: 'node001',
      method,
      type: 'socket',
      'type-id': '0',
      level: 'INFO',
    });
    const topo = {
      hwthreads: [
        { id: 0, core: 0, socket: 0 },
        { id: 1, core: 1, socket: 0 },
      ],
      cpu_info: { model: 'Generic CPU', sockets: 1 },
    };
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.messages, [
      m(
        2,
        'ccb',
        { ...node('1', 'info'), hostname: 'server01' },
        { log: 'component: archiver cluster: testcluster jobId: 232383 - archiving finished' },
        1735732840_000000000n,
      ),
      m(
        3,
        'ccms',
        { ...node('0', 'warn'), hostname: 'server01' },
        { log: 'checkpoint took 12.5s' },
        1735732841_000000000n,
      ),
      m(
        4,
        'ccmc',
        { ...node('0', 'error'), hostname: 'node001' },
        { log: 'collector likwid: cannot open /dev/cpu/0/msr: permission denied' },
        1735732842_000000000n,
      ),
      m(
        5,
        'ccem',
        { ...node('0', 'debug'), hostname: 'server02' },
        { log: 'search interval narrowed to [123, 300] W\nnext probe in 120s' },
        1735732843_000000000n,
      ),
      m(
        7,
        'ccb',
        { ...node('0', 'error'), hostname: 'server01' },
        {
          log: 'panic: runtime error: index out of range [0] with length 0\n\ngoroutine 42 [running]:\nmain.handler()\n\t/src/api.go:118 +0x1d',
        },
        1735732844_000000000n,
      ),
      m(
        9,
        'rapl.pkg_power_limit1',
        ctrl('PUT'),
        { log: "Set 'rapl.pkg_power_limit1' for device 'socket:0': SUCCESS!" },
        1735732845_000000000n,
      ),
      m(11, 'topology', { ...ctrl('GET'), type: 'node' }, { log: j(topo) }, 1735732846_000000000n),
      m(
        13,
        'ccb',
        { ...tc, hostname: 'server01', loglevel: 'info' },
        { log: 1n },
        1735732847_000000000n,
      ),
    ]);
  });

  it('tag-escaping.lp: the exact names, tag keys and values of the "# expect" comments', () => {
    const r = decodeSample('tag-escaping.lp');
    const n1 = { ...tc, hostname: 'node001' };
    const t = (k: number) => 1735732810_000000000n + BigInt(k) * 1_000_000_000n;
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.messages, [
      m(
        3,
        'fs_event',
        { ...n1, stype: 'filesystem', 'stype-id': '/home shared', type: 'node', 'type-id': '0' },
        { event: 'quota exceeded' },
        t(1),
      ),
      m(5, 'fs_event', { ...tc, hostname: 'node,001', partition: 'a=b' }, { event: 'x' }, t(2)),
      m(7, 'fs_event', { ...tc, 'my key': 'v1', 'k=x': 'v2' }, { event: 'x' }, t(3)),
      m(9, 'job event,v2', n1, { event: 'x' }, t(4)),
      m(11, 'state=change', n1, { event: 'x' }, t(5)),
      m(13, 'fs_event', { ...n1, stype: 'disk', 'stype-id': 'C:\\data' }, { event: 'x' }, t(6)),
      m(15, 'fs_event', { ...n1, stype: 'disk', 'stype-id': 'a\\\\b' }, { event: 'x' }, t(7)),
      m(
        17,
        'gpu_xid',
        { ...tc, hostname: 'node005', type: 'accelerator', 'type-id': '00000000:49:00.0' },
        { event: '{"xid":79}' },
        t(8),
      ),
      m(
        19,
        'ccb',
        { ...tc, hostname: 'server01', loglevel: '"info"' },
        { log: 'quoted tag value' },
        t(9),
      ),
      m(21, 'fs_event', { ...tc, hostname: 'node002' }, { event: 'dup' }, t(10)),
    ]);
  });

  it('mixed-types.lp: 12 valid lines of every field type', () => {
    const r = decodeSample('mixed-types.lp');
    const n1 = { ...tc, hostname: 'node001' };
    const socket = { hostname: 'node001', type: 'socket', 'type-id': '0' };
    const node = { ...n1, type: 'node', 'type-id': '0' };
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.messages, [
      m(3, 'cpu_load', node, { value: 3.25 }, 1735732800_000000000n),
      m(5, 'mem_used', { ...node, unit: 'MB' }, { value: 64000n }, 1735732800_000000000n),
      m(
        7,
        'rapl',
        { ...socket, method: 'GET' },
        { control: 'intel.pkg.energy_status' },
        1735732870_000000000n,
      ),
      m(
        9,
        'rapl.pkg_power_limit1',
        { ...socket, method: 'PUT' },
        { control: '250' },
        1735732871_000000000n,
      ),
      m(11, 'rapl', socket, { control: 'x' }, 1735732872_000000000n),
      m(
        13,
        'topology',
        { hostname: 'node001', method: 'GET', type: 'node', 'type-id': '0' },
        { value: 0 },
        1735732873_000000000n,
      ),
      m(15, 'metrics_query', tc, { query: 'SELECT 1' }, 1735732874_000000000n),
      m(17, 'myevent', n1, { event: 'ok' }, 1735732875_000000000n),
      m(19, 'myevent', n1, { event: 1n }, 1735732876_000000000n),
      m(21, 'mixed', n1, { value: 1, event: 'both' }, 1735732877_000000000n),
      m(
        23,
        'myevent',
        n1,
        { event: 'with extras', severity: 'high', code: 17n },
        1735732878_000000000n,
      ),
      m(
        25,
        'ccmc',
        { ...n1, loglevel: 'warn' },
        { log: 'disk almost full' },
        1735732879_000000000n,
      ),
    ]);
  });
});
