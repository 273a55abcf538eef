/**
 * Serial chunking with any `Chunker`, from a byte stream or a file. One loop (`chunkLoop`) does
 * the work as a resumable state machine: it asks for input to be placed in the chunker's
 * workspace and hands out chunks; async drivers (streams, files) and a synchronous driver (worker
 * threads reading with readSync) run it. A cut is asked for only when a full lookahead is buffered
 * or the input has ended, so boundaries never depend on how the input arrived. Each chunk's `data`
 * is a view into the workspace, valid until the next chunk is asked for.
 */
import { fstat, read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import { CairnError, messageOf } from '../errors.js';
import type { ByteSource, Chunk, Chunker } from './types.js';

export interface ChunkStreamOptions {
  /** Also report fastcdc's gear hash for each chunk. @default false */
  readonly withHash?: boolean;
  /** Workspace size in bytes; raised to at least lookahead + fillSize (partial chunkers) or 2 × lookahead. @default max(4 × lookahead, 4 MiB); files: lookahead + 1 MiB */
  readonly bufferSize?: number;
  /**
   * Largest amount of input placed in the workspace at once, for chunkers that can cut on partial
   * input (FastCDC): small pieces are still in cache when scanned. @default the whole workspace;
   * files: 1 MiB
   */
  readonly fillSize?: number;
}

/** A request of the loop: fill `buf[at, at+max)` (answer with the count, 0 at end), or take a chunk. */
type Step = { readonly fill: true; readonly buf: Uint8Array; readonly at: number; readonly max: number } | { readonly fill: false; readonly chunk: Chunk };

function* chunkLoop(chunker: Chunker, options: ChunkStreamOptions): Generator<Step, void, number> {
  const look = chunker.lookahead;
  const partial = chunker.partial === true;
  const wanted = options.bufferSize ?? Math.max(4 * look, 4 << 20);
  // Room for a lookahead of input not yet cut plus one fill: a chunker that cuts on partial input
  // needs no more; one that does not fills up to a whole lookahead past the one it holds.
  const cap = Math.max(wanted, look + (partial ? Math.max(1, options.fillSize ?? look) : look));
  const fillSize = partial ? Math.max(1, options.fillSize ?? cap) : cap;
  const withHash = options.withHash === true && chunker.gearHash !== undefined;
  let buf = chunker.workspace(cap);
  let start = 0;
  let end = 0;
  let offset = 0;
  let eof = false;
  // A partial cut asked for more bytes: don't ask again before some arrive.
  let starved = true;
  while (!eof || end > start) {
    if (!eof && end - start < look && (starved || !partial)) {
      if (end === cap) {
        buf = chunker.workspace(cap);
        buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      const n = yield { fill: true, buf, at: end, max: Math.min(fillSize, cap - end) };
      if (n === 0) eof = true;
      end += n;
      starved = false;
      continue;
    }
    const length = chunker.cut(buf, start, end, eof);
    if (length < 0) {
      starved = true;
      continue;
    }
    const data = buf.subarray(start, start + length);
    yield { fill: false, chunk: withHash ? { offset, length, data, hash: chunker.gearHash!(buf, start, length, end, eof) } : { offset, length, data } };
    start += length;
    offset += length;
  }
}

async function* driveAsync(chunker: Chunker, fill: (buf: Uint8Array, at: number, max: number) => Promise<number>, options: ChunkStreamOptions): AsyncGenerator<Chunk, void, undefined> {
  const loop = chunkLoop(chunker, options);
  for (let r = loop.next(); !r.done; ) {
    const step = r.value;
    if (step.fill) {
      r = loop.next(await fill(step.buf, step.at, step.max));
    } else {
      yield step.chunk;
      r = loop.next(0);
    }
  }
}

function* driveSync(chunker: Chunker, fill: (buf: Uint8Array, at: number, max: number) => number, options: ChunkStreamOptions): Generator<Chunk, void, undefined> {
  const loop = chunkLoop(chunker, options);
  for (let r = loop.next(); !r.done; ) {
    const step = r.value;
    if (step.fill) {
      r = loop.next(fill(step.buf, step.at, step.max));
    } else {
      yield step.chunk;
      r = loop.next(0);
    }
  }
}

/** Chunks a byte stream (pieces of any size, empty ones included). */
export function chunkStream(chunker: Chunker, source: ByteSource, options: ChunkStreamOptions = {}): AsyncGenerator<Chunk, void, undefined> {
  const it = (Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]()) as AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  let piece: Uint8Array | undefined;
  let pos = 0;
  const fill = async (buf: Uint8Array, at: number, max: number): Promise<number> => {
    while (piece === undefined || pos === piece.length) {
      const r = await it.next();
      if (r.done === true) return 0;
      piece = r.value;
      pos = 0;
    }
    const n = Math.min(max, piece.length - pos);
    buf.set(piece.subarray(pos, pos + n), at);
    pos += n;
    return n;
  };
  return closing(driveAsync(chunker, fill, options), () => (it as AsyncIterator<Uint8Array>).return?.());
}

export interface ChunkFileOptions extends ChunkStreamOptions {
  /** File position of the first byte to chunk (offsets in chunks are relative to it). @default 0 */
  readonly start?: number;
  /** Position where the input ends. @default the file's size when chunking starts */
  readonly size?: number;
  /** Name for error messages. @default `fd <n>` */
  readonly name?: string;
}

/** Position in a file being chunked, and the errors its reads can end in. */
class FileCursor {
  position: number;

  constructor(private readonly name: string, start: number, public size: number) {
    this.position = start;
  }

  /** How many bytes to ask for (0: input ended). */
  want(max: number): number {
    return Math.max(0, Math.min(max, this.size - this.position));
  }

  /** Accounts for `n` bytes read; a read of 0 before the expected end means the file shrank. */
  advance(n: number): number {
    if (n === 0) {
      throw new CairnError('ERR_FILE_READ', `${this.name} ended at byte ${this.position}, before the ${this.size} bytes it had when chunking began: it shrank while being read; read it again`, { data: { at: this.position, size: this.size, shrank: true } });
    }
    this.position += n;
    return n;
  }

  failed(cause: unknown): CairnError {
    return new CairnError('ERR_FILE_READ', `reading ${this.name} at byte ${this.position} failed: ${messageOf(cause)}`, { cause, data: { at: this.position } });
  }
}

const readAsync = promisify(read);
const fstatAsync = promisify(fstat);

/**
 * How files are read unless told otherwise: 1 MiB at a time (scanned while still in cache) into
 * the smallest workspace the chunker allows: a lookahead and one fill for a chunker that cuts on
 * partial input (9 MiB for FastCDC's 8 MiB maximum chunk), two lookaheads otherwise. A file,
 * unlike a stream, can always be read on demand, so a bigger workspace only costs memory.
 */
const FILE_FILL = 1 << 20;
function fileDefaults(chunker: Chunker, options: ChunkFileOptions): ChunkFileOptions {
  return { fillSize: FILE_FILL, bufferSize: chunker.lookahead + (options.fillSize ?? FILE_FILL), ...options };
}

/** Chunks an open file from `start` to `size`, reading directly into the workspace. */
export function chunkFile(chunker: Chunker, fd: number, options: ChunkFileOptions = {}): AsyncGenerator<Chunk, void, undefined> {
  options = fileDefaults(chunker, options);
  let cursor: FileCursor | undefined;
  return driveAsync(chunker, async (buf, at, max) => {
    cursor ??= new FileCursor(options.name ?? `fd ${fd}`, options.start ?? 0, options.size ?? (await fstatAsync(fd)).size);
    const want = cursor.want(max);
    if (want === 0) return 0;
    let n: number;
    try {
      n = (await readAsync(fd, buf, at, want, cursor.position)).bytesRead;
    } catch (e) {
      throw cursor.failed(e);
    }
    return cursor.advance(n);
  }, options);
}

/** The same, synchronously (for worker threads); `size` must be given. */
export function chunkFileSync(chunker: Chunker, fd: number, options: ChunkFileOptions & { readonly size: number }): Generator<Chunk, void, undefined> {
  options = { ...fileDefaults(chunker, options), size: options.size };
  const cursor = new FileCursor(options.name ?? `fd ${fd}`, options.start ?? 0, options.size);
  return driveSync(chunker, (buf, at, max) => {
    const want = cursor.want(max);
    if (want === 0) return 0;
    let n: number;
    try {
      n = readSync(fd, buf, at, want, cursor.position);
    } catch (e) {
      throw cursor.failed(e);
    }
    return cursor.advance(n);
  }, options);
}

/** Runs `cleanup` when the generator finishes or is abandoned. */
async function* closing<T>(gen: AsyncGenerator<T, void, undefined>, cleanup: () => unknown): AsyncGenerator<T, void, undefined> {
  try {
    yield* gen;
  } finally {
    await cleanup();
  }
}

/** Boundaries only: `[offset, length]` pairs of a whole in-memory buffer (tests, diagnostics). */
export async function chunkBoundaries(chunker: Chunker, data: Uint8Array): Promise<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  for await (const c of chunkStream(chunker, [data])) out.push([c.offset, c.length]);
  return out;
}
