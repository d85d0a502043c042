/**
 * The files `npm run new-plugin` writes: the plugin module per kind, a config for the
 * conformance kit, a test that runs the kit, and a README.
 */
import { storageDataFile } from './data-file-template.ts';
import { packageJson, readme, type PluginInstall } from './package-files.ts';
import { pascal, storageIndex } from './storage-template.ts';

/** The kinds the scaffold knows. */
export const SCAFFOLD_KINDS = ['storage', 'receiver', 'sink'] as const;
export type ScaffoldKind = (typeof SCAFFOLD_KINDS)[number];

/** Where the generated code imports the SDK and the kit from. */
export interface SdkImports {
  sdk: string;
  kit: string;
  /**
   * Outside the store's own tree: how the plugin's package.json installs the store (a
   * `file:` spec of this checkout) and tsx (the store's own version range).
   */
  install?: PluginInstall;
}

/** File name → text of every file of a new plugin. */
export function pluginFiles(kind: ScaffoldKind, name: string, imports: SdkImports) {
  const index =
    kind === 'storage'
      ? storageIndex(name, imports.sdk)
      : kind === 'receiver'
        ? receiverIndex(name, imports.sdk)
        : sinkIndex(name, imports.sdk);
  const config = { storage: { path: 'data' }, receiver: { cluster: 'demo', interval: '50ms' } };
  const sinkConfig = { path: 'out.jsonl' };
  const files: Record<string, string> = { 'index.ts': index };
  if (kind === 'storage') files['data-file.ts'] = storageDataFile(imports.sdk);
  Object.assign(files, {
    'conformance.json': `${JSON.stringify(kind === 'sink' ? sinkConfig : config[kind], null, 2)}\n`,
    'conformance.test.ts': conformanceTest(name, imports.kit),
    'README.md': readme(kind, name, imports.install !== undefined),
  });
  // Outside the store's own tree the plugin is a package of its own: ESM, the store a peer.
  if (imports.install) files['package.json'] = packageJson(name, imports.install);
  return files;
}

function receiverIndex(name: string, sdk: string): string {
  return `/**
 * The \`${name}\` receiver. It ingests one \`heartbeat\` event every \`interval\`; replace the
 * timer with your intake (a socket, a file, a queue) and hand its line protocol to
 * \`ctx.ingest\`.
 */
import {
  definePlugin,
  Type,
  type Static,
  nowNanos,
  parseDurationMs,
  type Receiver,
  type ReceiverContext,
} from '${sdk}';

/** The config schema: every key the plugin reads, with its meaning. */
export const ConfigSchema = Type.Object(
  {
    cluster: Type.String({ minLength: 1, description: 'cluster of the heartbeat events' }),
    interval: Type.Optional(Type.String({ description: 'Go-style duration, default "10s"' })),
  },
  { additionalProperties: false },
);

/** The receiver instance. */
export class ${pascal(name)}Receiver implements Receiver {
  readonly #cluster: string;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = new Set<Promise<unknown>>();
  #stopping: Promise<void> | undefined;

  constructor(config: Static<typeof ConfigSchema>) {
    this.#cluster = config.cluster;
    this.#intervalMs = parseDurationMs(config.interval ?? '10s');
  }

  async start(ctx: ReceiverContext): Promise<void> {
    this.#timer = setInterval(() => this.#beat(ctx), this.#intervalMs);
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#timer);
      await Promise.allSettled(this.#inFlight);
    })();
    return this.#stopping;
  }

  #beat(ctx: ReceiverContext): void {
    const line = \`heartbeat,cluster=\${this.#cluster} event="alive" \${nowNanos()}\`;
    const done = ctx.ingest(line).then(
      (result) => ctx.count('beats', result.stored),
      (err: { code?: string }) => {
        // Overload and shutdown are expected now and then: count them, log the rest.
        ctx.count('refused');
        if (err.code !== 'CCES_ERR_INGEST_OVERLOADED' && err.code !== 'CCES_ERR_INGEST_CLOSED') {
          ctx.logger.error({ err }, 'heartbeat not stored');
        }
      },
    );
    this.#inFlight.add(done);
    void done.finally(() => this.#inFlight.delete(done));
  }
}

export default definePlugin({
  kind: 'receiver',
  type: '${name}',
  contract: '^1.0.0',
  configSchema: ConfigSchema,
  create: (config) => new ${pascal(name)}Receiver(config),
});
`;
}

function sinkIndex(name: string, sdk: string): string {
  return `/**
 * The \`${name}\` sink. It appends each record it gets as one JSON line to \`path\`; replace
 * \`#deliver\` with your transport.
 */
import { appendFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  createError,
  definePlugin,
  Type,
  type Static,
  extraToJson,
  type EventRecord,
  type PluginFactoryContext,
  type Sink,
} from '${sdk}';

/** The config schema: every key the plugin reads, with its meaning. */
export const ConfigSchema = Type.Object(
  { path: Type.String({ minLength: 1, description: 'output file, relative to the config file' }) },
  { additionalProperties: false },
);

/** The sink instance. */
export class ${pascal(name)}Sink implements Sink {
  readonly #path: string;
  #pending = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  constructor(config: Static<typeof ConfigSchema>, ctx: PluginFactoryContext) {
    this.#path = resolve(ctx.configDir, config.path);
  }

  write(batch: readonly EventRecord[]): Promise<void> {
    if (this.#closing) {
      return Promise.reject(createError('CCES_ERR_INGEST_CLOSED', 'the sink is closed'));
    }
    const done = this.#deliver(batch);
    this.#pending.add(done);
    // The caller gets a failure from the returned promise; this copy only tracks it.
    void done.finally(() => this.#pending.delete(done)).catch(() => undefined);
    return done;
  }

  async flush(): Promise<void> {
    await Promise.allSettled(this.#pending);
  }

  close(): Promise<void> {
    this.#closing ??= this.flush();
    return this.#closing;
  }

  async #deliver(batch: readonly EventRecord[]): Promise<void> {
    const lines = batch.map((r) =>
      JSON.stringify({
        kind: r.kind,
        cluster: r.cluster,
        name: r.name,
        time: String(r.time),
        tags: r.tags,
        payload: r.payload,
        extra: r.extra ? JSON.parse(extraToJson(r.extra)) : {},
      }),
    );
    await appendFile(this.#path, \`\${lines.join('\\n')}\\n\`);
  }
}

export default definePlugin({
  kind: 'sink',
  type: '${name}',
  contract: '^1.0.0',
  configSchema: ConfigSchema,
  create: (config, ctx) => new ${pascal(name)}Sink(config, ctx),
});
`;
}

function conformanceTest(name: string, kit: string): string {
  return `/**
 * Runs the conformance kit against the \`${name}\` plugin with conformance.json.
 * \`node --import tsx --test conformance.test.ts\`
 */
import { fileURLToPath } from 'node:url';
import { conformance } from '${kit}';

const here = fileURLToPath(new URL('.', import.meta.url));
await conformance('./index.ts', 'conformance.json', { cwd: here });
`;
}
