/**
 * Subscriptions of the NATS receiver: which subjects it reads and what default cluster and
 * precision each subject's messages get.
 */
import type { IngestOptions } from '../../../core/contracts/receiver.ts';
import type { Precision } from '../../../core/time.ts';

/** One subscription as configured. */
export interface SubscriptionSpec {
  /** Subject with `*` (one token) and `>` (the rest) wildcards. */
  subject: string;
  /** Default cluster of messages that name none. */
  cluster?: string;
  precision?: Precision;
  /** 0-based index of the subject token that holds the cluster (`<cluster>.events.job` → 0). */
  cluster_token?: number;
  /** Core mode: a queue group, so several store processes split one subject. */
  queue?: string;
}

/** Receiver-level defaults that apply where a subscription sets nothing. */
export interface SubscriptionDefaults {
  cluster?: string;
  precision?: Precision;
}

/** True when `subject` matches `pattern` by NATS wildcard rules. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/**
 * Whether `subject` is a valid NATS subject to subscribe to: tokens separated by dots, none
 * empty, no whitespace, `*` and `>` only as whole tokens and `>` only as the last. The server
 * answers a bad subscription only after start-up, with a bare "Invalid Subject"; a wildcard
 * inside a token, which it would take as a plain character, is refused here as a likely slip.
 */
export function isValidSubject(subject: string): boolean {
  const tokens = subject.split('.');
  const last = tokens.length - 1;
  return tokens.every(
    (t, i) =>
      t !== '' && !/\s/.test(t) && (!/[*>]/.test(t) || t === '*' || (t === '>' && i === last)),
  );
}

/** The first subscription matching a subject, if any. */
export function findSubscription(
  subs: readonly SubscriptionSpec[],
  subject: string,
): SubscriptionSpec | undefined {
  return subs.find((s) => subjectMatches(s.subject, subject));
}

/**
 * Ingest options of a message: the cluster token of its subject, else the subscription's
 * cluster, else the receiver's; a cluster tag or JSON cluster in a line still wins over all.
 */
export function ingestOptionsFor(
  sub: SubscriptionSpec | undefined,
  subject: string,
  defaults: SubscriptionDefaults,
): IngestOptions {
  let cluster = sub?.cluster ?? defaults.cluster;
  if (sub?.cluster_token !== undefined) {
    const token = subject.split('.')[sub.cluster_token];
    if (token) cluster = token;
  }
  const opts: IngestOptions = {};
  if (cluster !== undefined) opts.cluster = cluster;
  const precision = sub?.precision ?? defaults.precision;
  if (precision !== undefined) opts.precision = precision;
  return opts;
}

/** Messages with equal keys may share one ingest call. */
export function optionsKey(opts: IngestOptions): string {
  return `${opts.cluster ?? ''}\u0000${opts.precision ?? ''}`;
}

/** Ingest options of a subject's messages and the key under which they batch. */
export interface SubjectRoute {
  opts: IngestOptions;
  key: string;
}

/** How many subjects a {@link SubjectRoutes} remembers before it starts over. */
const ROUTES_KEPT = 10_000;

/**
 * Finds the subscription and ingest options of a subject once and remembers them: every
 * message comes with its subject, and most deployments publish on a handful of subjects, so
 * working them out per message would be waste.
 */
export class SubjectRoutes {
  #find: (subject: string) => SubscriptionSpec | undefined;
  #defaults: SubscriptionDefaults;
  #known = new Map<string, SubjectRoute>();

  /** `find` names the subscription a subject's messages belong to. */
  constructor(
    find: (subject: string) => SubscriptionSpec | undefined,
    defaults: SubscriptionDefaults,
  ) {
    this.#find = find;
    this.#defaults = defaults;
  }

  /** The route of `subject`. */
  of(subject: string): SubjectRoute {
    let route = this.#known.get(subject);
    if (route === undefined) {
      const opts = ingestOptionsFor(this.#find(subject), subject, this.#defaults);
      route = { opts, key: optionsKey(opts) };
      if (this.#known.size >= ROUTES_KEPT) this.#known.clear();
      this.#known.set(subject, route);
    }
    return route;
  }
}
