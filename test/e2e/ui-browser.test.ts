/**
 * The `/ui` page in headless Chromium (Debian's, driven by playwright-core) against a real
 * in-process store with auth on: the page asks for a token, loads, filters, and shows an
 * event posted while the live tail is on. Skipped outside CI when Chromium is missing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHost, type Host } from '../../core/host.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const missing = !existsSync(CHROMIUM);
// Under CI a missing browser is a failure (.ci/run installs it), elsewhere a skip.
const skip = missing && !process.env.CI ? `${CHROMIUM} is not installed` : false;

const T0 = 1_735_732_800n; // 2025-01-01T12:00:00Z
const at = (s: number) => (T0 + BigInt(s)) * 1_000_000_000n;
const SEED = [
  `job,cluster=alex,hostname=a1 event="{\\"jobId\\":7,\\"state\\":\\"start\\"}" ${at(0)}`,
  `job,cluster=alex,hostname=a2 event="{\\"jobId\\":8,\\"state\\":\\"start\\"}" ${at(60)}`,
  `job,cluster=fritz,hostname=f1 event="plain text" ${at(120)}`,
  `syslog,cluster=alex,hostname=a1,loglevel=error log="disk full" ${at(180)}`,
].join('\n');

describe('the /ui page in Chromium', { skip }, () => {
  let dir: string;
  let host: Host;
  let base: string;
  let token: string;
  let browser: Browser;
  let page: Page;
  // The page's CSP refuses eval, so waits go by selector: `data-rows` is set once drawn.
  const rows = (n: number) => page.locator(`#results[data-rows="${n}"]`).waitFor();
  const post = async (body: string) => {
    const res = await fetch(`${base}/api/write`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    assert.equal(res.status, 204, await res.text());
  };

  before(async () => {
    assert.ok(!missing, `${CHROMIUM} is missing; .ci/run installs Debian's chromium`);
    const { publicKey, privateKey } = await generateKeyPair('EdDSA');
    const raw = Buffer.from((await exportJWK(publicKey)).x!, 'base64url').toString('base64');
    token = await new SignJWT({ roles: ['api'] })
      .setProtectedHeader({ alg: 'EdDSA' })
      .sign(privateKey);
    dir = mkdtempSync(join(tmpdir(), 'cces-ui-'));
    const config = {
      receivers: {},
      storage: {
        retention_time: '0',
        flush_time: '5ms',
        backend: { type: 'sqlite', database_path: 'events.db' },
      },
      api: { address: '127.0.0.1', port: 0, jwt_public_key: raw },
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    host = await startHost(join(dir, 'config.json'), { logger: pino({ level: 'silent' }) });
    const { port } = host.apiAddress()!;
    base = `http://127.0.0.1:${port}`;
    await post(SEED);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await host?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads, asks for the token, and lists events and logs with JSON pretty-printed', async () => {
    await page.goto(`${base}/ui`);
    await page.locator('#status.error').waitFor();
    assert.match((await page.locator('#status').textContent()) ?? '', /CCES_ERR_AUTH_MISSING/);

    await page.fill('#token', token);
    await page.dispatchEvent('#token', 'change');
    await page.click('#search');
    await rows(4);
    assert.equal(await page.evaluate('sessionStorage.getItem("cces-token")'), token);
    const first = page.locator('#results tbody tr').first();
    assert.equal(await first.locator('td').nth(1).textContent(), 'log');
    const pre = await page
      .locator('#results tbody tr', { hasText: 'a2' })
      .locator('pre')
      .textContent();
    assert.equal(pre, JSON.stringify({ jobId: 8, state: 'start' }, null, 2));
    assert.equal(await page.locator('#histogram').getAttribute('data-total'), '4');
  });

  it('filters by cluster, host, kind, level and time range', async () => {
    await page.fill('#cluster', 'alex');
    await page.fill('#hostname', 'a1');
    await page.click('#search');
    await rows(2);

    await page.selectOption('#kind', 'log');
    await page.fill('#level', 'ERROR');
    await page.click('#search');
    await rows(1);
    assert.equal(await page.locator('#results tbody pre').textContent(), 'disk full');

    await page.selectOption('#kind', 'event');
    await page.fill('#level', '');
    await page.fill('#hostname', '');
    await page.fill('#cluster', '');
    // datetime-local is local time; the page sends it as UTC.
    const local = (s: number) =>
      page.evaluate(
        (ms) => {
          const d = new Date(ms);
          return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
        },
        Number(T0 + BigInt(s)) * 1000,
      );
    await page.fill('#from', await local(30));
    await page.fill('#to', await local(121));
    await page.click('#search');
    await rows(2);
    const hosts = await page.locator('#results tbody tr td:nth-child(5)').allTextContents();
    assert.deepEqual(hosts, ['f1', 'a2']);
    assert.equal(await page.locator('#histogram').getAttribute('data-total'), '2');
  });

  it('shows an event posted while the live tail is on', async () => {
    await page.fill('#from', '');
    await page.fill('#to', '');
    await page.fill('#cluster', 'alex');
    await page.click('#search');
    await rows(2);
    await page.check('#live');
    await page.locator('#status', { hasText: 'live' }).waitFor();

    await post(`job,cluster=fritz,hostname=f9 event="elsewhere" ${at(300)}`);
    await post(`job,cluster=alex,hostname=a3 event="{\\"jobId\\":9}" ${at(301)}`);
    const live = page.locator('#results tbody tr.live');
    await live.waitFor();
    assert.equal(await live.count(), 1);
    assert.equal(await live.locator('td').nth(4).textContent(), 'a3');
    assert.equal(await live.locator('pre').textContent(), '{\n  "jobId": 9\n}');
    assert.equal(await page.locator('#histogram').getAttribute('data-total'), '3');
  });
});
