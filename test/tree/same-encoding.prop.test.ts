/**
 * sameEncoding (seeded): the archiver keeps a parent's tree when every node it would write is the
 * same as the parent's, so sameEncoding(a, b) must be true exactly when encodeTree writes the
 * same bytes for a and b — never true for nodes that encode differently (a wrong tree), and true
 * for nodes that encode alike (decoded ones included), unless either keeps unknown fields.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTree, encodeTree, sameEncoding, type Node } from '../../src/tree/index.js';
import { nodeArb } from './arbitraries.js';

const FIELDS = ['name', 'type', 'mode', 'mtime', 'atime', 'ctime', 'uid', 'gid', 'user', 'group', 'inode', 'deviceId', 'size', 'links', 'linktarget', 'extendedAttributes', 'device', 'content', 'subtree', 'error', 'extra'] as const;

function encoded(node: Node): string | undefined {
  try {
    return Buffer.from(encodeTree({ nodes: [node] })).toString('hex');
  } catch {
    return undefined; // a mix of two nodes that is not a valid node
  }
}

/** `a` with the chosen fields taken from `c` (absent in c: absent), or with a time's zone moved. */
const pairArb = fc.tuple(nodeArb, nodeArb, fc.subarray([...FIELDS]), fc.boolean()).map(([a, c, fields, zone]) => {
  const b: Record<string, unknown> = { ...a };
  for (const f of fields) {
    if ((c as unknown as Record<string, unknown>)[f] === undefined) delete b[f];
    else b[f] = (c as unknown as Record<string, unknown>)[f];
  }
  if (zone) b['mtime'] = { ...a.mtime, offset: a.mtime.offset === 3600 ? 0 : 3600 };
  return [a, b as unknown as Node] as const;
});

describe('sameEncoding', () => {
  it('is true exactly when the two nodes encode to the same bytes (and neither has unknown fields)', () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        const ea = encoded(a);
        const eb = encoded(b);
        fc.pre(ea !== undefined && eb !== undefined);
        const expected = a.extra === undefined && b.extra === undefined && ea === eb;
        expect(sameEncoding(a, b)).toBe(expected);
        expect(sameEncoding(b, a)).toBe(expected);
      }),
      { seed: 20261124, numRuns: 3000 },
    );
  });

  it('holds for a node and its decoded copy, and for copies with "empty" fields spelled out', () => {
    fc.assert(
      fc.property(nodeArb, (node) => {
        const back = decodeTree(encodeTree({ nodes: [node] })).nodes[0]!;
        expect(sameEncoding(node, back)).toBe(node.extra === undefined);
        const spelled = { ...node, mode: node.mode ?? 0, user: node.user ?? '', inode: node.inode ?? 0n, size: node.size ?? 0, linktarget: node.linktarget ?? new Uint8Array(0) } as Node;
        expect(encoded(spelled)).toBe(encoded(node));
        expect(sameEncoding(node, spelled)).toBe(node.extra === undefined);
      }),
      { seed: 20261124, numRuns: 1000 },
    );
  });
});
