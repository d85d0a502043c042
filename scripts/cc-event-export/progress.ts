/**
 * The progress bar of cc-event-export: cli-progress on stderr, only when stderr is a
 * terminal, so pipes and logs never receive control characters.
 */
import cliProgress from 'cli-progress';

/** A bar that may be absent; every member is safe to call either way. */
export interface Progress {
  /** Starts (or restarts) the bar at 0 of `total`. */
  start(total: number): void;
  update(value: number): void;
  /** Stops the bar; a second call does nothing. */
  stop(): void;
}

/** A bar labelled `label` counting `unit` ("bytes", or "%" for a percentage), or a stand-in. */
export function createProgress(stderr: NodeJS.WriteStream, label: string, unit: string): Progress {
  if (!stderr.isTTY) return { start() {}, update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr,
      format:
        unit === '%'
          ? `${label} [{bar}] {percentage}% | {eta}s`
          : `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {eta}s`,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    start(total) {
      bar.start(total, 0);
      running = true;
    },
    update(value) {
      if (running) bar.update(value);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
