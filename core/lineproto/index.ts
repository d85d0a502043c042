/**
 * The line-protocol codec: InfluxDB line protocol as ClusterCockpit tools write it.
 */
export { decode } from './decoder.ts';
export { encode } from './encoder.ts';
export type { DecodeError, DecodeOptions, DecodeResult, EncodePrecision } from './types.ts';
