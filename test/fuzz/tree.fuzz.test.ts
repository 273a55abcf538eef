/**
 * Hostile tree blobs (spec/hostile-input.md). decodeTree meets arbitrary bytes, byte-level
 * mutations, structural ones (any node field replaced by a wrong type, numbers past 2^32, 2^53 and
 * 2^64, NaN-like strings, bad times and IDs, very long strings, nesting 50,000 deep; keys
 * deleted, re-cased, repeated) and targeted monsters with ERR_CORRUPT or a tree that encodes
 * again, in every decoding mode. (Trees are blobs: the sealed layer is in blob.fuzz.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTree, encodeTree, type Tree } from '../../src/tree/index.js';
import { treeArb } from '../tree/arbitraries.js';
import { bytesArb, byteEditsArb, deepArray, deepObject, editBytes, editJson, jsonEditsArb, SEED, typedOnly } from './fuzz-helpers.js';

const enc = new TextEncoder();
const modes = [{}, { allowUnsorted: true }, { allowUnsafeNames: true }, { allowUnsorted: true, allowUnsafeNames: true }] as const;

function decodeAll(bytes: Uint8Array, input: unknown = bytes): void {
  for (const mode of modes) {
    const tree = typedOnly(() => decodeTree(bytes, 'tree t', mode), ['ERR_CORRUPT'], { input, what: 'tree t' });
    // A tree decoded in the strict mode is a valid Tree: it encodes again without complaint.
    if (tree !== undefined && Object.keys(mode).length === 0) expect(() => encodeTree(tree)).not.toThrow();
  }
}

const treeJson = (tree: Tree): string => new TextDecoder().decode(encodeTree(tree));

describe('tree JSON (decodeTree)', () => {
  it('arbitrary bytes and text: ERR_CORRUPT or a valid tree', () => {
    fc.assert(
      fc.property(fc.oneof(bytesArb, fc.string({ maxLength: 80 }).map((s) => enc.encode(s))), (bytes) => decodeAll(bytes)),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('byte-level mutations of valid trees: ERR_CORRUPT or a valid tree', () => {
    fc.assert(
      fc.property(treeArb, byteEditsArb, (tree, edits) => decodeAll(editBytes(encodeTree(tree), edits))),
      { seed: SEED, numRuns: 250 },
    );
  });

  it('structural mutations (wrong types, huge/negative numbers, NaN-like strings, deep nesting, repeated keys): ERR_CORRUPT or a valid tree', () => {
    fc.assert(
      fc.property(treeArb.filter((t) => t.nodes.length > 0), jsonEditsArb, (tree, edits) => decodeAll(enc.encode(editJson(treeJson(tree), edits)))),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('targeted: deep nesting in every position, 64-bit overflow, 4 MB names and numbers, 50,000 nodes', () => {
    const node = (f: Record<string, string>): string => {
      const base: Record<string, string> = { name: '"a"', type: '"file"', mtime: '"2020-01-01T00:00:00Z"', atime: '"2020-01-01T00:00:00Z"', ctime: '"2020-01-01T00:00:00Z"', uid: '0', gid: '0', content: '[]', ...f };
      return '{' + Object.entries(base).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',') + '}';
    };
    const fields = ['name', 'type', 'mode', 'mtime', 'uid', 'user', 'inode', 'device_id', 'size', 'links', 'linktarget', 'linktarget_raw', 'extended_attributes', 'generic_attributes', 'device', 'content', 'subtree', 'error', 'x-new'];
    const docs: string[] = [];
    for (const d of [deepArray(50_000), deepObject(50_000), deepArray(10_001)]) {
      docs.push(d, `{"nodes":${d}}`, `{"nodes":[${d}]}`, `{"x":${d},"nodes":[]}`);
      for (const f of fields) docs.push(`{"nodes":[${node({ [f]: d })}]}`);
    }
    for (const n of ['4294967296', '18446744073709551616', '99999999999999999999999', '1e999', '-1', '1.5', '-0', '"1"']) {
      for (const f of ['mode', 'uid', 'gid', 'inode', 'device_id', 'size', 'links', 'device']) docs.push(`{"nodes":[${node({ [f]: n })}]}`);
    }
    docs.push(
      `{"nodes":[${node({ mtime: '"99999-01-01T00:00:00Z"' })}]}`,
      `{"nodes":[${node({ type: '"dir"' })}]}`,
      `{"nodes":[${node({ name: '"\\\\"' })}]}`,
    );
    for (const doc of docs) {
      const bytes = enc.encode(doc);
      for (const mode of modes) typedOnly(() => decodeTree(bytes, 'tree t', mode), ['ERR_CORRUPT'], { input: doc, what: 'tree t' });
    }
    // Large inputs take time in proportion to their size, no more (checked in the strict mode).
    const heavy = [
      `{"nodes":[${node({ name: JSON.stringify('n'.repeat(4_000_000)) })}]}`,
      `{"nodes":[${node({ name: JSON.stringify('\\x'.repeat(1_000_000)) })}]}`,
      `{"nodes":[${node({ type: JSON.stringify('t'.repeat(4_000_000)) })}]}`,
      `{"nodes":[${node({ uid: '9'.repeat(4_000_000) })}]}`,
      `{"nodes":[${node({ linktarget_raw: JSON.stringify('QUFB'.repeat(1_000_000)) })}]}`,
      `{"nodes":[${node({ content: `[${`"${'a'.repeat(64)}",`.repeat(50_000)}"${'a'.repeat(64)}"]` })}]}`,
      `{"nodes":[${Array.from({ length: 50_000 }, (_, i) => node({ name: JSON.stringify(`n${String(i).padStart(6, '0')}`) })).join(',')}]}`,
      `{"nodes":[${Array.from({ length: 50_000 }, () => node({})).join(',')}]}`,
    ];
    for (const doc of heavy) typedOnly(() => decodeTree(enc.encode(doc), 'tree t'), ['ERR_CORRUPT'], { input: doc, what: 'tree t', ms: 2000, bytes: 128 << 20 });
  });
});
