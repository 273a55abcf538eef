/**
 * The contract every chunker engine meets (FastCDC in wasm or TS, restic's Rabin). A chunker is a
 * pure split finder: given bytes from a chunk start it says where that chunk ends. It keeps no
 * state between calls, so the same input always gives the same boundaries however it arrives.
 */
export interface Chunker {
  /** Algorithm name, for diagnostics: `fastcdc` or `rabin`. */
  readonly algorithm: 'fastcdc' | 'rabin';
  /** Smallest chunk the algorithm cuts (a final chunk at end of input may be shorter). */
  readonly minSize: number;
  /** Largest chunk the algorithm cuts. */
  readonly maxSize: number;
  /**
   * Bytes that must be available from a chunk start before `cut` may be called without `eof`.
   * With fewer, the caller must read more input (or signal end of input).
   */
  readonly lookahead: number;
  /**
   * True when `cut` may be called with fewer than `lookahead` bytes (and no eof): it then returns
   * -1 when it cannot decide yet, and the next call for the same chunk (the same bytes, perhaps
   * moved within the buffer, with more after them) resumes where it stopped. Lets callers feed
   * input in small pieces that are still in cache when scanned.
   */
  readonly partial?: boolean;
  /**
   * Length of the chunk that starts at `buf[start]`, given `buf[start, end)` is available and,
   * when `eof`, that input ends at `end`. Requires `end > start`, and, unless `partial`,
   * `eof || end - start >= lookahead`. Returns 1 to `end - start`, or -1 (partial engines only)
   * when more bytes are needed. `buf` must come from `workspace` (engines scan only their own
   * memory). One chunk at a time: a paused cut must be finished before another chunk is cut.
   */
  cut(buf: Uint8Array, start: number, end: number, eof: boolean): number;
  /**
   * A byte region the engine can scan, at least `size` bytes long. Repeated calls may return the
   * same memory; a larger request may invalidate earlier views.
   */
  workspace(size: number): Uint8Array;
  /**
   * FastCDC only: the 64-bit gear hash fastcdc-rs reports for the chunk `buf[start, start+length)`
   * that `cut(buf, start, end, eof)` returned. May read the byte just after the chunk.
   */
  gearHash?(buf: Uint8Array, start: number, length: number, end: number, eof: boolean): bigint;
}

/** One chunk of a stream. */
export interface Chunk {
  /** Offset of the first byte in the whole stream. */
  readonly offset: number;
  readonly length: number;
  /**
   * The chunk's bytes: a view into the chunker's buffer, valid only until the consumer asks for
   * the next chunk. Copy it (`slice()`) to keep it.
   */
  readonly data: Uint8Array;
  /** FastCDC's 64-bit gear hash at the cut (as fastcdc-rs reports it), when requested. */
  readonly hash?: bigint;
}

/** What a byte stream may be: any (async) iterable of buffers of any sizes, empty ones included. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
