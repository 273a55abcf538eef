/**
 * Content-defined chunking. Pure split finders (no I/O): FastCDC with fastcdc-rs v2020's exact
 * semantics (wasm hot loop, pure-TS fallback, public/seeded/keyed gear tables), restic's Rabin
 * chunker, a streaming adapter whose boundaries never depend on how input is split, and a parallel
 * chunker for one large stream whose boundaries equal the serial result.
 *
 * Invariants: every engine of one algorithm gives identical boundaries for identical input and
 * parameters; no chunk exceeds the max size; only the final chunk may be shorter than the min size.
 */
export type { Chunk, Chunker, ByteSource } from './types.js';
export { chunkStream, chunkFile, chunkFileSync, chunkBoundaries, type ChunkStreamOptions, type ChunkFileOptions } from './stream.js';
export { publicGearTable, seededGearTable, keyedGearTable, KEYED_GEAR_LABEL, type GearTable, type GearKind } from './gear.js';
export {
  fastCdcParams, lookaheadOf, FASTCDC_DEFAULTS, FASTCDC_LIMITS, MASKS, logarithm2, cutPlan, gearHashOf,
  type FastCdcOptions, type FastCdcParams, type CutPlan,
} from './fastcdc-params.js';
export { createFastCdc, type CreateFastCdcOptions, type FastCdcEngine } from './fastcdc.js';
export { ParallelChunker, chunkStreamParallel, type ParallelChunkerOptions, type ParallelChunkStats, type FileBoundariesOptions, type ChunkBoundary } from './parallel.js';
export {
  createRabinChunker, randomPolynomial, parsePolynomial, formatPolynomial, validatePolynomial, isIrreducible,
  RABIN_MIN_SIZE, RABIN_MAX_SIZE, RABIN_WINDOW_SIZE, RABIN_AVERAGE_BITS, type RabinChunkerOptions,
} from './rabin/index.js';
