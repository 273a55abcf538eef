/**
 * scannedGives (seeded): the archiver takes a parent's node as it is, without building a stat
 * object or a node, when the entry's raw scan row says it would be recorded exactly so. It must be
 * true only when the node the slow path builds (nodeFromStat with the parent's content, under the
 * archiver's reuse rules) is one the encoder writes as it wrote the parent's node — a true answer
 * for anything else puts a wrong node in the snapshot — and true whenever that holds for an entry
 * without extended attributes (so that an unchanged tree costs no nodes).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeFromStat, scannedGives } from '../../src/fs/index.js';
import { STAT_ERRNO, STAT_STRIDE, STAT_XATTRS, statAt, XATTRS_NOT_ASKED } from '../../src/fs/stats.js';
import { sameEncoding, type Node } from '../../src/tree/index.js';
import { nodeArb, nameArb } from '../tree/arbitraries.js';

const SEED = 20261125;

const FIELDS = ['type', 'mode', 'mtime', 'atime', 'ctime', 'uid', 'gid', 'user', 'group', 'inode', 'deviceId', 'size', 'links', 'linktarget', 'extendedAttributes', 'device', 'content', 'subtree', 'error', 'extra'] as const;

const S_IF = [0o100000, 0o040000, 0o120000, 0o010000, 0o140000, 0o060000, 0o020000];

/** One scan row: the 16 stat values (small ranges, so that parent and entry often agree), errno, xattr size. */
const rowArb = fc.record({
  dev: fc.bigInt({ min: 0n, max: 3n }),
  ino: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
  mode: fc.tuple(fc.constantFrom(...S_IF), fc.integer({ min: 0, max: 0o7777 })).map(([t, p]) => BigInt(t | p)),
  nlink: fc.bigInt({ min: 0n, max: 3n }),
  // 0 resolves to a name (root) everywhere; 4_000_000_000 nowhere.
  uid: fc.constantFrom(0n, 4_000_000_000n),
  gid: fc.constantFrom(0n, 4_000_000_000n),
  rdev: fc.bigInt({ min: 0n, max: 2n }),
  size: fc.bigInt({ min: 0n, max: 2n ** 40n }),
  atime: fc.tuple(fc.bigInt({ min: -(10n ** 10n), max: 10n ** 10n }), fc.bigInt({ min: 0n, max: 999_999_999n })),
  mtime: fc.tuple(fc.bigInt({ min: -(10n ** 10n), max: 10n ** 10n }), fc.bigInt({ min: 0n, max: 999_999_999n })),
  ctime: fc.tuple(fc.bigInt({ min: -(10n ** 10n), max: 10n ** 10n }), fc.bigInt({ min: 0n, max: 999_999_999n })),
  errno: fc.constantFrom(0n, 0n, 0n, 13n),
  // none, some, the query failed, not asked (a scan with a parent tree)
  xattrs: fc.constantFrom(0n, 0n, 0n, 12n, -1n, XATTRS_NOT_ASKED, XATTRS_NOT_ASKED),
});

type Row = typeof rowArb extends fc.Arbitrary<infer R> ? R : never;

function raw(r: Row): BigInt64Array {
  const a = new BigInt64Array(STAT_STRIDE * 2); // the entry is row 1: offsets are exercised
  a.set([r.dev, r.ino, r.mode, r.nlink, r.uid, r.gid, r.rdev, r.size, 4096n, 8n, ...r.atime, ...r.mtime, ...r.ctime], STAT_STRIDE);
  a[STAT_STRIDE + STAT_ERRNO] = r.errno;
  a[STAT_STRIDE + STAT_XATTRS] = r.xattrs;
  return a;
}

/**
 * The slow path's answer: the node the archiver would build for the entry given the parent's
 * `old`, when its rules take old's content (files), target (symlinks) and extended attributes
 * (a scan that did not ask, same inode and ctime) — else undefined (it would read the file, the
 * link or the attributes, which the scan cannot tell).
 */
function slowPath(a: BigInt64Array, old: Node): Node | undefined {
  const node = builtFrom(a, old);
  if (node === undefined || a[STAT_STRIDE + STAT_XATTRS] === 0n) return node;
  return (old.extendedAttributes?.length ?? 0) > 0 ? { ...node, extendedAttributes: old.extendedAttributes! } : node;
}

function builtFrom(a: BigInt64Array, old: Node): Node | undefined {
  const xattrs = a[STAT_STRIDE + STAT_XATTRS];
  if (a[STAT_STRIDE + STAT_ERRNO] !== 0n || (xattrs !== 0n && xattrs !== XATTRS_NOT_ASKED)) return undefined;
  const st = statAt(a, 1);
  if (st.isDirectory()) return undefined;
  const ns = (t: Node['mtime']): bigint => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
  const sameTimes = ns(old.mtime) === st.mtimeNs && ns(old.ctime) === st.ctimeNs && old.inode === st.ino;
  if (xattrs === XATTRS_NOT_ASKED && !sameTimes) return undefined;
  if (st.isFile()) {
    if (old.type !== 'file' || !sameTimes || BigInt(old.size ?? 0) !== st.size) return undefined;
    return nodeFromStat(old.name, st, { content: old.content ?? [], size: old.size ?? 0 });
  }
  if (st.isSymbolicLink()) {
    if (old.type !== 'symlink' || old.linktarget === undefined || !sameTimes || BigInt(old.linktarget.length) !== st.size) return undefined;
    return nodeFromStat(old.name, st, { linktarget: old.linktarget });
  }
  return nodeFromStat(old.name, st, {});
}

/** A parent node: the entry's own node (as the slow path would build it) with some fields taken from a random node. */
const fieldsArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant([]) },
  { weight: 4, arbitrary: fc.constantFrom(...FIELDS).map((f) => [f]) },
  { weight: 2, arbitrary: fc.subarray([...FIELDS], { maxLength: 2 }) },
  { weight: 1, arbitrary: fc.subarray([...FIELDS]) },
);
const caseArb = fc.tuple(rowArb, nameArb, nodeArb, fieldsArb, fc.constantFrom('none', 'none', 'none', 'mtime', 'ctime', 'atime')).map(([row, name, other, fields, zone]) => {
  const a = raw(row);
  const st = statAt(a, 1);
  const content = st.isFile() ? { content: other.content ?? [], size: Number(st.size) } : st.isSymbolicLink() ? { linktarget: new Uint8Array(Number(st.size % 64n)) } : {};
  const own = nodeFromStat(name, st, content) as unknown as Record<string, unknown>;
  const old: Record<string, unknown> = { ...own };
  for (const f of fields) {
    const v = (other as unknown as Record<string, unknown>)[f];
    if (v === undefined) delete old[f];
    else old[f] = v;
  }
  if (zone !== 'none') {
    const t = old[zone] as Node['mtime'];
    old[zone] = { ...t, offset: t.offset === 3600 ? 0 : 3600 };
  }
  return { a, old: old as unknown as Node };
});

describe('scannedGives', () => {
  it('is true exactly when the slow path would record the parent node as it is', () => {
    let agreed = 0;
    fc.assert(
      fc.property(caseArb, ({ a, old }) => {
        const slow = slowPath(a, old);
        const expected = slow !== undefined && sameEncoding(slow, old);
        if (expected) agreed++;
        expect(scannedGives(a, 1, old)).toBe(expected);
      }),
      { seed: SEED, numRuns: 20000 },
    );
    // The property is not vacuous: many cases are the parent's node exactly.
    expect(agreed).toBeGreaterThan(1000);
  });
});
