import { test } from 'node:test';
import assert from 'node:assert/strict';
import { impossibleDateTime } from '../../core/calendar.ts';
import { formatRfc3339, parseRfc3339, toNanos } from '../../core/time.ts';
import { parseDuration, parseDurationMs } from '../../core/duration.ts';

test('auto precision guesses by magnitude', () => {
  assert.equal(toNanos(1735732800n, 'auto'), 1735732800000000000n);
  assert.equal(toNanos(1735732800123n, 'auto'), 1735732800123000000n);
  assert.equal(toNanos(1735732800123456n, 'auto'), 1735732800123456000n);
  assert.equal(toNanos(1735732800123456789n, 'auto'), 1735732800123456789n);
  assert.equal(toNanos(-1n, 'auto'), -1000000000n);
  assert.equal(toNanos(5n, 'ms'), 5000000n);
});

test('RFC 3339 keeps nanoseconds exactly both ways', () => {
  assert.equal(formatRfc3339(1735732800123456789n), '2025-01-01T12:00:00.123456789Z');
  assert.equal(formatRfc3339(1735732800000000000n), '2025-01-01T12:00:00Z');
  assert.equal(formatRfc3339(-1n), '1969-12-31T23:59:59.999999999Z');
  assert.equal(parseRfc3339('2025-01-01T12:00:00.123456789Z'), 1735732800123456789n);
  assert.equal(parseRfc3339('2025-01-01T13:00:00+01:00'), 1735732800000000000n);
  assert.equal(parseRfc3339('2025-01-01'), undefined);
});

test('RFC 3339 refuses impossible dates and times instead of rolling them over', () => {
  assert.equal(parseRfc3339('2025-02-30T00:00:00Z'), undefined);
  assert.equal(parseRfc3339('2025-01-01T24:00:00Z'), undefined);
  assert.equal(parseRfc3339('2025-01-01T12:60:00Z'), undefined);
  assert.equal(parseRfc3339('2024-02-29T00:00:00Z'), 1709164800000000000n);
  assert.equal(parseRfc3339('2100-02-29T00:00:00Z'), undefined);
  assert.equal(impossibleDateTime('2025-02-30T00:00:00Z'), '2025-02 has days 01 to 28');
  assert.equal(impossibleDateTime('2025-13-01T00:00:00Z'), 'there is no month 13');
  assert.equal(impossibleDateTime('2025-01-01T12:00:00Z'), undefined);
});

test('Go-style durations', () => {
  assert.equal(parseDuration('48h'), 172800000000000n);
  assert.equal(parseDuration('1h30m'), 5400000000000n);
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDuration('300ms'), 300000000n);
  assert.equal(parseDuration('0'), 0n);
  for (const bad of ['', '10', '10 s', '-1s', 'h']) {
    assert.throws(() => parseDuration(bad), { code: 'CCES_ERR_CONFIG_DURATION' });
  }
});
