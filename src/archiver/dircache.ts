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
 * Two snapshots that run at once each write what they read plus their own entries: the last one
 * written wins, and the other's directories are compared with their parents' trees next time.
 *
 * Layout (little-endian): MAGIC; u32 n, n index IDs (32 bytes each); u32 m, m entries of key (32),
 * age (u8), tree (32), files (f64), bytes (f64), u32 k, k × (row u32, subtree 32); then the
 * SHA-256 of all that. In memory the entries stay in that layout, in one buffer, found through
 * an open-addressing table of their keys (~100 bytes per directory and 36 per subdirectory, plus
 * 8 bytes of table: no object, string or map entry per directory).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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

export interface DirCacheOptions {
  /** The index files the repository has now (what the cache's blobs must still be in). */
  readonly indexFiles: readonly string[];
  /** Told what went wrong with the file (a warning: the snapshot goes on). */
  readonly onProblem: (message: string) => void;
}

/** An entry's fixed part: key, age, tree, files, bytes, subdirectory count. */
const HEAD = ID + 1 + ID + 8 + 8 + 4;
const AGE_AT = ID;
const TREE_AT = ID + 1;
const FILES_AT = 2 * ID + 1;
const COUNT_AT = HEAD - 4;
const SUBDIR = 4 + ID;
/** Flags of an entry: used by this run; replaced or dropped (never found again). */
const USED = 1;
const DEAD = 2;

/** The entries, in the file's layout (each with its age byte), one after the other in `buf`. */
class Entries {
  private buf: Buffer;
  private end: number;
  private offsets = new Float64Array(64);
  private flags = new Uint8Array(64);
  private count = 0;
  /** Entry index + 1 by key (open addressing on the key's first bytes, which are a digest's); 0: free. */
  private slots = new Int32Array(128);
  live = 0;

  constructor(buf: Buffer = Buffer.alloc(0), end = 0) {
    this.buf = buf;
    this.end = end;
  }

  /** Takes the entry that starts at `off` in the buffer (already there); its end. */
  adopt(off: number): number {
    const end = this.endOf(off);
    if (end > this.end) throw new Error('cut short');
    this.push(off, 0);
    return end;
  }

  /** Where the entry at `off` ends. */
  private endOf(off: number): number {
    return off + HEAD + this.buf.readUInt32LE(off + COUNT_AT) * SUBDIR;
  }

  find(key: Uint8Array): number {
    const mask = this.slots.length - 1;
    for (let h = hashOf(key, 0) & mask; ; h = (h + 1) & mask) {
      const s = this.slots[h]!;
      if (s === 0) return -1;
      const i = s - 1;
      const off = this.offsets[i]!;
      if ((this.flags[i]! & DEAD) === 0 && this.buf.compare(key, 0, ID, off, off + ID) === 0) return i;
    }
  }

  /** Entry `i`, marked used. */
  take(i: number): DirCacheEntry {
    this.flags[i]! |= USED;
    const b = this.buf;
    const off = this.offsets[i]!;
    const k = b.readUInt32LE(off + COUNT_AT);
    const rows: number[] = new Array<number>(k);
    const subtrees: TreeId[] = new Array<TreeId>(k);
    for (let j = 0, o = off + HEAD; j < k; j++, o += SUBDIR) {
      rows[j] = b.readUInt32LE(o);
      subtrees[j] = b.toString('hex', o + 4, o + SUBDIR) as TreeId;
    }
    return { tree: b.toString('hex', off + TREE_AT, off + TREE_AT + ID) as TreeId, files: b.readDoubleLE(off + FILES_AT), bytes: b.readDoubleLE(off + FILES_AT + 8), rows, subtrees };
  }

  /** Adds an entry, used by this run (replacing one of the same key). */
  add(key: Uint8Array, e: DirCacheEntry): void {
    const old = this.find(key);
    if (old >= 0) this.drop(old);
    const size = HEAD + e.rows.length * SUBDIR;
    if (this.end + size > this.buf.length) {
      // A quarter more (and at least 1 MiB): the file's buffer, read whole, is not doubled for a
      // few changed directories.
      const grown = Buffer.allocUnsafe(Math.max(this.end + size, Math.floor(1.25 * this.buf.length) + (1 << 20)));
      this.buf.copy(grown, 0, 0, this.end);
      this.buf = grown;
    }
    const b = this.buf;
    const off = this.end;
    b.set(key.subarray(0, ID), off);
    b[off + AGE_AT] = 0;
    b.write(e.tree, off + TREE_AT, ID, 'hex');
    b.writeDoubleLE(e.files, off + FILES_AT);
    b.writeDoubleLE(e.bytes, off + FILES_AT + 8);
    b.writeUInt32LE(e.rows.length, off + COUNT_AT);
    for (let j = 0, o = off + HEAD; j < e.rows.length; j++, o += SUBDIR) {
      b.writeUInt32LE(e.rows[j]!, o);
      b.write(e.subtrees[j]!, o + 4, ID, 'hex');
    }
    this.end += size;
    this.push(off, USED);
  }

  /**
   * Ages every entry for a save (0 when used by this run, else one more), drops those that reach
   * DIR_CACHE_AGE, and gives the byte ranges of those kept, their age bytes set.
   */
  age(): { ranges: Array<[number, number]>; bytes: number; count: number; buf: Buffer } {
    const ranges: Array<[number, number]> = [];
    let bytes = 0;
    for (let i = 0; i < this.count; i++) {
      if ((this.flags[i]! & DEAD) !== 0) continue;
      const off = this.offsets[i]!;
      const age = (this.flags[i]! & USED) !== 0 ? 0 : this.buf[off + AGE_AT]! + 1;
      this.flags[i]! &= ~USED;
      if (age >= DIR_CACHE_AGE) {
        this.drop(i);
        continue;
      }
      this.buf[off + AGE_AT] = age;
      const end = this.endOf(off);
      ranges.push([off, end]);
      bytes += end - off;
    }
    return { ranges, bytes, count: ranges.length, buf: this.buf };
  }

  private drop(i: number): void {
    this.flags[i]! |= DEAD;
    this.live--;
  }

  private push(off: number, flags: number): void {
    if (this.count === this.offsets.length) {
      const n = 2 * this.count;
      this.offsets = grow(this.offsets, new Float64Array(n));
      this.flags = grow(this.flags, new Uint8Array(n));
    }
    const i = this.count++;
    this.offsets[i] = off;
    this.flags[i] = flags;
    this.live++;
    if (2 * this.count > this.slots.length) this.rehash(2 * this.slots.length);
    else this.place(i);
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let i = 0; i < this.count; i++) if ((this.flags[i]! & DEAD) === 0) this.place(i);
  }

  private place(i: number): void {
    const mask = this.slots.length - 1;
    let h = hashOf(this.buf, this.offsets[i]!) & mask;
    while (this.slots[h] !== 0) h = (h + 1) & mask;
    this.slots[h] = i + 1;
  }
}

const hashOf = (b: Uint8Array, off: number): number => (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;

function grow<T extends Float64Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

export class DirCache {
  private constructor(
    readonly file: string,
    private readonly entries: Entries,
    private readonly onProblem: (message: string) => void,
  ) {}

  /** Opens the cache at `file` (empty when there is none, or it cannot be used). */
  static async open(file: string, options: DirCacheOptions): Promise<DirCache> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') options.onProblem(`cannot read the directory cache ${file}, every directory is compared with the parent snapshot: ${messageOf(e)}`);
      return new DirCache(file, new Entries(), options.onProblem);
    }
    let parsed;
    try {
      parsed = decode(bytes);
    } catch (e) {
      options.onProblem(`the directory cache ${file} is damaged (${messageOf(e)}); it is rebuilt, every directory is compared with the parent snapshot`);
      return new DirCache(file, new Entries(), options.onProblem);
    }
    const present = new Set(options.indexFiles);
    // An index file gone means blobs may be gone (prune, repair index): nothing in the cache holds.
    const entries = parsed.indexFiles.every((id) => present.has(id)) ? parsed.entries : new Entries();
    return new DirCache(file, entries, options.onProblem);
  }

  get size(): number {
    return this.entries.live;
  }

  /** The entry for `key`, marked as used by this run. */
  get(key: Uint8Array): DirCacheEntry | undefined {
    const i = this.entries.find(key);
    return i < 0 ? undefined : this.entries.take(i);
  }

  set(key: Uint8Array, entry: DirCacheEntry): void {
    this.entries.add(key, entry);
  }

  /**
   * Writes the cache (atomically: a new file renamed over the old), with `indexFiles` (those the
   * repository has after the snapshot). Entries this run did not use age by one; those older than
   * DIR_CACHE_AGE are left out. A failure is reported, not thrown: the snapshot is saved already.
   */
  async save(indexFiles: readonly string[]): Promise<void> {
    const bytes = encode(indexFiles, this.entries.age());
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, this.file);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      this.onProblem(`cannot write the directory cache ${this.file} (the next snapshot compares every directory with its parent, which is slower): ${messageOf(e)}`);
      return;
    }
    await this.removeStale();
  }

  /**
   * Removes what killed runs left: temporary files of this cache an hour old or older (a younger
   * one may be another snapshot's, being written now). A failure is reported, not thrown.
   */
  private async removeStale(): Promise<void> {
    const dir = dirname(this.file);
    const prefix = `${basename(this.file)}.`;
    try {
      for (const name of await readdir(dir)) {
        if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
        const path = join(dir, name);
        const st = await stat(path).catch(() => undefined);
        if (st !== undefined && Date.now() - st.mtimeMs >= STALE_MS) await rm(path, { force: true });
      }
    } catch (e) {
      this.onProblem(`cannot remove a temporary file an earlier run left in ${dir} (it is safe to delete files named ${prefix}*.tmp there): ${messageOf(e)}`);
    }
  }
}

/** A temporary cache file this old was left by a run that was killed while writing it. */
const STALE_MS = 60 * 60 * 1000;

function encode(indexFiles: readonly string[], kept: ReturnType<Entries['age']>): Buffer {
  const out = Buffer.alloc(MAGIC.length + 4 + indexFiles.length * ID + 4 + kept.bytes + ID);
  let o = MAGIC.copy(out, 0);
  o = out.writeUInt32LE(indexFiles.length, o);
  for (const id of indexFiles) o += out.write(id, o, ID, 'hex');
  o = out.writeUInt32LE(kept.count, o);
  for (const [start, end] of kept.ranges) o += kept.buf.copy(out, o, start, end);
  createHash('sha256').update(out.subarray(0, o)).digest().copy(out, o);
  return out;
}

function decode(b: Buffer): { indexFiles: string[]; entries: Entries } {
  if (b.length < MAGIC.length + 8 + ID || !b.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a directory cache of this version');
  const body = b.subarray(0, b.length - ID);
  if (!createHash('sha256').update(body).digest().equals(b.subarray(b.length - ID))) throw new Error('checksum mismatch');
  let o = MAGIC.length;
  const n = body.readUInt32LE(o);
  o += 4;
  if (o + n * ID + 4 > body.length) throw new Error('cut short');
  const indexFiles: string[] = [];
  for (let i = 0; i < n; i++, o += ID) indexFiles.push(body.toString('hex', o, o + ID));
  const m = body.readUInt32LE(o);
  o += 4;
  const entries = new Entries(body, body.length);
  for (let j = 0; j < m; j++) {
    if (o + HEAD > body.length) throw new Error('cut short');
    o = entries.adopt(o);
  }
  if (o !== body.length) throw new Error('trailing bytes');
  return { indexFiles, entries };
}
