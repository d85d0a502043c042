/**
 * The public entry of cc-event-store for plugin authors: contracts, helper types, the error
 * catalogue and the line-protocol codec.
 */
export * from './contracts/plugin.ts';
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
