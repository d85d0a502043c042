/**
 * The public entry of cc-event-store for plugin authors (`import ... from 'cc-event-store'`).
 *
 * It carries, under one import:
 * - the plugin contracts: {@link Receiver}, {@link Sink}, {@link Storage}, {@link ApiServer}
 *   and the API extension types, with {@link definePlugin} to declare a plugin module;
 * - {@link CONTRACT_VERSION}, the version of those contracts. A plugin states the semver
 *   range it was built for in `contract` (such as `^1.0.0`); the loader refuses a plugin
 *   whose range excludes this version with `CCES_ERR_PLUGIN_CONTRACT_VERSION`. A minor
 *   version adds optional members only; a major version changes or removes members;
 * - the error catalogue: {@link createError}, {@link hasCode}, {@link ErrorCodes}. Branch on
 *   `err.code`, never on `instanceof`: a plugin may bundle its own copy of this module;
 * - the data model: {@link Message}, {@link EventRecord}, {@link StoredRecord},
 *   {@link buildRecord}, {@link classifyMessage};
 * - time and duration helpers (bigint nanoseconds everywhere) and the line-protocol codec
 *   ({@link decode}, {@link encode});
 * - {@link queryRecords} and {@link matchesQuery}: the meaning of a storage query over
 *   records in memory, for storages that do not translate queries to SQL;
 * - `Type` and `Static` of TypeBox, the copy the host checks config schemas with, so that a
 *   plugin's `configSchema` needs no TypeBox of its own.
 *
 * The conformance kit for plugin tests is a separate entry: `cc-event-store/conformance`.
 *
 * @packageDocumentation
 */
export { CONTRACT_VERSION, definePlugin } from './contracts/plugin.ts';
export type {
  PluginDefinition,
  PluginFactoryContext,
  PluginInstances,
  PluginKind,
} from './contracts/plugin.ts';
export type * from './contracts/receiver.ts';
export type * from './contracts/sink.ts';
export type * from './contracts/storage.ts';
export type * from './contracts/api.ts';
export * from './errors.ts';
export * from './message.ts';
export * from './record.ts';
export * from './time.ts';
export * from './duration.ts';
export * from './lineproto/index.ts';
export { asciiLower, compareTimeId, matchesQuery, queryRecords } from './query-filter.ts';
export { pluginLogger, redactUrl } from './logger.ts';
export { makeDirs } from './make-dirs.ts';
export { Type, type Static, type TSchema } from 'typebox';
