import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { BurstLogger } from '../../core/burst-logger.ts';

function capture(level = 'debug') {
  const lines: any[] = [];
  const logger = pino({ level }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

describe('BurstLogger', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('logs the first occurrence at once and the rest of a burst as one line per window', () => {
    const { logger, lines } = capture();
    const burst = new BurstLogger(logger, 'warn', 'sink write failed', 1000);
    burst.add(3, { n: 1 });
    burst.add(2, { n: 2 });
    burst.add(4, { n: 3 });
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.count, l.n]),
      [[40, 'sink write failed', 3, 1]],
    );

    mock.timers.tick(1000);
    assert.deepEqual(
      lines.slice(1).map((l) => [l.count, l.n]),
      [[6, 3]],
    );

    // Still within the burst: held for the next window.
    burst.add(1, { n: 4 });
    assert.equal(lines.length, 2);
    mock.timers.tick(1000);
    assert.deepEqual(
      lines.slice(2).map((l) => [l.count, l.n]),
      [[1, 4]],
    );

    // A quiet window ends the burst; the next occurrence is logged at once.
    mock.timers.tick(1000);
    burst.add(5, { n: 5 });
    assert.deepEqual(
      lines.slice(3).map((l) => [l.count, l.n]),
      [[5, 5]],
    );
  });

  it('flush logs what is held; a second flush logs nothing', () => {
    const { logger, lines } = capture();
    const burst = new BurstLogger(logger, 'debug', 'conflict', 1000);
    burst.add(1, {});
    burst.add(7, { last: true });
    burst.flush();
    burst.flush();
    assert.deepEqual(
      lines.map((l) => [l.level, l.count, l.last]),
      [
        [20, 1, undefined],
        [20, 7, true],
      ],
    );
  });

  it('does nothing when its level is off', () => {
    const { logger, lines } = capture('error');
    const burst = new BurstLogger(logger, 'warn', 'x', 1000);
    burst.add(1, {});
    burst.flush();
    assert.equal(lines.length, 0);
  });
});
