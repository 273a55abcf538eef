/**
 * Golden bytes from restic 0.14 itself: back up a directory full of awkward names and file kinds (into a copy of
 * restic's small-repo fixture: no `init` to wait for),
 * fetch the raw tree blobs (`restic cat blob` prints the stored plaintext), and check that cairn
 * decodes them to the right values and re-encodes them to the same bytes — so cairn computes the
 * same tree IDs as restic. The one deliberate difference: for a symlink target that is not
 * UTF-8, cairn adds `linktarget_raw` (restic 0.14 loses those bytes; newer restic writes the
 * field too). Names include both sides of every boundary of Go 1.19's strconv.IsPrint table.
 * Also checks the snapshot file of the backup (see test/snapshot for more).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot } from '../../src/snapshot/index.js';
import { GO_PRINT_RANGES } from '../../src/util/go/isprint.js';
import { compactJson } from '../../src/util/index.js';
import { decodeTree, encodeTree, type Node, type Tree } from '../../src/tree/index.js';
import type { ResticSnapshot } from '../helpers/restic.js';
import { FixtureRepo } from './restic-fixture.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const text = (b: Uint8Array): string => dec.decode(b);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytesOf = (s: string): Uint8Array => enc.encode(s);
const pathOf = (dir: string, name: Uint8Array): Buffer => Buffer.concat([Buffer.from(dir + '/'), Buffer.from(name)]);

const BAD_TARGET = new Uint8Array([0x2e, 0x2e, 0x2f, 0x74, 0xff, 0xfe, 0x3c]); // "../t\xff\xfe<"

/** Both sides of every range boundary of the IsPrint table, 50 code points per file name. */
function boundaryNames(): Uint8Array[] {
  const cps = new Set<number>();
  for (let i = 0; i < GO_PRINT_RANGES.length; i += 2) {
    for (const c of [GO_PRINT_RANGES[i]! - 1, GO_PRINT_RANGES[i]!, GO_PRINT_RANGES[i + 1]!, GO_PRINT_RANGES[i + 1]! + 1]) {
      if (c >= 1 && c <= 0x10ffff && (c < 0xd800 || c > 0xdfff) && c !== 0x2f) cps.add(c);
    }
  }
  const list = [...cps].sort((a, b) => a - b);
  const names: Uint8Array[] = [];
  for (let i = 0; i < list.length; i += 50) names.push(bytesOf(String.fromCodePoint(...list.slice(i, i + 50))));
  return names;
}

const NAMES: Uint8Array[] = [
  'a"b\\c<>&.txt',
  'café',
  '日本語',
  '😀',
  'line\u2028sep',
  'nb\u00a0sp',
  'zw\u200bj',
  'new\nline',
  'tab\tesc\x1b del\x7f',
  'melting\u{1fae0}',
].map(bytesOf);
const INVALID_NAME = new Uint8Array([0x78, 0xff, 0x79]);

let repo: FixtureRepo;
let srcTreeBytes: Uint8Array;
let srcTree: Tree;
const subtrees = new Map<string, Uint8Array>();
let snapshotJson: ResticSnapshot;
let catSnapshot: string;
let hasFifo = false;
let hasXattr = false;

beforeAll(async () => {
  repo = new FixtureRepo();
  const src = join(repo.root, 'src');
  mkdirSync(src);
  for (const n of [...NAMES, INVALID_NAME]) writeFileSync(pathOf(src, n), n);
  writeFileSync(join(src, 'empty'), '');
  writeFileSync(join(src, 'setuid'), '#!/bin/sh\n');
  chmodSync(join(src, 'setuid'), 0o4755);
  writeFileSync(join(src, 'hard1'), 'linked');
  linkSync(join(src, 'hard1'), join(src, 'hard2'));
  mkdirSync(join(src, 'sub'));
  writeFileSync(join(src, 'sub', 'inner.txt'), 'inner');
  mkdirSync(join(src, 'sticky'));
  chmodSync(join(src, 'sticky'), 0o1777);
  symlinkSync(Buffer.from(BAD_TARGET), pathOf(src, bytesOf('link-bad')));
  symlinkSync('café/../x', join(src, 'link-ok'));
  mkdirSync(join(src, 'unicode'));
  for (const n of boundaryNames()) writeFileSync(pathOf(join(src, 'unicode'), n), '');
  try {
    execFileSync('mkfifo', [join(src, 'fifo')]);
    hasFifo = true;
  } catch {
    // no mkfifo: the fifo checks are skipped
  }
  writeFileSync(join(src, 'xattr'), 'x');
  try {
    execFileSync('python3', ['-c', `import os; os.setxattr(${JSON.stringify(join(src, 'xattr'))}, 'user.test', b'v\\xffal<')`]);
    hasXattr = true;
  } catch {
    // no python3 or no user xattrs here: the xattr checks are skipped
  }

  // Backing up "." makes the snapshot's root tree the listing of src itself.
  await repo.run(['backup', '-q', '--tag', 'golden', '.'], { cwd: src, env: { TZ: 'Asia/Kolkata' } });
  snapshotJson = (JSON.parse(await repo.text(['snapshots', '--json', '--tag', 'golden'])) as ResticSnapshot[])[0]!;
  const [cat, root] = await Promise.all([repo.run(['cat', 'snapshot', snapshotJson.id!]), catBlob(snapshotJson.tree)]);
  catSnapshot = cat.text();
  srcTreeBytes = root;
  srcTree = decodeTree(srcTreeBytes, 'src tree');
  const dirs = srcTree.nodes.filter((n) => n.type === 'dir');
  const blobs = await Promise.all(dirs.map((d) => catBlob(d.subtree!)));
  dirs.forEach((d, i) => subtrees.set(text(d.name), blobs[i]!));
}, 60_000);

afterAll(() => {
  repo?.cleanup();
});

async function catBlob(id: string): Promise<Uint8Array> {
  return (await repo.run(['cat', 'blob', id])).stdout;
}

function node(name: string | Uint8Array): Node {
  const key = hex(typeof name === 'string' ? bytesOf(name) : name);
  const n = srcTree.nodes.find((x) => hex(x.name) === key);
  if (n === undefined) throw new Error(`no node ${String(name)}`);
  return n;
}

describe('restic 0.14 tree blobs', () => {
  it('the directories re-encode byte for byte', () => {
    expect([...subtrees.keys()].sort()).toEqual(['sticky', 'sub', 'unicode']);
    for (const [name, bytes] of subtrees) expect(text(encodeTree(decodeTree(bytes, name))), name).toBe(text(bytes));
  });

  it('the tree with every kind of entry re-encodes byte for byte, except the non-UTF-8 link target', () => {
    // restic wrote the target's bad bytes as \ufffd escapes; decoded they are U+FFFD characters,
    // which Go and cairn write raw (restic's own re-encoding changes these bytes the same way).
    const restic = text(srcTreeBytes);
    const linkJson = '"linktarget":"../t\\ufffd\\ufffd\\u003c"';
    expect(restic).toContain(linkJson);
    expect(text(encodeTree(srcTree))).toBe(restic.replace(linkJson, '"linktarget":"../t\ufffd\ufffd\\u003c"'));
    // With the true target, cairn writes restic's bytes plus linktarget_raw.
    const fixed = { nodes: srcTree.nodes.map((n) => (text(n.name) === 'link-bad' ? { ...n, linktarget: BAD_TARGET } : n)) };
    expect(text(encodeTree(fixed))).toBe(restic.replace(linkJson, linkJson + ',"linktarget_raw":"Li4vdP/+PA=="'));
    expect(decodeTree(encodeTree(fixed)).nodes.find((n) => text(n.name) === 'link-bad')!.linktarget).toEqual(BAD_TARGET);
  });

  it('names decode to the exact bytes on disk', () => {
    const names = new Set(srcTree.nodes.map((n) => hex(n.name)));
    for (const n of [...NAMES, INVALID_NAME]) expect(names.has(hex(n)), text(n)).toBe(true);
    const unicode = decodeTree(subtrees.get('unicode')!);
    expect(unicode.nodes.map((n) => hex(n.name)).sort()).toEqual(boundaryNames().map(hex).sort());
    expect(text(srcTreeBytes)).toContain('"name":"x\\\\xffy"');
    expect(text(srcTreeBytes)).toContain('"name":"a\\\\\\"b\\\\\\\\c\\u003c\\u003e\\u0026.txt"');
  });

  it('modes, sizes, links and contents are what restic stores', () => {
    expect(node('setuid').mode).toBe(8389101);
    expect(node('sub').mode).toBe(2147484141);
    expect(node('sticky').mode).toBe(2148532735);
    expect(node('link-ok').mode).toBe(134218239);
    expect(node('link-ok').linktarget).toEqual(bytesOf('café/../x'));
    expect(node('empty').content).toEqual([]);
    expect(node('empty').size).toBeUndefined();
    expect(node('café').size).toBe(5);
    expect(node('café').content).toHaveLength(1);
    expect(node('hard1').links).toBe(2);
    expect(node('hard1').inode).toBe(node('hard2').inode);
    expect(typeof node('hard1').deviceId).toBe('bigint');
    expect(node('sub').content).toBeNull();
    if (hasFifo) {
      expect(node('fifo').type).toBe('fifo');
      expect(node('fifo').mode! & (1 << 25)).not.toBe(0);
    }
    if (hasXattr) {
      expect(node('xattr').extendedAttributes).toEqual([{ name: 'user.test', value: new Uint8Array([0x76, 0xff, 0x61, 0x6c, 0x3c]) }]);
    }
  });
});

describe('restic 0.14 snapshot file', () => {
  it('re-encodes to the bytes restic wrote (its `cat snapshot` output, compacted)', () => {
    // `restic cat snapshot` prints json.MarshalIndent of the decoded snapshot; compacting it gives
    // json.Marshal's output, which is what the snapshot file holds.
    const raw = compactJson(catSnapshot.trim());
    const s = decodeSnapshot(bytesOf(raw));
    expect(text(encodeSnapshot(s))).toBe(raw);
    expect(s.tree).toBe(snapshotJson.tree);
    expect(s.paths).toEqual(snapshotJson.paths);
    expect(s.hostname).toBe(snapshotJson.hostname);
    expect(s.time.offset).toBe(5.5 * 3600); // TZ=Asia/Kolkata
    expect(raw).toMatch(/"time":"[^"]+\+05:30"/);
  });
});
