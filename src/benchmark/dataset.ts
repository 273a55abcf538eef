/**
 * Benchmark datasets: the generated checkpoint pair, and manifests (size + SHA-256 of every file)
 * to verify a restore against its source.
 *
 * The checkpoint pair imitates two saves of a model in training: bf16 values drawn from a
 * normal-ish distribution (sum of four uniforms, σ ≈ 0.02, as weights are), so the bytes compress
 * about as much as real weights do (the sign and low mantissa bits are noise, the exponent is
 * not). The second file is the first with ~3% of its 64 KiB regions rewritten. Everything comes
 * from xorshift32 streams seeded by `seed`: the same seed and size give the same bytes on every
 * machine (the values are written little-endian).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CairnError } from '../errors.js';
import { mapConcurrent } from '../util/index.js';

/** Size of a rewritten region of the second checkpoint. */
export const REGION_SIZE = 64 * 1024;
/** Share of the second checkpoint's regions that differ from the first. */
export const CHANGED_SHARE = 0.03;
/** The file names of the generated pair, in order. */
export const CHECKPOINT_NAMES = ['step-1000.bf16', 'step-2000.bf16'] as const;

export interface CheckpointOptions {
  /** Bytes per file: a multiple of 64 KiB. @default 512 MiB */
  readonly size?: number;
  /** @default 1 */
  readonly seed?: number;
}

export interface CheckpointSet {
  readonly dir: string;
  readonly files: readonly string[];
  readonly bytesPerFile: number;
  /** Indexes of the 64 KiB regions of the second file that were rewritten, ascending. */
  readonly changedRegions: readonly number[];
}

/** xorshift32 with a non-zero state derived from `seed`. */
class XorShift32 {
  private s: number;
  constructor(seed: number) {
    let s = (seed ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    this.s = (s ^ (s >>> 16)) >>> 0 || 0x6d2b79f5;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
}

/** 65,536 bf16 bit patterns drawn from a normal-ish distribution: a lookup by 16 random bits. */
function bf16Table(seed: number): Uint16Array {
  const rng = new XorShift32(seed * 7919 + 17);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const table = new Uint16Array(65536);
  const scale = 0.02 * Math.sqrt(3); // the sum of four U(0,1) has variance 1/3
  for (let i = 0; i < table.length; i++) {
    let sum = 0;
    for (let k = 0; k < 4; k++) sum += rng.next() / 2 ** 32;
    f[0] = (sum - 2) * scale;
    const bits = u[0]!;
    table[i] = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff; // round to nearest even
  }
  return table;
}

/** Fills `out` (length a multiple of 4) with bf16 values from `rng`. */
function fill(out: Uint8Array, table: Uint16Array, rng: XorShift32): void {
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (let i = 0; i < words.length; i++) {
    const r = rng.next();
    const w = (table[r & 0xffff]! | (table[r >>> 16]! << 16)) >>> 0;
    if (littleEndian) words[i] = w;
    else view.setUint32(i * 4, w, true);
  }
}

/** The regions of the second file to rewrite: round(3%) of them (at least one), chosen by `seed`. */
export function changedRegions(regions: number, seed: number): number[] {
  const count = Math.max(1, Math.round(regions * CHANGED_SHARE));
  const rng = new XorShift32(seed * 31 + 5);
  const order = Array.from({ length: regions }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + (rng.next() % (regions - i));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.slice(0, count).sort((a, b) => a - b);
}

/**
 * Writes the checkpoint pair into `dir` (created if missing) and returns what was written.
 * Generation is streamed in 8 MiB pieces; 2 × 512 MiB take a few seconds.
 */
export async function generateCheckpoints(dir: string, options: CheckpointOptions = {}, signal?: AbortSignal): Promise<CheckpointSet> {
  const size = options.size ?? 512 * 1024 * 1024;
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(size) || size < REGION_SIZE || size % REGION_SIZE !== 0) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `checkpoint size ${size} is not a positive multiple of 64 KiB; give e.g. --size 4MiB`, { data: { size } });
  }
  await mkdir(dir, { recursive: true });
  const table = bf16Table(seed);
  const regions = size / REGION_SIZE;
  const changed = changedRegions(regions, seed);
  const changedSet = new Set(changed);
  const piece = new Uint8Array(Math.min(size, 8 * 1024 * 1024)); // a multiple of REGION_SIZE
  const files: string[] = [];
  for (const [n, name] of CHECKPOINT_NAMES.entries()) {
    const path = join(dir, name);
    files.push(path);
    const rng = new XorShift32(seed); // the same stream for both files: the second starts as a copy
    const fh = await open(path, 'w');
    try {
      for (let offset = 0; offset < size; offset += piece.length) {
        if (signal?.aborted === true) throw new CairnError('ERR_INTERRUPTED', 'interrupted while generating the checkpoint dataset');
        const chunk = piece.subarray(0, Math.min(piece.length, size - offset));
        fill(chunk, table, rng);
        if (n === 1) {
          for (let r = offset / REGION_SIZE; r < (offset + chunk.length) / REGION_SIZE; r++) {
            if (!changedSet.has(r)) continue;
            const at = r * REGION_SIZE - offset;
            fill(chunk.subarray(at, at + REGION_SIZE), table, new XorShift32(seed * 1_000_003 + r + 1));
          }
        }
        await fh.write(chunk);
      }
    } finally {
      await fh.close();
    }
  }
  return { dir, files, bytesPerFile: size, changedRegions: changed };
}

/** What a path in a tree is, as a restore must reproduce it. */
export type ManifestEntry =
  | { readonly type: 'file'; readonly size: number; readonly sha256: string }
  | { readonly type: 'dir' }
  | { readonly type: 'symlink'; readonly target: string }
  | { readonly type: 'other' }
  /** A file the benchmark could not read (e.g. permissions): left out of the comparison. */
  | { readonly type: 'unreadable' };

export interface Manifest {
  /** Relative path ('/'-separated) → entry; the root itself is not listed. */
  readonly entries: ReadonlyMap<string, ManifestEntry>;
  readonly files: number;
  readonly bytes: number;
}

async function hashFile(path: string, size: number): Promise<string> {
  if (size <= 16 * 1024 * 1024) return createHash('sha256').update(await readFile(path)).digest('hex');
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Walks `root` (not following symlinks) and hashes every regular file. */
export async function buildManifest(root: string, signal?: AbortSignal): Promise<Manifest> {
  const entries = new Map<string, ManifestEntry>();
  const files: { rel: string; path: string; size: number }[] = [];
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, d.name);
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) {
        entries.set(r, { type: 'dir' });
        await walk(path, r);
      } else if (d.isSymbolicLink()) {
        entries.set(r, { type: 'symlink', target: await readlink(path) });
      } else if (d.isFile()) {
        files.push({ rel: r, path, size: (await lstat(path)).size });
      } else {
        entries.set(r, { type: 'other' });
      }
    }
  };
  await walk(root, '');
  let bytes = 0;
  const hashes = await mapConcurrent(files, 8, async (f) => {
    if (signal?.aborted === true) throw new CairnError('ERR_INTERRUPTED', 'interrupted while hashing the benchmark data');
    try {
      return await hashFile(f.path, f.size);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES') return undefined;
      throw e;
    }
  });
  for (const [i, f] of files.entries()) {
    const sha256 = hashes[i];
    if (sha256 === undefined) entries.set(f.rel, { type: 'unreadable' });
    else {
      entries.set(f.rel, { type: 'file', size: f.size, sha256 });
      bytes += f.size;
    }
  }
  return { entries, files: files.length, bytes };
}

/** The paths where `restored` differs from `source` (missing, other type, size, bytes, link target). */
export function compareManifests(source: Manifest, restored: Manifest): string[] {
  const diffs: string[] = [];
  for (const [path, want] of source.entries) {
    if (want.type === 'unreadable') continue;
    const got = restored.entries.get(path);
    if (got === undefined) diffs.push(`${path}: missing`);
    else if (got.type !== want.type) diffs.push(`${path}: ${got.type} instead of ${want.type}`);
    else if (want.type === 'file' && got.type === 'file') {
      if (got.size !== want.size) diffs.push(`${path}: ${got.size} bytes instead of ${want.size}`);
      else if (got.sha256 !== want.sha256) diffs.push(`${path}: different bytes (SHA-256)`);
    } else if (want.type === 'symlink' && got.type === 'symlink' && got.target !== want.target) diffs.push(`${path}: link to ${got.target} instead of ${want.target}`);
  }
  for (const path of restored.entries.keys()) if (!source.entries.has(path)) diffs.push(`${path}: not in the source`);
  return diffs;
}
