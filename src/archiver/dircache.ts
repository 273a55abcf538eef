/**
 * The directory cache: what lets an unchanged directory's tree be known without reading the
 * parent snapshot's tree of it. For every directory a snapshot records cleanly (no warning while
 * it was visited), one entry: the digest of its scan (see `scanFingerprint`: every entry's name
 * and stat as its node records them, after a prefix naming the directory's path, the run's
 * selection and comparison options) → its tree's ID, which of its entries are subdirectories in
 * that tree with their trees' IDs, and how many files and bytes the tree's files hold.
 *
 * A later snapshot whose scan of a directory gives the same digest, and whose parent snapshot has
 * the entry's tree for it, takes that tree as the directory's as soon as each subdirectory turns
 * out to have its entry's tree (each decided the same way, bottom-up): the parent's tree is never
 * loaded, decoded or compared. The result is the tree the usual path would build (the parent rule
 * for file content, the inode-and-ctime rule for symlink targets and extended attributes, as the
 * usual path applies them), as long as every blob it names is still in the repository. That is
 * what the index files say: the cache keeps the IDs of the index files present when it was
 * written, and a cache whose index files are not all still there (prune, repair index) is
 * dropped whole.
 *
 * It lives outside the repository (`<cache dir>/<repository ID>/dirs`, mode 0600): restic never
 * sees it. It is a cache: a file that cannot be read, is cut short or fails its checksum is
 * reported and started afresh; an entry not used by DIR_CACHE_AGE snapshots in a row is dropped.
 *
 * Layout (little-endian): MAGIC; u32 n, n index IDs (32 bytes each); u32 m, m entries of key (32),
 * age (u8), tree (32), files (f64), bytes (f64), u32 k, k × (row u32, subtree 32); then the
 * SHA-256 of all that.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { messageOf } from '../errors.js';
import type { TreeId } from '../model/index.js';

const MAGIC = Buffer.from('cairn directory cache 1\n');
/** Snapshots in a row an entry may go unused before it is dropped. */
export const DIR_CACHE_AGE = 10;
const ID = 32;

/** One directory as a snapshot recorded it. */
export interface DirCacheEntry {
  readonly tree: TreeId;
  /** Files in the tree and the sum of their sizes (what the snapshot counts as processed). */
  readonly files: number;
  readonly bytes: number;
  /** The scan indexes of the entries that are subdirectories in the tree, in order… */
  readonly rows: readonly number[];
  /** …and their trees. */
  readonly subtrees: readonly TreeId[];
}

interface Stored extends DirCacheEntry {
  /** Snapshots since it was last used, as stored; -1 once this run used it. */
  age: number;
}

export interface DirCacheOptions {
  /** The index files the repository has now (what the cache's blobs must still be in). */
  readonly indexFiles: readonly string[];
  /** Told what went wrong with the file (a warning: the snapshot goes on). */
  readonly onProblem: (message: string) => void;
}

export class DirCache {
  private constructor(
    readonly file: string,
    private readonly entries: Map<string, Stored>,
    private readonly onProblem: (message: string) => void,
  ) {}

  /** Opens the cache at `file` (empty when there is none, or it cannot be used). */
  static async open(file: string, options: DirCacheOptions): Promise<DirCache> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') options.onProblem(`cannot read the directory cache ${file}, every directory is compared with the parent snapshot: ${messageOf(e)}`);
      return new DirCache(file, new Map(), options.onProblem);
    }
    let parsed;
    try {
      parsed = decode(bytes);
    } catch (e) {
      options.onProblem(`the directory cache ${file} is damaged (${messageOf(e)}); it is rebuilt, every directory is compared with the parent snapshot`);
      return new DirCache(file, new Map(), options.onProblem);
    }
    const present = new Set(options.indexFiles);
    // An index file gone means blobs may be gone (prune, repair index): nothing in the cache holds.
    const entries = parsed.indexFiles.every((id) => present.has(id)) ? parsed.entries : new Map<string, Stored>();
    return new DirCache(file, entries, options.onProblem);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry for `key`, marked as used by this run. */
  get(key: Uint8Array): DirCacheEntry | undefined {
    const e = this.entries.get(keyString(key));
    if (e !== undefined) e.age = -1;
    return e;
  }

  set(key: Uint8Array, entry: DirCacheEntry): void {
    this.entries.set(keyString(key), { ...entry, age: -1 });
  }

  /**
   * Writes the cache (atomically: a new file renamed over the old), with `indexFiles` (those the
   * repository has after the snapshot). Entries this run did not use age by one; those older than
   * DIR_CACHE_AGE are left out. A failure is reported, not thrown: the snapshot is saved already.
   */
  async save(indexFiles: readonly string[]): Promise<void> {
    const kept: Array<[string, Stored]> = [];
    for (const [k, e] of this.entries) {
      if (e.age + 1 >= DIR_CACHE_AGE) this.entries.delete(k);
      else kept.push([k, e]);
    }
    const bytes = encode(indexFiles, kept);
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, this.file);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      this.onProblem(`cannot write the directory cache ${this.file} (the next snapshot compares every directory with its parent, which is slower): ${messageOf(e)}`);
    } finally {
      for (const [, e] of kept) e.age++;
    }
  }
}

const keyString = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

function encode(indexFiles: readonly string[], entries: ReadonlyArray<readonly [string, Stored]>): Buffer {
  let size = MAGIC.length + 4 + indexFiles.length * ID + 4;
  for (const [, e] of entries) size += ID + 1 + ID + 16 + 4 + e.rows.length * (4 + ID);
  const out = Buffer.alloc(size + ID);
  let o = MAGIC.copy(out, 0);
  o = out.writeUInt32LE(indexFiles.length, o);
  for (const id of indexFiles) o += out.write(id, o, ID, 'hex');
  o = out.writeUInt32LE(entries.length, o);
  for (const [k, e] of entries) {
    o += out.write(k, o, ID, 'latin1');
    o = out.writeUInt8(e.age + 1, o);
    o += out.write(e.tree, o, ID, 'hex');
    o = out.writeDoubleLE(e.files, o);
    o = out.writeDoubleLE(e.bytes, o);
    o = out.writeUInt32LE(e.rows.length, o);
    for (let i = 0; i < e.rows.length; i++) {
      o = out.writeUInt32LE(e.rows[i]!, o);
      o += out.write(e.subtrees[i]!, o, ID, 'hex');
    }
  }
  createHash('sha256').update(out.subarray(0, o)).digest().copy(out, o);
  return out;
}

function decode(b: Buffer): { indexFiles: string[]; entries: Map<string, Stored> } {
  if (b.length < MAGIC.length + 8 + ID || !b.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a directory cache of this version');
  const body = b.subarray(0, b.length - ID);
  if (!createHash('sha256').update(body).digest().equals(b.subarray(b.length - ID))) throw new Error('checksum mismatch');
  let o = MAGIC.length;
  const need = (n: number): void => {
    if (o + n > body.length) throw new Error('cut short');
  };
  need(4);
  const n = body.readUInt32LE(o);
  o += 4;
  need(n * ID);
  const indexFiles: string[] = [];
  for (let i = 0; i < n; i++, o += ID) indexFiles.push(body.toString('hex', o, o + ID));
  need(4);
  const m = body.readUInt32LE(o);
  o += 4;
  const entries = new Map<string, Stored>();
  for (let j = 0; j < m; j++) {
    need(ID + 1 + ID + 16 + 4);
    const key = body.toString('latin1', o, o + ID);
    const age = body.readUInt8(o + ID);
    const tree = body.toString('hex', o + ID + 1, o + 2 * ID + 1) as TreeId;
    o += 2 * ID + 1;
    const files = body.readDoubleLE(o);
    const bytes = body.readDoubleLE(o + 8);
    const k = body.readUInt32LE(o + 16);
    o += 20;
    need(k * (4 + ID));
    const rows: number[] = [];
    const subtrees: TreeId[] = [];
    for (let i = 0; i < k; i++, o += 4 + ID) {
      rows.push(body.readUInt32LE(o));
      subtrees.push(body.toString('hex', o + 4, o + 4 + ID) as TreeId);
    }
    entries.set(key, { tree, files, bytes, rows, subtrees, age });
  }
  if (o !== body.length) throw new Error('trailing bytes');
  return { indexFiles, entries };
}
