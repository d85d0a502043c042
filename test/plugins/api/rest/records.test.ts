import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../../core/lineproto/index.ts';
import { nowNanos } from '../../../../core/time.ts';
import { makeApi, type ApiFixture } from './fixture.ts';

const INPUT = [
  'job,cluster=alpha,hostname=n1,function=start_job,type=node,type-id=0 event="{\\"jobId\\":1}" 1735732800000000000',
  'job,cluster=alpha,hostname=n2,function=stop_job,type=node,type-id=1 event="{\\"jobId\\":1,\\"state\\":\\"done\\"}" 1735732801000000000',
  'note,cluster=alpha,hostname=n1,stype=disk,stype-id=sda event="Disk FULL" 1735732802500000000',
  'note,cluster=beta,hostname=n1,partition=p1 event="hello" 1735732803000000000',
  'note,cluster=gamma,hostname=n3 event="x",code=7i,ok=true,ratio=0.5,msg="m" 1735732804000000000',
  'ccb,cluster=alpha,hostname=s1,loglevel=info log="started" 1735732805000000000',
  'ccb,cluster=alpha,hostname=s1,loglevel=ERROR log="failed \\"hard\\", twice\\nline2" 1735732806000000000',
  'ctl,cluster=beta,hostname=n1,level=error log="ctl err" 1735732807000000000',
].join('\n');

/** Events in ascending time order, by payload. */
const EVENTS = ['{"jobId":1}', '{"jobId":1,"state":"done"}', 'Disk FULL', 'hello', 'x'];

describe('GET /api/v1/events and /api/v1/logs', () => {
  let f: ApiFixture;
  let t0: bigint;
  let t1: bigint;

  const get = (url: string) => f.app.inject({ url });
  const payloads = async (url: string) => {
    const res = await get(url);
    assert.equal(res.statusCode, 200, res.body);
    return (res.json().items as { payload: string }[]).map((i) => i.payload);
  };

  before(async () => {
    f = await makeApi();
    t0 = nowNanos();
    const res = await f.app.inject({ method: 'POST', url: '/api/write', payload: INPUT });
    t1 = nowNanos();
    assert.equal(res.statusCode, 204);
  });
  after(() => f.close());

  it('answers the newest first with every field of an item', async () => {
    const res = await get('/api/v1/events');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    const body = res.json();
    assert.equal(body.next_cursor, null);
    assert.deepEqual(
      body.items.map((i: { payload: string }) => i.payload),
      [...EVENTS].reverse(),
    );

    const [first, , third] = body.items;
    const receivedAt = BigInt(first.received_at);
    assert.ok(receivedAt >= t0 && receivedAt <= t1);
    assert.deepEqual(first, {
      name: 'note',
      cluster: 'gamma',
      tags: { hostname: 'n3' },
      payload: 'x',
      extra: { code: 7, msg: 'm', ok: true, ratio: 0.5 },
      time: '1735732804000000000',
      timestamp: 1735732804,
      rfc3339: '2025-01-01T12:00:04Z',
      received_at: first.received_at,
    });
    assert.deepEqual(third, {
      name: 'note',
      cluster: 'alpha',
      tags: { hostname: 'n1', stype: 'disk', 'stype-id': 'sda' },
      payload: 'Disk FULL',
      extra: {},
      time: '1735732802500000000',
      timestamp: 1735732802.5,
      rfc3339: '2025-01-01T12:00:02.5Z',
      received_at: first.received_at,
    });
  });

  it('filters by cluster (repeated or comma-separated), host, name and tags', async () => {
    const e = (...i: number[]) => i.map((n) => EVENTS[n]);
    const cases: [string, (string | undefined)[]][] = [
      ['cluster=alpha', e(2, 1, 0)],
      ['cluster=alpha,beta', e(3, 2, 1, 0)],
      ['cluster=alpha&cluster=gamma', e(4, 2, 1, 0)],
      ['hostname=n1', e(3, 2, 0)],
      ['hostname=n1&hostname=n3', e(4, 3, 2, 0)],
      ['name=job', e(1, 0)],
      ['type=node&type-id=1', e(1)],
      ['stype=disk&stype-id=sda', e(2)],
      ['function=start_job', e(0)],
      ['tag.partition=p1', e(3)],
      ['tag.hostname=n1&tag.stype=disk', e(2)],
      ['text=disk', e(2)],
      ['jobId=1', e(1, 0)],
      ['cluster=nope', []],
    ];
    for (const [query, expected] of cases) {
      assert.deepEqual(await payloads(`/api/v1/events?${query}`), expected, query);
    }
  });

  it('reads from (inclusive) and to (exclusive) as seconds, decimals, RFC 3339 or with precision', async () => {
    const cases: [string, string[]][] = [
      ['from=1735732801&to=1735732803&order=asc', [EVENTS[1]!, EVENTS[2]!]],
      ['from=1735732802.5&order=asc', [EVENTS[2]!, EVENTS[3]!, EVENTS[4]!]],
      ['from=2025-01-01T12:00:02.5Z&to=2025-01-01T12:00:04Z&order=asc', [EVENTS[2]!, EVENTS[3]!]],
      ['from=1735732802500&precision=ms&to=1735732802501&order=asc', [EVENTS[2]!]],
    ];
    for (const [query, expected] of cases) {
      assert.deepEqual(await payloads(`/api/v1/events?${query}`), expected, query);
    }
    assert.deepEqual(await payloads('/api/v1/events?to=1735732801000000000&precision=ns'), [
      EVENTS[0],
    ]);
  });

  it('filters logs by loglevel or level, case-insensitively', async () => {
    assert.deepEqual(await payloads('/api/v1/logs?loglevel=error'), [
      'ctl err',
      'failed "hard", twice\nline2',
    ]);
    assert.deepEqual(await payloads('/api/v1/logs?level=INFO'), ['started']);
    assert.deepEqual(await payloads('/api/v1/logs?loglevel=info&level=Error&order=asc'), [
      'started',
      'failed "hard", twice\nline2',
      'ctl err',
    ]);
    assert.deepEqual(await payloads('/api/v1/logs?order=asc'), [
      'started',
      'failed "hard", twice\nline2',
      'ctl err',
    ]);
  });

  it('pages through every event with the cursor, in both orders', async () => {
    for (const order of ['asc', 'desc']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = cursor === null ? '' : `&cursor=${cursor}`;
        const res = await get(`/api/v1/events?order=${order}&limit=2${q}`);
        assert.equal(res.statusCode, 200);
        const body = res.json();
        seen.push(...body.items.map((i: { payload: string }) => i.payload));
        cursor = body.next_cursor;
        pages++;
      } while (cursor !== null);
      assert.equal(pages, 3);
      assert.deepEqual(seen, order === 'asc' ? EVENTS : [...EVENTS].reverse());
    }
  });

  it('answers 400 for a bad cursor, limit, time or parameter', async () => {
    const cases: [string, string][] = [
      ['cursor=xyz', 'cursor is not valid; pass the next_cursor of a previous answer unchanged'],
      [
        'cursor=dDE6MjpA',
        'cursor is not valid; pass the next_cursor of a previous answer unchanged',
      ],
      ['limit=10001', 'querystring/limit must be <= 10000'],
      ['limit=0', 'querystring/limit must be >= 1'],
      ['limit=ten', 'querystring/limit must be integer'],
      [
        'from=yesterday',
        'from: "yesterday" is neither a Unix time in s nor RFC 3339 (such as 2025-01-01T12:00:00Z)',
      ],
      [
        'to=1735732802500000001&precision=ms',
        'to: "1735732802500000001" is out of range: Unix times in ms run from ' +
          '-9223372036854 to 9223372036854 (years 1677 to 2262)',
      ],
      [
        'from=99999999999999999999999',
        'from: "99999999999999999999999" is out of range: Unix times in s run from ' +
          '-9223372036 to 9223372036 (years 1677 to 2262)',
      ],
      [
        'from=-99999999999999.5',
        'from: "-99999999999999.5" is out of range: Unix times in s run from ' +
          '-9223372036 to 9223372036 (years 1677 to 2262)',
      ],
      [
        'from=1000-01-01T00:00:00Z',
        'from: "1000-01-01T00:00:00Z" is out of range (years 1677 to 2262)',
      ],
      ['order=up', 'querystring/order must be one of asc, desc'],
      ['hostnme=n1', 'querystring: unknown parameter "hostnme"'],
      ['format=xml', 'querystring/format must be one of json, ndjson, csv, lp'],
    ];
    for (const [query, message] of cases) {
      const res = await get(`/api/v1/events?${query}`);
      assert.equal(res.statusCode, 400, query);
      assert.deepEqual(res.json(), { code: 'CCES_ERR_QUERY_INVALID', message }, query);
    }
  });

  it('answers 400 for from after to on events and logs; from equal to to is empty', async () => {
    const cases: [string, string][] = [
      ['from=1735732803&to=1735732801', 'from (1735732803) must not be after to (1735732801)'],
      [
        'from=2025-01-01T12:00:03Z&to=1735732802999&precision=ms',
        'from (2025-01-01T12:00:03Z) must not be after to (1735732802999)',
      ],
    ];
    for (const [query, message] of cases) {
      for (const route of ['/api/v1/events', '/api/v1/logs']) {
        const res = await get(`${route}?${query}`);
        assert.equal(res.statusCode, 400, `${route}?${query}`);
        assert.deepEqual(res.json(), { code: 'CCES_ERR_QUERY_INVALID', message });
      }
    }
    assert.deepEqual(await payloads('/api/v1/events?from=1735732801&to=1735732801'), []);
  });

  const refused = async (query: string, message: string) => {
    const res = await get(`/api/v1/events?${query}`);
    assert.equal(res.statusCode, 400, query);
    assert.deepEqual(res.json(), { code: 'CCES_ERR_QUERY_INVALID', message }, query);
  };

  it('answers 400 for impossible dates and times instead of rolling them over', async () => {
    const no = (text: string, why: string): [string, string] => [
      `from=${text}`,
      `from: "${text}" is no real date and time: ${why}`,
    ];
    const cases = [
      no('2025-02-30T00:00:00Z', '2025-02 has days 01 to 28'),
      no('2025-02-29T00:00:00Z', '2025-02 has days 01 to 28'),
      no('2024-04-31T00:00:00Z', '2024-04 has days 01 to 30'),
      no('2025-01-00T00:00:00Z', '2025-01 has days 01 to 31'),
      no('2025-01-01T24:00:00Z', 'hours run from 00 to 23 (midnight is 00:00 of the next day)'),
      no('2025-01-01T23:60:00Z', 'minutes and seconds run from 00 to 59'),
      no('2025-13-45T00:00:00Z', 'there is no month 13'),
    ];
    for (const [query, message] of cases) await refused(query, message);
    assert.deepEqual(
      await payloads('/api/v1/events?from=2024-02-29T00:00:00Z&to=2024-03-01T00:00:00Z'),
      [],
    );
  });

  it('hints at %2B when the "+" of an offset arrived as a space', async () => {
    await refused(
      'from=2025-01-01T13:00:02.5+01:00',
      'from: "2025-01-01T13:00:02.5 01:00" is neither a Unix time in s nor RFC 3339 (such as ' +
        '2025-01-01T12:00:00Z); if the offset was "+hh:mm", encode the "+" as %2B',
    );
    const encoded = '/api/v1/events?from=2025-01-01T13:00:02.5%2B01:00&order=asc';
    assert.deepEqual(await payloads(encoded), [EVENTS[2], EVENTS[3], EVENTS[4]]);
  });

  it('answers 400 naming a one-value parameter given more than once', async () => {
    await refused('limit=1&limit=2', 'querystring/limit must be given once, not 2 times');
    await refused('format=csv&format=lp', 'querystring/format must be given once, not 2 times');
    await refused('tag.a=1&tag.a=2&tag.a=3', 'querystring/tag.a must be given once, not 3 times');
    await refused('text=a&text=b', 'querystring/text must be given once, not 2 times');
  });

  it('takes 100 tag filters; more are a 400 naming the limit, on events and logs', async () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `tag.k${i}=v`).join('&');
    assert.deepEqual(await payloads(`/api/v1/events?${tags(100)}`), []);
    for (const [route, n] of [
      ['events', 101],
      ['logs', 999],
    ] as const) {
      const res = await get(`/api/v1/${route}?${tags(n)}`);
      assert.equal(res.statusCode, 400, route);
      assert.deepEqual(res.json(), {
        code: 'CCES_ERR_QUERY_INVALID',
        message: `tag.<key>: at most 100 filters, found ${n}`,
      });
    }
  });

  it('answers 400 for an empty cluster name, alone or between commas', async () => {
    const empty = (v: string) =>
      `cluster: "${v}" holds an empty cluster name; separate names with single commas`;
    await refused('cluster=', 'querystring/cluster/0 must NOT have fewer than 1 characters');
    await refused('cluster=,,', empty(',,'));
    await refused('cluster=alpha,', empty('alpha,'));
    await refused('cluster=beta&cluster=alpha,,gamma', empty('alpha,,gamma'));
  });

  it('streams NDJSON: one item per line, as in the JSON answer', async () => {
    const json = (await get('/api/v1/events?order=asc')).json();
    const res = await get('/api/v1/events?order=asc&format=ndjson');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/x-ndjson; charset=utf-8');
    assert.equal(res.headers['x-next-cursor'], undefined);
    const lines = res.body.split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l)),
      json.items,
    );
  });

  it('streams CSV with a header, quoting where needed', async () => {
    const res = await get('/api/v1/logs?order=asc&format=csv&limit=2');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
    assert.ok(typeof res.headers['x-next-cursor'] === 'string');
    const rows = res.body.split('\r\n');
    const received = rows[1]!.split(',')[3];
    assert.deepEqual(rows, [
      'time,timestamp,rfc3339,received_at,cluster,name,tags,payload,extra',
      `1735732805000000000,1735732805,2025-01-01T12:00:05Z,${received},alpha,ccb,` +
        '"{""hostname"":""s1"",""loglevel"":""info""}",started,{}',
      `1735732806000000000,1735732806,2025-01-01T12:00:06Z,${received},alpha,ccb,` +
        '"{""hostname"":""s1"",""loglevel"":""ERROR""}","failed ""hard"", twice\nline2",{}',
      '',
    ]);
  });

  it('streams line protocol that decodes to the messages that were written', async () => {
    const res = await get('/api/v1/events?order=asc&format=lp');
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    assert.deepEqual(res.body.split('\n').slice(0, 2), [
      'job,cluster=alpha,function=start_job,hostname=n1,type=node,type-id=0 event="{\\"jobId\\":1}" 1735732800000000000',
      'job,cluster=alpha,function=stop_job,hostname=n2,type=node,type-id=1 event="{\\"jobId\\":1,\\"state\\":\\"done\\"}" 1735732801000000000',
    ]);

    const back = decode(res.body, { precision: 'ns' });
    assert.deepEqual(back.errors, []);
    const sent = decode(INPUT, { precision: 'ns' }).messages.filter((m) => 'event' in m.fields);
    // Storage keeps extra fields as JSON, so an integer field (code=7i) comes back as the
    // number 7: compare field values as numbers.
    const strip = (m: { name: string; tags: object; fields: object; time: bigint }) => ({
      name: m.name,
      tags: { ...m.tags },
      fields: Object.fromEntries(
        Object.entries(m.fields).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]),
      ),
      time: m.time,
    });
    assert.deepEqual(back.messages.map(strip), sent.map(strip));
  });
});
