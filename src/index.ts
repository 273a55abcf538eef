/**
 * cairn's public library surface: named re-exports only. The CLI imports nothing else from src/.
 */
export { CairnError, ERROR_CODES, isCairnError, messageOf, type ErrorCode, type CairnErrorOptions } from './errors.js';
export { toHex, fromHex, parseSize, formatSize } from './util/index.js';
export {
  chunkStream, chunkFile, chunkBoundaries, createFastCdc, ParallelChunker, chunkStreamParallel,
  publicGearTable, seededGearTable, keyedGearTable, fastCdcParams, lookaheadOf, FASTCDC_DEFAULTS, FASTCDC_LIMITS,
  type Chunk, type Chunker, type ByteSource, type ChunkStreamOptions, type ChunkFileOptions, type FileBoundariesOptions, type ChunkBoundary, type GearTable, type FastCdcOptions,
  type FastCdcParams, type CreateFastCdcOptions, type FastCdcEngine, type ParallelChunkerOptions, type ParallelChunkStats,
  createRabinChunker, randomPolynomial, parsePolynomial, formatPolynomial, validatePolynomial, isIrreducible,
  RABIN_MIN_SIZE, RABIN_MAX_SIZE, type RabinChunkerOptions,
} from './chunker/index.js';
