/**
 * An in-memory backend for tests: the same contract and the same errors as the local backend,
 * files kept as private copies (saving copies the caller's bytes in, loading copies them out, so
 * neither side can alter a stored file by accident). Tests can look at and damage stored bytes
 * through `get`/`put`/`delete`/`files`, and make any operation fail through a fault hook.
 */
import { CairnError } from '../../errors.js';
import type { FileType } from '../../model/index.js';
import { checkHandle, checkRangeArgs, checkType, describe, notFound, rangeLength } from '../local/checks.js';
import type { Backend, FileInfo, Handle } from '../types.js';

/** The operation a {@link MemoryFaultHook} is asked about. */
export type MemoryOperation = 'create' | 'save' | 'load' | 'stat' | 'list' | 'remove';

/**
 * Called before each operation (with its handle, or `{ type, name: '' }` for `list`, or
 * undefined for `create`); if it throws (or rejects), the operation fails with that error and
 * changes nothing. Use it to simulate storage failures (throw a retryable ERR_BACKEND).
 */
export type MemoryFaultHook = (op: MemoryOperation, h: Handle | undefined) => void | Promise<void>;

export interface MemoryBackendOptions {
  /** @default 'memory:' */
  readonly location?: string;
  readonly fault?: MemoryFaultHook;
}

function key(h: Handle): string {
  return `${h.type}/${h.name}`;
}

export class MemoryBackend implements Backend {
  readonly location: string;
  /** The fault hook; tests may set or clear it at any time. */
  fault: MemoryFaultHook | undefined;
  readonly #files = new Map<string, { readonly handle: Handle; data: Uint8Array }>();

  constructor(options: MemoryBackendOptions = {}) {
    this.location = options.location ?? 'memory:';
    this.fault = options.fault;
  }

  async create(): Promise<void> {
    await this.fault?.('create', undefined);
    if (this.#files.has('config/config')) {
      throw new CairnError('ERR_REPO_EXISTS', `a repository already exists at ${this.location} (it has a config file); use it, or choose an empty location`, {
        data: { location: this.location },
      });
    }
  }

  async save(h: Handle, data: Uint8Array): Promise<void> {
    checkHandle(h, this.location);
    if (!(data instanceof Uint8Array)) {
      throw new CairnError('ERR_INVALID_ARGUMENT', `${this.location}: cannot save ${describe(h)}: the data is not a Uint8Array; this is a bug in the caller`, {
        data: { type: h.type, name: h.name },
      });
    }
    const copy = new Uint8Array(data); // a copy, and a plain Uint8Array even if data is a Buffer
    await this.fault?.('save', h);
    // Let other calls run between the start and the end of a save, as real storage does.
    await Promise.resolve();
    this.#files.set(key(h), { handle: { type: h.type, name: h.name }, data: copy });
  }

  async load(h: Handle, offset = 0, length?: number): Promise<Uint8Array> {
    checkHandle(h, this.location);
    checkRangeArgs(h, this.location, offset, length);
    await this.fault?.('load', h);
    const f = this.#files.get(key(h));
    if (f === undefined) throw notFound(h, this.location);
    const n = rangeLength(h, this.location, offset, length, f.data.length);
    return f.data.slice(offset, offset + n);
  }

  async stat(h: Handle): Promise<FileInfo> {
    checkHandle(h, this.location);
    await this.fault?.('stat', h);
    const f = this.#files.get(key(h));
    if (f === undefined) throw notFound(h, this.location);
    return { name: h.name, size: f.data.length };
  }

  async *list(type: FileType): AsyncIterable<FileInfo> {
    checkType(type, this.location);
    await this.fault?.('list', { type, name: '' });
    const found = [...this.#files.values()].filter((f) => f.handle.type === type).map((f) => ({ name: f.handle.name, size: f.data.length }));
    yield* found;
  }

  async remove(h: Handle): Promise<void> {
    checkHandle(h, this.location);
    await this.fault?.('remove', h);
    if (!this.#files.delete(key(h))) throw notFound(h, this.location);
  }

  async close(): Promise<void> {
    // Nothing to release.
  }

  // ---- test helpers: no checks, no fault hook ----

  /** The stored bytes themselves (not a copy: changing them damages the stored file), or undefined. */
  get(h: Handle): Uint8Array | undefined {
    return this.#files.get(key(h))?.data;
  }

  /** Stores `data` (as is, not copied) under `h`, bypassing checks and the fault hook. */
  put(h: Handle, data: Uint8Array): void {
    this.#files.set(key(h), { handle: { type: h.type, name: h.name }, data });
  }

  /** Removes `h` if present; true if it was. */
  delete(h: Handle): boolean {
    return this.#files.delete(key(h));
  }

  /** Every stored file, with its stored bytes (not copies). */
  files(): Array<{ readonly handle: Handle; readonly data: Uint8Array }> {
    return [...this.#files.values()].map((f) => ({ handle: f.handle, data: f.data }));
  }
}
