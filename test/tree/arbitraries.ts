/**
 * fast-check arbitraries for trees: names as raw bytes (invalid UTF-8, controls, quotes included),
 * timestamps over Go's whole year range, every node type with all its optional fields, 64-bit
 * numbers near 2^64, and `extra` fields in their canonical (compact) form. Shared with the
 * snapshot properties.
 */
import fc from 'fast-check';
import { compactJson } from '../../src/util/index.js';
import { compareNames, invalidNameReason, type Node, type NodeType, type Timestamp, type Tree } from '../../src/tree/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Strings that survive UTF-8 (no lone surrogates): what Go can hold as text. */
export const textArb = (maxLength = 12): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'binary', maxLength }).filter((s) => dec.decode(enc.encode(s)) === s),
    fc.constantFrom('<a&b>', '"\\', '\u2028\u2029', '\x00\x1f\x7f', 'é日😀'),
  );

/** Name bytes restic accepts: non-empty, no '/', not '.' or '..'. */
export const nameArb: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    fc.uint8Array({ minLength: 1, maxLength: 12 }),
    textArb(12).map((s) => enc.encode(s)),
    fc.constantFrom(...['a"b\\c<', 'new\nline', 'x\xffy', '\u00a0', '\u{e0001}', '\u{1fae0}'].map((s) => enc.encode(s))),
    fc.constantFrom(new Uint8Array([0x78, 0xff, 0x79]), new Uint8Array([0xed, 0xa0, 0x80]), new Uint8Array([0xf0, 0x9f, 0x98])),
  )
  .filter((n) => invalidNameReason(n) === undefined);

const SEC_MIN = -62167219200; // 0000-01-01T00:00:00Z
const SEC_MAX = 253402300799; // 9999-12-31T23:59:59Z

/** Any time Go can marshal: local year 0..9999, offsets in whole minutes up to ±24:59. */
export const timeArb: fc.Arbitrary<Timestamp> = fc
  .record({
    offset: fc.oneof(fc.constant(0), fc.integer({ min: -1499, max: 1499 }).map((m) => m * 60)),
    sec: fc.oneof(fc.integer({ min: SEC_MIN, max: SEC_MAX }), fc.constantFrom(SEC_MIN, SEC_MAX, 0, -62135596800)),
    nsec: fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(0, 1, 500_000_000, 999_999_999)),
  })
  .map(({ sec, nsec, offset }) => ({ sec: Math.min(Math.max(sec, SEC_MIN - offset), SEC_MAX - offset), nsec, offset }));

export const idArb: fc.Arbitrary<string> = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

const u64Arb: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: 2n ** 64n - 1000n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: 2n ** 53n - 10n, max: 2n ** 53n + 10n }),
);

/** Raw JSON values as cairn keeps them in `extra` (compacted, so a round trip is exact). */
export const rawJsonArb: fc.Arbitrary<string> = fc.jsonValue({ maxDepth: 2 }).map((v) => compactJson(JSON.stringify(v)));

export const extraKeyArb: fc.Arbitrary<string> = fc.stringMatching(/^x-[a-z_]{1,6}$/);

const TYPES: NodeType[] = ['file', 'dir', 'symlink', 'dev', 'chardev', 'fifo', 'socket'];

const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });

export const nodeArb: fc.Arbitrary<Node> = fc
  .record({
    name: nameArb,
    type: fc.constantFrom(...TYPES),
    mode: opt(fc.integer({ min: 1, max: 0xffffffff })),
    mtime: timeArb,
    atime: timeArb,
    ctime: timeArb,
    uid: fc.integer({ min: 0, max: 0xffffffff }),
    gid: fc.integer({ min: 0, max: 0xffffffff }),
    user: opt(textArb(8).filter((s) => s !== '')),
    group: opt(textArb(8).filter((s) => s !== '')),
    inode: opt(u64Arb),
    deviceId: opt(u64Arb),
    size: opt(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    links: opt(fc.integer({ min: 1, max: 2 ** 40 })),
    linktarget: opt(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 16 }), textArb(12).filter((s) => s !== '').map((s) => enc.encode(s)))),
    extendedAttributes: opt(fc.array(fc.record({ name: textArb(8), value: fc.uint8Array({ maxLength: 10 }) }), { minLength: 1, maxLength: 3 })),
    device: opt(u64Arb),
    content: fc.array(idArb, { maxLength: 4 }),
    subtree: idArb,
    error: opt(textArb(8).filter((s) => s !== '')),
    extra: opt(
      fc.oneof(
        fc.dictionary(extraKeyArb, rawJsonArb, { minKeys: 1, maxKeys: 3 }),
        fc.record({ generic_attributes: fc.dictionary(fc.stringMatching(/^[a-z.]{1,8}$/), rawJsonArb).map((o) => compactJson(JSON.stringify(o))) }),
      ),
    ),
  })
  .map((r) => {
    const node: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (v !== undefined) node[k] = v;
    if (r.type !== 'file') node['content'] = null;
    if (r.type !== 'dir' && r.subtree.charCodeAt(0) % 2 === 0) delete node['subtree'];
    if (node['extra'] !== undefined) {
      // Values are canonical already; rebuild keys into a fresh object.
      node['extra'] = { ...(node['extra'] as Record<string, string>) };
    }
    return node as unknown as Node;
  });

/** Valid trees: unique names, sorted by bytes. */
export const treeArb: fc.Arbitrary<Tree> = fc
  .uniqueArray(nodeArb, { maxLength: 8, selector: (n) => Buffer.from(n.name).toString('hex') })
  .map((nodes) => ({ nodes: [...nodes].sort((a, b) => compareNames(a.name, b.name)) }));

/** Edits that keep bytes JSON-like enough to reach deep into the decoder. */
export const mutationArb = fc.array(
  fc.record({
    kind: fc.constantFrom('flip', 'delete', 'insert', 'duplicate'),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 8 }),
    bits: fc.integer({ min: 1, max: 255 }),
    token: fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', 'null', '-', '0', '1e9', '99999999999999999999', '\\u', '\\ud800', '\xff', 'é', ' ', '"name":', '"type":"dir"', '"content":null', '"Size":'),
  }),
  { minLength: 1, maxLength: 4 },
);

export function mutate(bytes: Uint8Array, edits: readonly { kind: string; at: number; len: number; bits: number; token: string }[]): Uint8Array {
  let b = Array.from(bytes);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % b.length;
    if (e.kind === 'flip' && b.length > 0) b[at] = b[at]! ^ e.bits;
    else if (e.kind === 'delete') b.splice(at, e.len);
    else if (e.kind === 'insert') b.splice(at, 0, ...enc.encode(e.token));
    else b.splice(at, 0, ...b.slice(at, at + e.len));
  }
  return new Uint8Array(b);
}
