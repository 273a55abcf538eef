/**
 * zstd (RFC 8878) through zstd-napi's low-level binding (libzstd), with the defensive decoding a
 * repository needs: output sizes are decided by the caller, never by a frame header.
 *
 * Two facts bound what a frame can claim before anything is allocated:
 * - a block decodes to at most 128 KiB (Block_Maximum_Size) and takes at least 4 stored bytes to
 *   do so (3-byte header + 1 RLE byte), so `n` compressed bytes expand to at most n/4 · 128 KiB
 *   = 32768·n bytes (the reasoning of libzstd's ZSTD_decompressBound);
 * - libzstd's default window limit (2^27, 128 MiB) caps its internal buffers; streaming output
 *   only touches as much of them as has been decoded, and we stop at the caller's limit.
 *
 * And no size that comes from storage is allocated on trust beyond 16 MiB (UPFRONT_LIMIT): larger
 * outputs grow as the frames actually yield bytes, so memory follows real content, not claims.
 *
 * One CCtx and one DCtx are reused per thread (each worker thread loads its own copy of this module; each call resets the session, so
 * a failed call leaves no state behind).
 */
import { createRequire } from 'node:module';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { CairnError } from '../errors.js';

const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding;

/** zstd level restic 0.14 uses for `--compression auto` (klauspost "default" ≈ zstd 3). */
export const DEFAULT_LEVEL = 3;

/** Largest plaintext length `decompress` accepts: every length in a pack header is a u32. */
export const MAX_DECOMPRESSED_SIZE = 2 ** 32;

/** A compressed byte can stand for at most this many output bytes (see the file comment). */
const MAX_EXPANSION = 32768;

/** Output grows by at most this much per step in `decompressBounded` (after doubling). */
const MAX_GROWTH_STEP = 64 << 20;

let cctx: ZstdBinding.CCtx | undefined;
let dctx: ZstdBinding.DCtx | undefined;
let cctxLevel = Number.NaN;

function compressor(level: number): ZstdBinding.CCtx {
  cctx ??= new zstd.CCtx();
  if (level !== cctxLevel) {
    cctx.reset(zstd.ResetDirective.sessionAndParameters);
    cctx.setParameter(zstd.CParameter.compressionLevel, level);
    cctx.setParameter(zstd.CParameter.contentSizeFlag, 1);
    cctx.setParameter(zstd.CParameter.checksumFlag, 0);
    cctxLevel = level;
  } else {
    cctx.reset(zstd.ResetDirective.sessionOnly);
  }
  return cctx;
}

function decompressor(): ZstdBinding.DCtx {
  dctx ??= new zstd.DCtx();
  dctx.reset(zstd.ResetDirective.sessionOnly);
  return dctx;
}

/**
 * One zstd frame holding `data`, at `level` (default 3, restic's "auto"): the content size is in
 * the frame header, no checksum (the MAC around every blob already detects damage), libzstd's
 * default window for the level (restic's encoder uses 512 KiB; any decoder reads either). The
 * result is trimmed to its length (copied when that saves more than an eighth of the bound).
 * ERR_INVALID_ARGUMENT for a level outside libzstd's range.
 */
export function compress(data: Uint8Array, level: number = DEFAULT_LEVEL): Uint8Array {
  const bound = zstd.compressBound(data.length);
  const dst = new Uint8Array(bound);
  const n = compressTo(dst, data, level);
  return n < bound - (bound >>> 3) ? dst.slice(0, n) : dst.subarray(0, n);
}

let scratch = new Uint8Array(0);

/**
 * As `compress`, but the frame is written into a buffer this module reuses: the result is valid
 * only until the next call (for a caller that copies it at once, e.g. by sealing it), and no
 * output buffer is allocated per call.
 */
export function compressToScratch(data: Uint8Array, level: number = DEFAULT_LEVEL): Uint8Array {
  const bound = zstd.compressBound(data.length);
  if (scratch.length < bound) scratch = new Uint8Array(Math.max(bound, zstd.compressBound(1 << 20)));
  return scratch.subarray(0, compressTo(scratch, data, level));
}

/** Compresses `data` into `dst` (at least compressBound long); the frame's length. */
function compressTo(dst: Uint8Array, data: Uint8Array, level: number): number {
  if (!Number.isInteger(level) || level < zstd.minCLevel() || level > zstd.maxCLevel()) {
    throw new CairnError(
      'ERR_INVALID_ARGUMENT',
      `zstd level ${level} is out of range: use an integer from ${zstd.minCLevel()} to ${zstd.maxCLevel()}`,
    );
  }
  try {
    return compressor(level).compress2(dst, data);
  } catch (e) {
    cctxLevel = Number.NaN;
    throw new CairnError('ERR_INTERNAL', `zstd compression of ${data.length} bytes failed: ${(e as Error).message}`, { cause: e });
  }
}

function corrupt(what: string, problem: string, cause?: unknown, data: Record<string, unknown> = {}): CairnError {
  return new CairnError('ERR_CORRUPT', `${what} does not decompress: ${problem}; the stored data is damaged`, {
    data,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Output allocated before a byte of it is decoded. An expected size up to this (every data blob:
 * chunks are at most 16 MiB) is allocated at once; above it, and for unknown sizes, the buffer
 * starts at most this large and grows only as the frames actually yield bytes. So a length read
 * from storage, or a frame header, that claims gigabytes allocates nothing of that size.
 */
const UPFRONT_LIMIT = 16 << 20;

/** Smallest growth of the output buffer. */
const MIN_GROWTH_STEP = 1 << 16;

/**
 * Decompresses `data` (one or more zstd frames) whose plaintext is known to be `expectedSize`
 * bytes (a pack header's uncompressed length), after checking: `expectedSize` ≤ 2^32 and
 * ≤ 32768·`data.length` (no frame can expand more), and a single frame's declared content size
 * (when it has one) equals `expectedSize`. Up to 16 MiB the output is allocated at once; beyond,
 * it grows with what the frames yield and stops at `expectedSize`. ERR_CORRUPT naming `what` for
 * any of those checks, an invalid or truncated frame, trailing garbage, a checksum mismatch, or
 * an output length other than `expectedSize`.
 */
export function decompress(data: Uint8Array, expectedSize: number, what = 'compressed data'): Uint8Array {
  return decompressInto(data, EMPTY, expectedSize, what);
}

const EMPTY = new Uint8Array(0);

/**
 * `decompress` into the first `expectedSize` bytes of `out` when `out` is that long: returns that
 * view of `out` (for callers that reuse one output buffer, such as restore). The same checks in the
 * same order, with the same errors. When `out` is shorter, it is not used and the result is a new
 * array exactly as `decompress` makes it: the caller need not allocate a size read from storage
 * before it is checked. After a failure, the first `expectedSize` bytes of `out` are undefined.
 */
export function decompressInto(data: Uint8Array, out: Uint8Array, expectedSize: number, what = 'compressed data'): Uint8Array {
  if (!Number.isSafeInteger(expectedSize) || expectedSize < 0) {
    throw new CairnError('ERR_INTERNAL', `decompress of ${what} called with expected size ${expectedSize}`);
  }
  const sizes = { expectedSize, compressedSize: data.length };
  if (expectedSize > MAX_DECOMPRESSED_SIZE) {
    throw corrupt(what, `its stated plaintext length ${expectedSize} exceeds 2^32 bytes`, undefined, sizes);
  }
  if (expectedSize > data.length * MAX_EXPANSION) {
    throw corrupt(what, `${data.length} compressed bytes cannot expand to the stated ${expectedSize} bytes`, undefined, sizes);
  }
  let frameSize: number;
  let claimed: number | null;
  try {
    frameSize = zstd.findFrameCompressedSize(data);
    claimed = zstd.getFrameContentSize(data);
  } catch (e) {
    throw corrupt(what, `not a valid zstd frame (${(e as Error).message})`, e, sizes);
  }
  // A single frame must declare the right size; with several frames the first declares only a part.
  if (claimed !== null && (frameSize === data.length ? claimed !== expectedSize : claimed > expectedSize)) {
    throw corrupt(what, `the frame declares ${claimed} bytes of content, but ${expectedSize} are expected`, undefined, {
      ...sizes,
      declaredSize: claimed,
    });
  }
  const given = out.length >= expectedSize ? out.subarray(0, expectedSize) : undefined;
  let result: Uint8Array;
  if (expectedSize <= UPFRONT_LIMIT) {
    result = given ?? new Uint8Array(expectedSize);
    let n: number;
    try {
      n = decompressor().decompress(result, data);
    } catch (e) {
      throw corrupt(what, `${(e as Error).message}`, e, sizes);
    }
    if (n !== expectedSize) {
      throw corrupt(what, `it yields ${n} bytes instead of the expected ${expectedSize}`, undefined, { ...sizes, actualSize: n });
    }
    return result;
  }
  // A given buffer already holds everything: the growing decoder starts (and ends) with all of it.
  result = decompressGrowing(data, given ?? new Uint8Array(UPFRONT_LIMIT), expectedSize, what, () =>
    corrupt(what, `it yields more than the expected ${expectedSize} bytes`, undefined, sizes),
  );
  if (result.length !== expectedSize) {
    throw corrupt(what, `it yields ${result.length} bytes instead of the expected ${expectedSize}`, undefined, { ...sizes, actualSize: result.length });
  }
  return result;
}

/**
 * Decompresses `data` (one or more zstd frames, with or without content size and checksum) whose
 * plaintext length is unknown, such as index, snapshot and lock JSON. Streams into a buffer that
 * starts at the first frame's declared size (at most 16 MiB) or a small guess, and grows (doubling,
 * at most 64 MiB per step) only as output arrives, never beyond `maxSize` bytes, whatever a frame
 * header claims; a declared content size over `maxSize`, or over what the compressed bytes could
 * expand to, is refused up front. ERR_CORRUPT naming `what` when the output would exceed
 * `maxSize`, or for invalid, truncated or trailing data and checksum mismatches.
 */
export function decompressBounded(data: Uint8Array, maxSize: number, what = 'compressed data'): Uint8Array {
  if (!Number.isSafeInteger(maxSize) || maxSize < 0) {
    throw new CairnError('ERR_INTERNAL', `decompressBounded of ${what} called with limit ${maxSize}`);
  }
  let claimed: number | null;
  try {
    claimed = zstd.getFrameContentSize(data);
  } catch (e) {
    throw corrupt(what, `not a valid zstd frame (${(e as Error).message})`, e, { compressedSize: data.length });
  }
  if (claimed !== null && claimed > maxSize) {
    throw corrupt(what, `the frame declares ${claimed} bytes of content, more than the limit of ${maxSize}`, undefined, {
      compressedSize: data.length,
      declaredSize: claimed,
      maxSize,
    });
  }
  if (claimed !== null && claimed > data.length * MAX_EXPANSION) {
    throw corrupt(what, `the frame declares ${claimed} bytes of content, more than ${data.length} compressed bytes can expand to`, undefined, {
      compressedSize: data.length,
      declaredSize: claimed,
    });
  }
  const guess = claimed ?? Math.max(data.length * 4, MIN_GROWTH_STEP);
  return decompressGrowing(data, new Uint8Array(Math.min(guess, UPFRONT_LIMIT, maxSize)), maxSize, what, () =>
    corrupt(what, `its content exceeds the limit of ${maxSize} bytes`, undefined, { compressedSize: data.length, maxSize }),
  );
}

/**
 * Streams the frames in `data` into `initial` (at most `cap` bytes long), replaced by a larger
 * copy only when it is full and more output comes, up to `cap` bytes; `tooLong()` is thrown when
 * the frames yield more than `cap`. Whether more comes is learned by decoding into a one-byte
 * spare, so a buffer sized exactly right is never grown (and never copied at the end). Returns
 * the output: a view of the buffer when it is full, else a copy of the part written.
 */
function decompressGrowing(data: Uint8Array, initial: Uint8Array, cap: number, what: string, tooLong: () => CairnError): Uint8Array {
  let buf = initial;
  const spare = new Uint8Array(1);
  let produced = 0;
  let consumed = 0;
  const d = decompressor();
  for (;;) {
    const full = produced === buf.length;
    let r: [number, number, number];
    try {
      r = d.decompressStream(full ? spare : buf.subarray(produced), data.subarray(consumed));
    } catch (e) {
      throw corrupt(what, `${(e as Error).message}`, e, { compressedSize: data.length });
    }
    const [hint, out, inp] = r; // hint: 0 once a frame is complete and flushed
    consumed += inp;
    if (full && out > 0) {
      if (buf.length >= cap) throw tooLong();
      const grown = new Uint8Array(Math.min(cap, buf.length + Math.max(MIN_GROWTH_STEP, Math.min(buf.length, MAX_GROWTH_STEP))));
      grown.set(buf.subarray(0, produced));
      grown[produced] = spare[0]!;
      buf = grown;
    }
    produced += out;
    if (consumed === data.length && hint === 0) break;
    if (out === 0 && inp === 0) {
      // No progress with room to write: the input ended inside a frame.
      throw corrupt(what, 'the data ends in the middle of a zstd frame (truncated)', undefined, { compressedSize: data.length });
    }
  }
  return produced === buf.length ? buf : buf.slice(0, produced);
}
