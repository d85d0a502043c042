/**
 * Decode rate of the line-protocol codec on typical ClusterCockpit input: job events with a
 * JSON payload and component logs (150-300 bytes, a few tags, one string field, a 19-digit ns
 * timestamp), in batches as an HTTP body or a NATS message stream would bring them.
 */
import os from 'node:os';
import { decode, encode } from '../../core/lineproto/index.ts';
import type { Message } from '../../core/message.ts';

const LINES = 100_000;
const ROUNDS = 10;

/** The `i`-th line of the typical input. */
export function typicalLine(i: number): string {
  const t = 1735732800000000000n + BigInt(i) * 1_000_003n;
  const job = 4711 + i;
  const host = `node${String(i % 512).padStart(3, '0')}`;
  switch (i % 4) {
    case 0:
      return (
        `job,cluster=testcluster,function=start_job,hostname=ctrl01,type=node,type-id=0 ` +
        `event="{\\"jobId\\":${job},\\"cluster\\":\\"testcluster\\",\\"user\\":\\"user${i % 97}\\",` +
        `\\"project\\":\\"proj001\\",\\"numNodes\\":2,\\"resources\\":[{\\"hostname\\":\\"${host}\\"}],` +
        `\\"startTime\\":1735732800}" ${t}`
      );
    case 1:
      return (
        `job,cluster=testcluster,function=stop_job,hostname=ctrl01,partition=batch,type=node ` +
        `event="{\\"jobId\\":${job},\\"cluster\\":\\"testcluster\\",\\"jobState\\":\\"completed\\",` +
        `\\"stopTime\\":1735736400}" ${t}`
      );
    case 2:
      return (
        `ccb,cluster=testcluster,hostname=server01,type=node,type-id=0,loglevel=info ` +
        `log="component: archiver cluster: testcluster jobId: ${job} - archiving finished" ${t}`
      );
    default:
      return (
        `ccmc,cluster=testcluster,hostname=${host},type=node,type-id=0,loglevel=error ` +
        `log="collector likwid: cannot open /dev/cpu/0/msr: permission denied (attempt ${i})" ${t}`
      );
  }
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Best of `rounds` runs of `fn`, by wall clock and by CPU time of this process. */
function best(rounds: number, fn: () => void): Timing {
  let wallMs = Infinity;
  let cpuMs = Infinity;
  for (let r = 0; r < rounds; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    wallMs = Math.min(wallMs, Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpuMs = Math.min(cpuMs, (c.user + c.system) / 1000);
  }
  return { wallMs, cpuMs };
}

function perSecond(count: number, ms: number): string {
  return Math.round((count / ms) * 1000).toLocaleString('en-US');
}

/** Splits lines into LF-joined batches of `size` lines. */
function batches(lines: string[], size: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < lines.length; k += size) out.push(lines.slice(k, k + size).join('\n'));
  return out;
}

/** Decodes all input once and returns 10,000 of the messages, for the encoder's run. */
function checkedMessages(lines: string[]): Message[] {
  const r = decode(Buffer.from(lines.join('\n')));
  if (r.messages.length !== lines.length || r.errors.length !== 0) {
    throw new Error(`decode lost entries: ${r.messages.length} good, ${r.errors.length} bad`);
  }
  return r.messages.slice(0, 10_000);
}

export default async function bench(report: (line: string) => void): Promise<void> {
  const lines = Array.from({ length: LINES }, (_, i) => typicalLine(i));
  const bytes = lines.reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0);
  const mb = bytes / 1e6;
  const load = `load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} CPUs`;
  report(`input: ${LINES.toLocaleString('en-US')} typical event/log lines, ${mb.toFixed(1)} MB`);
  report(`${Math.round(bytes / LINES)} bytes a line; ${load} (other work slows the wall clock)`);
  // Checked before the timed runs and not held during them: 100,000 live messages would slow
  // every garbage collection beyond what a real ingest sees.
  const messages = checkedMessages(lines);

  // Each case's input is made just before its runs, so that no case pays for another's memory.
  const cases: [string, () => (Buffer | string)[]][] = [
    ['1000-line Buffers', () => batches(lines, 1000).map((t) => Buffer.from(t))],
    ['100-line Buffers', () => batches(lines, 100).map((t) => Buffer.from(t))],
    ['1000-line strings', () => batches(lines, 1000)],
    ['single-line Buffers', () => batches(lines, 1).map((t) => Buffer.from(t))],
    ['one 21 MB Buffer', () => [Buffer.from(`${lines.join('\n')}\n`)]],
  ];
  for (const [label, make] of cases) {
    const inputs = make();
    best(2, () => inputs.forEach((input) => decode(input)));
    const t = best(ROUNDS, () => inputs.forEach((input) => decode(input)));
    report(
      `decode ${label.padEnd(20)} ${perSecond(LINES, t.cpuMs).padStart(10)} lines/CPU-s ` +
        `${perSecond(LINES, t.wallMs).padStart(10)} lines/s wall  ` +
        `${((mb / t.cpuMs) * 1000).toFixed(0)} MB/CPU-s`,
    );
  }

  const enc = best(ROUNDS, () => messages.forEach((m) => encode(m)));
  const encoded = perSecond(messages.length, enc.cpuMs).padStart(10);
  report(`encode ${''.padEnd(20)} ${encoded} lines/CPU-s`);
  report('target: 1,000,000 lines/s decoded on one core (row "1000-line Buffers", CPU time)');
}
