/**
 * `GET /api/v1/analytics/counts` on every backend: one fixed data set, exact counts, the same
 * answer from SQLite, DuckDB and Postgres.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { recordKey } from '../../../../core/record.ts';
import type { HttpApp } from '../../../../plugins/shared/http/app.ts';
import { apiOver, backends, recordsOf, writeAll, type OpenedStorage } from './backends.ts';

const T = 1735732800n; // 2025-01-01T12:00:00Z, a whole hour
const at = (s: bigint) => `${(T + s) * 1_000_000_000n}`;
const H = (h: number) => String((T + BigInt(h) * 3600n) * 1_000_000_000n);

const EVENTS = [
  `job,cluster=c1,function=start_job,hostname=ctrl01 event="{\\"jobId\\":1,\\"jobState\\":\\"running\\",\\"partition\\":\\"batch\\"}" ${at(0n)}`,
  `job,cluster=c1,function=stop_job,hostname=ctrl01,partition=batch event="{\\"jobId\\":1,\\"jobState\\":\\"completed\\"}" ${at(600n)}`,
  `job,cluster=c1,function=stop_job,hostname=ctrl01,partition=gpu event="{\\"jobId\\":2,\\"jobState\\":\\"failed\\"}" ${at(3700n)}`,
  `nodestate,cluster=c1,hostname=node001 event="{\\"state\\":\\"idle\\",\\"ok\\":true}" ${at(60n)}`,
  `nodestate,cluster=c1,hostname=node002 event="{\\"state\\":\\"down\\",\\"ok\\":false}" ${at(120n)}`,
  `nodestate,cluster=c2,hostname=node001 event="not json at all" ${at(3601n)}`,
  `myevent,cluster=c1,hostname=node001 event="{\\"jobState\\":\\"completed\\",\\"n\\":7}" ${at(7200n)}`,
  `myevent,cluster=c1,hostname=node001 event="{\\"jobState\\":" ${at(7201n)}`,
  `job,cluster=c1,function=start_job,hostname=ctrl01,partition=batch event="{\\"jobId\\":3,\\"jobState\\":\\"running\\"}" ${at(-1n)}`,
  `myevent,cluster=c1 event="old" ${at(0n)}`,
].join('\n');

const LOGS = [
  `syslog,cluster=c1,hostname=node001,loglevel=ERROR log="disk fail" ${at(10n)}`,
  `syslog,cluster=c1,hostname=node001,level=info log="ok" ${at(20n)}`,
  `syslog,cluster=c1,hostname=node002,loglevel=error log="disk fail" ${at(3610n)}`,
  `ctrl,cluster=c1,hostname=ctrl01 log="{\\"jobState\\":\\"x\\"}" ${at(30n)}`,
].join('\n');

function dataSet() {
  const events = recordsOf(EVENTS);
  // The last event moves before the epoch (the decoder takes no negative times): buckets
  // must floor, not truncate toward zero.
  const old = events[events.length - 1]!;
  old.time = -30_000_000_000n;
  old.key = recordKey(old);
  return { events, logs: recordsOf(LOGS) };
}

type Row = { start: string | null; group: Record<string, string | null>; count: number };

for (const backend of await backends()) {
  describe(`analytics counts: ${backend.name}`, { skip: backend.skip }, () => {
    let opened: OpenedStorage;
    let app: HttpApp;
    before(async () => {
      opened = await backend.open();
      const { events, logs } = dataSet();
      await writeAll(opened.storage, events);
      await writeAll(opened.storage, logs);
      app = await apiOver(opened.storage);
    });
    after(async () => {
      await app?.close();
      await opened?.close();
    });

    const counts = async (qs: string): Promise<Row[]> => {
      const res = await app.inject({ method: 'GET', url: `/api/v1/analytics/counts?${qs}` });
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { buckets: Array<Row & { rfc3339: string | null }> };
      return body.buckets.map(({ start, group, count }) => ({ start, group, count }));
    };
    const refused = async (qs: string) => {
      const res = await app.inject({ method: 'GET', url: `/api/v1/analytics/counts?${qs}` });
      assert.equal(res.statusCode, 400, `${qs}: ${res.body}`);
      assert.equal(res.json().code, 'CCES_ERR_QUERY_INVALID');
    };

    test('events per hour by name, buckets floored to the epoch', async () => {
      assert.deepEqual(await counts('group_by=name&bucket=1h'), [
        { start: '-3600000000000', group: { name: 'myevent' }, count: 1 },
        { start: H(-1), group: { name: 'job' }, count: 1 },
        { start: H(0), group: { name: 'job' }, count: 2 },
        { start: H(0), group: { name: 'nodestate' }, count: 2 },
        { start: H(1), group: { name: 'job' }, count: 1 },
        { start: H(1), group: { name: 'nodestate' }, count: 1 },
        { start: H(2), group: { name: 'myevent' }, count: 2 },
      ]);
    });

    test('a bucket carries its start as RFC 3339', async () => {
      const res = await app.inject({
        method: 'GET',
        url: `/api/v1/analytics/counts?bucket=24h&from=${T}&to=${T + 3600n}`,
      });
      assert.deepEqual(res.json(), {
        buckets: [
          { start: '1735689600000000000', rfc3339: '2025-01-01T00:00:00Z', group: {}, count: 4 },
        ],
      });
    });

    test('a range starting before the epoch and off a bucket edge still floors', async () => {
      assert.deepEqual(await counts(`group_by=name&bucket=1h&from=-100&to=${T}`), [
        { start: '-3600000000000', group: { name: 'myevent' }, count: 1 },
        { start: H(-1), group: { name: 'job' }, count: 1 },
      ]);
    });

    test('by a tag and a JSON value, missing values as null and sorted last', async () => {
      const g = (partition: string | null, state: string | null) => ({
        'tag.partition': partition,
        'json.$.jobState': state,
      });
      assert.deepEqual(await counts('group_by=tag.partition,json.$.jobState&cluster=c1'), [
        { start: null, group: g(null, null), count: 4 },
        { start: null, group: g('batch', 'completed'), count: 1 },
        { start: null, group: g('batch', 'running'), count: 1 },
        { start: null, group: g('gpu', 'failed'), count: 1 },
        { start: null, group: g(null, 'completed'), count: 1 },
        { start: null, group: g(null, 'running'), count: 1 },
      ]);
    });

    test('top keeps the largest groups over the range; ties go to the first name', async () => {
      assert.deepEqual(await counts('group_by=name&bucket=1h&top=2'), [
        { start: '-3600000000000', group: { name: 'myevent' }, count: 1 },
        { start: H(-1), group: { name: 'job' }, count: 1 },
        { start: H(0), group: { name: 'job' }, count: 2 },
        { start: H(1), group: { name: 'job' }, count: 1 },
        { start: H(2), group: { name: 'myevent' }, count: 2 },
      ]);
    });

    test('filters on JSON values: booleans, integers', async () => {
      assert.deepEqual(await counts('group_by=hostname&json.$.ok=true'), [
        { start: null, group: { hostname: 'node001' }, count: 1 },
      ]);
      assert.deepEqual(await counts('group_by=hostname&json.$.ok=false'), [
        { start: null, group: { hostname: 'node002' }, count: 1 },
      ]);
      assert.deepEqual(await counts('group_by=function&json.$.jobId=1'), [
        { start: null, group: { function: 'start_job' }, count: 1 },
        { start: null, group: { function: 'stop_job' }, count: 1 },
      ]);
    });

    test('logs by level within a time range, and with a level filter', async () => {
      const range = `from=${T}&to=${T + 7200n}`;
      assert.deepEqual(await counts(`kind=log&group_by=loglevel&bucket=1h&${range}`), [
        { start: H(0), group: { loglevel: 'error' }, count: 1 },
        { start: H(0), group: { loglevel: 'info' }, count: 1 },
        { start: H(0), group: { loglevel: null }, count: 1 },
        { start: H(1), group: { loglevel: 'error' }, count: 1 },
      ]);
      assert.deepEqual(await counts('kind=log&group_by=hostname&level=ERROR'), [
        { start: null, group: { hostname: 'node001' }, count: 1 },
        { start: null, group: { hostname: 'node002' }, count: 1 },
      ]);
    });

    test('the usual filters apply: cluster, name, hostname, text', async () => {
      assert.deepEqual(await counts('cluster=c2'), [{ start: null, group: {}, count: 1 }]);
      assert.deepEqual(await counts('name=job&hostname=ctrl01&group_by=cluster'), [
        { start: null, group: { cluster: 'c1' }, count: 4 },
      ]);
      assert.deepEqual(await counts('text=JOBSTATE&group_by=name'), [
        { start: null, group: { name: 'job' }, count: 4 },
        { start: null, group: { name: 'myevent' }, count: 2 },
      ]);
      assert.deepEqual(await counts('cluster=nowhere&group_by=name'), []);
    });

    test('array indexes to 2^31-1 read alike; larger ones and leading zeros: 400', async () => {
      const message = async (qs: string) => {
        const res = await app.inject({ method: 'GET', url: `/api/v1/analytics/counts?${qs}` });
        return [res.statusCode, res.json().code, res.json().message];
      };
      assert.deepEqual(await counts('group_by=json.$.a[2147483647]&name=nodestate'), [
        { start: null, group: { 'json.$.a[2147483647]': null }, count: 3 },
      ]);
      assert.deepEqual(await counts('json.$.a[2147483647]=1'), []);
      assert.deepEqual(await message('group_by=json.$.a[18446744073709551615]'), [
        400,
        'CCES_ERR_QUERY_INVALID',
        'group_by: JSON path "$.a[18446744073709551615]" has an array index above 2147483647',
      ]);
      assert.deepEqual(await message('json.$.a[2147483648]=1'), [
        400,
        'CCES_ERR_QUERY_INVALID',
        'json.$.a[2147483648]: JSON path "$.a[2147483648]" has an array index above 2147483647',
      ]);
      assert.deepEqual(await message('group_by=json.$.a[01]'), [
        400,
        'CCES_ERR_QUERY_INVALID',
        'group_by: JSON path "$.a[01]" is not of the form $.key, $.key.sub or $.list[0] ' +
          '(an index without leading zeros)',
      ]);
    });

    test('100 tag and 100 JSON filters are taken; more are a 400 naming the limit', async () => {
      const many = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => `${prefix}k${i}=v`).join('&');
      assert.deepEqual(await counts(`${many('tag.', 100)}&${many('json.$.', 100)}`), []);
      for (const [qs, message] of [
        [many('tag.', 101), 'tag.<key>: at most 100 filters, found 101'],
        [many('tag.', 999), 'tag.<key>: at most 100 filters, found 999'],
        [many('json.$.', 999), 'json.<path>: at most 100 filters, found 999'],
      ]) {
        const res = await app.inject({ method: 'GET', url: `/api/v1/analytics/counts?${qs}` });
        assert.equal(res.statusCode, 400);
        assert.deepEqual(res.json(), { code: 'CCES_ERR_QUERY_INVALID', message });
      }
    });

    test('bad buckets, paths and group keys are refused with 400', async () => {
      await refused('bucket=30s');
      await refused('bucket=25h');
      await refused('bucket=soon');
      await refused("group_by=json.$.a'b");
      await refused('group_by=json.$.a;DROP TABLE events');
      await refused(`json.${encodeURIComponent('$..a')}=1`);
      await refused('group_by=payload');
      await refused('top=0');
      await refused('from=1735736400&to=1735732800');
    });
  });
}
