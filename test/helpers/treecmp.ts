/**
 * An independent, stat-level witness that a restored tree equals its source in everything
 * restic 0.14 restores: entry types, permission bits (setuid, setgid, sticky included), owners,
 * sizes, content (SHA-256), modification times to the nanosecond (directories' too), access times
 * on request, extended attributes, exact symlink target bytes, device numbers, hard-link groups
 * and, on request, sparseness.
 *
 * The facts come from `treestat.py` (Python standard library only) so that no bug in cairn's own
 * file-system code can hide itself; this module only runs it and compares.
 *
 * Paths are keyed by treestat's *display*: the relative path as UTF-8 text with `\` doubled,
 * undecodable bytes and C0/DEL controls as `\xNN` and C1 controls as `\u00NN`. The display is
 * injective (two keys are equal only when the raw bytes are), and the raw bytes are kept in
 * `StatEntry.pathBytes`. The tree's root has the key `""`.
 *
 * Access times: reading a tree can move them (relatime), and treestat avoids that (O_NOATIME,
 * symlink atimes put back), but the backup that read the source may not have. To compare atimes,
 * take `statTree(source)` *before* the backup and pass that map to `compareTrees`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'chardev' | 'blockdev' | 'unknown';

/** One entry of a tree, as treestat.py saw it. */
export interface StatEntry {
  /** The key: injective display of the path relative to the root (`""` for the root). */
  readonly path: string;
  /** The raw bytes of the relative path. */
  readonly pathBytes: Buffer;
  readonly type: EntryType;
  /** `st_mode & 0o7777`. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly mtimeNs: bigint;
  readonly atimeNs: bigint;
  /** Reported, never compared. */
  readonly ctimeNs: bigint;
  readonly dev: bigint;
  readonly ino: bigint;
  /** Sorted by raw name bytes: [name display, value]. */
  readonly xattrs: ReadonlyArray<readonly [string, Buffer]>;
  /** Regular files: `st_size`. */
  readonly size?: number;
  /** Regular files: SHA-256 of the content, hex. */
  readonly sha256?: string;
  /** Regular files: data extents `[start, end)` from SEEK_DATA/SEEK_HOLE. */
  readonly extents?: ReadonlyArray<readonly [number, number]>;
  /** Regular files: `st_blocks * 512`. */
  readonly allocated?: number;
  /** Regular files: `st_blksize`. */
  readonly blksize?: number;
  /** Symlinks: raw target bytes. */
  readonly target?: Buffer;
  /** Symlinks: display of the target (same escaping as paths). */
  readonly targetDisplay?: string;
  /** Devices: `st_rdev`, and its major and minor numbers. */
  readonly rdev?: bigint;
  readonly rdevMajor?: number;
  readonly rdevMinor?: number;
  /** What could not be read (permission denied…); compared as a difference. */
  readonly errors?: readonly string[];
}

/** Every entry of a tree, by path key, in depth-first byte order, the root (key `""`) first. */
export type TreeStat = Map<string, StatEntry>;

export interface CompareOptions {
  /** Compare access times too. @default false */
  readonly atime?: boolean;
  /**
   * Check that files with holes in the source still have holes in the restore (see
   * {@link compareStats} for the criterion). @default false
   */
  readonly sparse?: boolean;
  /**
   * Bytes of data a restore may allocate beyond the source's, per source data extent plus one.
   * @default 1048576 (twice the 512 KiB minimum chunk of restic's and cairn's chunkers)
   */
  readonly sparseSlack?: number;
  /** Extended attributes whose names start with one of these are ignored on both sides. */
  readonly ignoreXattrPrefixes?: readonly string[];
  /** Entries of these types are ignored on both sides (e.g. `['socket']`). */
  readonly ignoreTypes?: readonly string[];
  /** Entries whose path key satisfies this, and everything below them, are ignored. */
  readonly ignorePaths?: (p: string) => boolean;
  /** Compare the metadata of the roots themselves (mode, owner, times, xattrs). @default false */
  readonly rootMetadata?: boolean;
}

const SCRIPT = fileURLToPath(new URL('./treestat.py', import.meta.url));

interface RawEntry {
  path: string;
  path_b64: string;
  type: EntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  nlink?: number;
  mtime_ns?: string;
  atime_ns?: string;
  ctime_ns?: string;
  dev?: string;
  ino?: string;
  xattrs?: [string, string][];
  size?: number;
  sha256?: string;
  extents?: [number, number][];
  allocated?: number;
  blksize?: number;
  target?: string;
  target_b64?: string;
  rdev?: string;
  rdev_major?: number;
  rdev_minor?: number;
  errors?: string[];
}

/** Runs `python3 treestat.py dir` and collects what it prints. */
export async function statTree(dir: string): Promise<TreeStat> {
  const stdout = await run('python3', [SCRIPT, dir]);
  const out: TreeStat = new Map();
  for (const line of stdout.split('\n')) {
    if (line === '') continue;
    const e = toEntry(JSON.parse(line) as RawEntry);
    out.set(e.path, e);
  }
  return out;
}

function toEntry(r: RawEntry): StatEntry {
  const big = (s: string | undefined): bigint => BigInt(s ?? '0');
  const e: { -readonly [K in keyof StatEntry]: StatEntry[K] } = {
    path: r.path,
    pathBytes: Buffer.from(r.path_b64, 'base64'),
    type: r.type,
    mode: r.mode ?? 0,
    uid: r.uid ?? -1,
    gid: r.gid ?? -1,
    nlink: r.nlink ?? 0,
    mtimeNs: big(r.mtime_ns),
    atimeNs: big(r.atime_ns),
    ctimeNs: big(r.ctime_ns),
    dev: big(r.dev),
    ino: big(r.ino),
    xattrs: (r.xattrs ?? []).map(([n, v]) => [n, Buffer.from(v, 'base64')] as const),
  };
  if (r.size !== undefined) e.size = r.size;
  if (r.sha256 !== undefined) e.sha256 = r.sha256;
  if (r.extents !== undefined) e.extents = r.extents.map(([a, b]) => [a, b] as const);
  if (r.allocated !== undefined) e.allocated = r.allocated;
  if (r.blksize !== undefined) e.blksize = r.blksize;
  if (r.target_b64 !== undefined) e.target = Buffer.from(r.target_b64, 'base64');
  if (r.target !== undefined) e.targetDisplay = r.target;
  if (r.rdev !== undefined) e.rdev = BigInt(r.rdev);
  if (r.rdev_major !== undefined) e.rdevMajor = r.rdev_major;
  if (r.rdev_minor !== undefined) e.rdevMinor = r.rdev_minor;
  if (r.errors !== undefined) e.errors = r.errors;
  return e;
}

/**
 * The differences between a source tree and its restore, as readable lines (empty when equal).
 * Either side may be a directory (stat'ed now) or a {@link TreeStat} taken earlier.
 */
export async function compareTrees(source: string | TreeStat, restored: string | TreeStat, options: CompareOptions = {}): Promise<string[]> {
  const [a, b] = await Promise.all([
    typeof source === 'string' ? statTree(source) : source,
    typeof restored === 'string' ? statTree(restored) : restored,
  ]);
  return compareStats(a, b, options);
}

/**
 * The comparison behind {@link compareTrees}. Lines read `<what>: <path>: <source> vs <restored>`
 * (the root shows as `.`).
 *
 * Hard links: for every path present on both sides, the set of its names sharing its inode
 * (among the paths present on both sides and not ignored) must be the same set on both sides;
 * inode numbers and link counts themselves are never compared.
 *
 * Sparseness (`sparse`): a restorer punches holes only where whole chunks are zero, so a chunk
 * that straddles data and a hole is written in full. For each regular file whose source data
 * extents cover less than its size (it has holes), with D the source's data bytes and N its number
 * of data extents, the restored file's data bytes must be at most
 * `min(size, D + (N + 1) * sparseSlack)` — and when that bound is below the size, the restored file
 * therefore has holes. Equal extents always pass. With the default slack of 1 MiB, a chunk of at
 * least 512 KiB on each side of each data extent may be written in full. Data bytes are measured
 * with SEEK_DATA/SEEK_HOLE, not `st_blocks` (which also counts extent-tree and xattr blocks).
 */
export function compareStats(a: TreeStat, b: TreeStat, options: CompareOptions = {}): string[] {
  const out: string[] = [];
  const ignoredTypes = new Set(options.ignoreTypes ?? []);
  const prefixes = options.ignoreXattrPrefixes ?? [];
  const slack = options.sparseSlack ?? 1 << 20;
  const keep = keeper(options.ignorePaths, ignoredTypes);
  const av = [...a.values()].filter((e) => keep(e));
  const bv = [...b.values()].filter((e) => keep(e));
  const bKeys = new Set(bv.map((e) => e.path));
  const aKeys = new Set(av.map((e) => e.path));

  for (const x of av) {
    const y = b.get(x.path);
    const p = show(x.path);
    if (x.path === '') {
      if (y === undefined) {
        out.push(`missing: . (the restored root)`);
        continue;
      }
      for (const err of x.errors ?? []) out.push(`unreadable in source: .: ${err}`);
      for (const err of y.errors ?? []) out.push(`unreadable in restore: .: ${err}`);
      if (options.rootMetadata === true) compareMeta(x, y, '.', options, prefixes, out);
      continue;
    }
    if (y === undefined || !bKeys.has(x.path)) {
      out.push(`missing: ${p} (${x.type})`);
      continue;
    }
    for (const err of x.errors ?? []) out.push(`unreadable in source: ${p}: ${err}`);
    for (const err of y.errors ?? []) out.push(`unreadable in restore: ${p}: ${err}`);
    if (x.type !== y.type) {
      out.push(`type: ${p}: ${x.type} vs ${y.type}`);
      continue;
    }
    compareMeta(x, y, p, options, prefixes, out);
    if (x.type === 'file') {
      if (x.size !== y.size) out.push(`size: ${p}: ${x.size} vs ${y.size}`);
      if (x.sha256 !== y.sha256) out.push(`content: ${p}: sha256 ${x.sha256} vs ${y.sha256}`);
      if (options.sparse === true) checkSparse(x, y, p, slack, out);
    } else if (x.type === 'symlink') {
      if (x.target === undefined || y.target === undefined || !x.target.equals(y.target)) {
        out.push(`link target: ${p}: ${quote(x.targetDisplay)} vs ${quote(y.targetDisplay)}`);
      }
    } else if (x.type === 'chardev' || x.type === 'blockdev') {
      if (x.rdev !== y.rdev) out.push(`device: ${p}: ${x.rdevMajor}:${x.rdevMinor} vs ${y.rdevMajor}:${y.rdevMinor}`);
    }
  }
  for (const y of bv) {
    if (y.path !== '' && !aKeys.has(y.path)) out.push(`extra: ${show(y.path)} (${y.type})`);
  }

  // hard-link groups, among the paths present (and kept) on both sides
  const common = new Set(av.filter((e) => e.path !== '' && e.type !== 'dir' && bKeys.has(e.path)).map((e) => e.path));
  const ga = linkGroups(av, common);
  const gb = linkGroups(bv, common);
  const reported = new Set<string>();
  for (const p of common) {
    const sa = ga.get(p) ?? [p];
    const sb = gb.get(p) ?? [p];
    if (sameList(sa, sb)) continue;
    if (sa.length > 1) {
      // a source group not reproduced: say what became of each of its names
      const key = `a\0${sa.join('\0')}`;
      if (reported.has(key)) continue;
      reported.add(key);
      const became = new Map<string, readonly string[]>();
      for (const q of sa) {
        const g = gb.get(q) ?? [q];
        became.set(g.join('\0'), g);
      }
      for (const g of became.values()) reported.add(`b\0${g.join('\0')}`);
      out.push(`hard links: ${show(p)}: ${group(sa)} vs ${[...became.values()].map(group).join(' ')}`);
    } else {
      // names linked in the restore that were separate in the source
      const key = `b\0${sb.join('\0')}`;
      if (reported.has(key)) continue;
      reported.add(key);
      out.push(`hard links: ${show(p)}: not linked in source vs ${group(sb)}`);
    }
  }
  return out;
}

function compareMeta(x: StatEntry, y: StatEntry, p: string, options: CompareOptions, prefixes: readonly string[], out: string[]): void {
  if (x.mode !== y.mode) out.push(`mode: ${p}: ${octal(x.mode)} vs ${octal(y.mode)}`);
  if (x.uid !== y.uid) out.push(`uid: ${p}: ${x.uid} vs ${y.uid}`);
  if (x.gid !== y.gid) out.push(`gid: ${p}: ${x.gid} vs ${y.gid}`);
  if (x.mtimeNs !== y.mtimeNs) out.push(`mtime: ${p}: ${x.mtimeNs} vs ${y.mtimeNs} ns`);
  if (options.atime === true && x.atimeNs !== y.atimeNs) out.push(`atime: ${p}: ${x.atimeNs} vs ${y.atimeNs} ns`);
  const kept = (xs: StatEntry['xattrs']): Map<string, Buffer> =>
    new Map(xs.filter(([n]) => !prefixes.some((pre) => n.startsWith(pre))));
  const xa = kept(x.xattrs);
  const xb = kept(y.xattrs);
  for (const [n, v] of xa) {
    const w = xb.get(n);
    if (w === undefined) out.push(`xattr missing: ${p}: ${n}`);
    else if (!v.equals(w)) out.push(`xattr value: ${p}: ${n}: ${preview(v)} vs ${preview(w)}`);
  }
  for (const n of xb.keys()) if (!xa.has(n)) out.push(`xattr extra: ${p}: ${n}`);
}

function checkSparse(x: StatEntry, y: StatEntry, p: string, slack: number, out: string[]): void {
  const size = x.size ?? 0;
  const ex = x.extents ?? [];
  const ey = y.extents ?? [];
  const dx = dataBytes(ex);
  if (dx >= size) return; // no holes in the source
  const dy = dataBytes(ey);
  if (sameExtents(ex, ey)) return;
  const bound = Math.min(size, dx + (ex.length + 1) * slack);
  if (dy > bound) {
    out.push(
      `sparse: ${p}: source ${dx} data bytes in ${ex.length} extents of ${size}, ` +
        `restored ${dy} in ${ey.length} (at most ${bound} allowed)`,
    );
  }
}

function dataBytes(extents: ReadonlyArray<readonly [number, number]>): number {
  let n = 0;
  for (const [s, e] of extents) n += e - s;
  return n;
}

function sameExtents(a: ReadonlyArray<readonly [number, number]>, b: ReadonlyArray<readonly [number, number]>): boolean {
  return a.length === b.length && a.every(([s, e], i) => b[i]?.[0] === s && b[i]?.[1] === e);
}

/** path → sorted names sharing its inode (only for groups of two or more). */
function linkGroups(entries: readonly StatEntry[], common: ReadonlySet<string>): Map<string, string[]> {
  const byInode = new Map<string, string[]>();
  for (const e of entries) {
    if (!common.has(e.path)) continue;
    const k = `${e.dev}:${e.ino}`;
    const g = byInode.get(k);
    if (g === undefined) byInode.set(k, [e.path]);
    else g.push(e.path);
  }
  const out = new Map<string, string[]>();
  for (const g of byInode.values()) {
    if (g.length < 2) continue;
    g.sort();
    for (const p of g) out.set(p, g);
  }
  return out;
}

/** A filter for entries: not of an ignored type, and neither it nor an ancestor ignored by path. */
function keeper(ignorePaths: ((p: string) => boolean) | undefined, types: ReadonlySet<string>): (e: StatEntry) => boolean {
  const memo = new Map<string, boolean>();
  const ignoredPath = (p: string): boolean => {
    if (p === '' || ignorePaths === undefined) return false;
    const m = memo.get(p);
    if (m !== undefined) return m;
    const slash = p.lastIndexOf('/');
    const r = ignorePaths(p) || (slash > 0 && ignoredPath(p.slice(0, slash)));
    memo.set(p, r);
    return r;
  };
  return (e) => (e.path === '' || !types.has(e.type)) && !ignoredPath(e.path);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => b[i] === x);
}

function group(g: readonly string[]): string {
  return `[${g.map(show).join(', ')}]`;
}

function show(p: string): string {
  return p === '' ? '.' : p;
}

function quote(s: string | undefined): string {
  return s === undefined ? '(unreadable)' : JSON.stringify(s);
}

function octal(m: number): string {
  return `0${m.toString(8).padStart(3, '0')}`;
}

function preview(v: Buffer): string {
  const hex = v.subarray(0, 16).toString('hex');
  return `${v.length} bytes ${hex}${v.length > 16 ? '…' : ''}`;
}

/** Runs a helper command (the Python tree scripts); its stdout, or a rejection with its stderr. */
export function run(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUTF8: '1' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${Buffer.concat(err).toString('utf8')}`));
    });
  });
}
