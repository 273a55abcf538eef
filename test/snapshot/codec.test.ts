import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { hashId, type SnapshotId, type TreeId } from '../../src/model/index.js';
import { decodeSnapshot, encodeSnapshot, type Snapshot } from '../../src/snapshot/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const b = (s: string): Uint8Array => enc.encode(s);
const text = (bytes: Uint8Array): string => dec.decode(bytes);
const TREE = hashId(b('tree')) as TreeId;
const PARENT = hashId(b('parent')) as SnapshotId;
const ORIGINAL = hashId(b('original')) as SnapshotId;
const TIME = { sec: 1420218650, nsec: 895208559, offset: 3600 };

describe('encodeSnapshot', () => {
  it("writes restic's field order, Go escaping and no trailing newline", () => {
    const s: Snapshot = {
      time: TIME,
      parent: PARENT,
      tree: TREE,
      paths: ['/home/a<b', '/srv'],
      hostname: 'h&st',
      username: 'user',
      uid: 1000,
      gid: 100,
      excludes: ['*.o'],
      tags: ['t>1', 't2'],
      original: ORIGINAL,
    };
    expect(text(encodeSnapshot(s))).toBe(
      `{"time":"2015-01-02T18:10:50.895208559+01:00","parent":"${PARENT}","tree":"${TREE}","paths":["/home/a\\u003cb","/srv"],` +
        `"hostname":"h\\u0026st","username":"user","uid":1000,"gid":100,"excludes":["*.o"],"tags":["t\\u003e1","t2"],"original":"${ORIGINAL}"}`,
    );
  });

  it('omits what omitempty omits, but always writes time, tree and paths', () => {
    const s: Snapshot = { time: TIME, tree: TREE, paths: [], hostname: '', uid: 0, gid: 0, tags: [], excludes: [] };
    expect(text(encodeSnapshot(s))).toBe(`{"time":"2015-01-02T18:10:50.895208559+01:00","tree":"${TREE}","paths":[]}`);
  });

  it('refuses malformed snapshots with ERR_INTERNAL', () => {
    const ok: Snapshot = { time: TIME, tree: TREE, paths: [] };
    for (const bad of [
      { ...ok, tree: 'x' as TreeId },
      { ...ok, parent: 'x' as SnapshotId },
      { ...ok, time: { sec: 253402300800, nsec: 0, offset: 0 } },
      { ...ok, uid: -1 },
      { ...ok, extra: { TAGS: '[]' } },
      { ...ok, extra: { x: 'nope' } },
    ]) {
      expect(() => encodeSnapshot(bad)).toThrow(expect.objectContaining({ code: 'ERR_INTERNAL' }));
    }
  });
});

describe('decodeSnapshot', () => {
  it('reads a 2015 snapshot with its trailing newline', () => {
    const json =
      '{"time":"2015-11-10T22:10:09.445482227+01:00","tree":"965b5ce045b7d028f5e21ba091e518c4bf3c3f54651bf90cb7b71a562721d542",' +
      '"paths":["/home/fd0/shared/work/go/src/github.com/restic/restic/testdir"],"hostname":"kasimir","username":"fd0","uid":1000,"gid":100}';
    const s = decodeSnapshot(b(json + '\n'));
    expect(s).toEqual({
      time: { sec: 1447189809, nsec: 445482227, offset: 3600 },
      tree: '965b5ce045b7d028f5e21ba091e518c4bf3c3f54651bf90cb7b71a562721d542',
      paths: ['/home/fd0/shared/work/go/src/github.com/restic/restic/testdir'],
      hostname: 'kasimir',
      username: 'fd0',
      uid: 1000,
      gid: 100,
    });
    expect(text(encodeSnapshot(s))).toBe(json);
  });

  it("keeps newer restic's fields and writes them back in Go's order", () => {
    const json =
      `{"time":"2024-05-01T10:00:00Z","tree":"${TREE}","paths":["/data"],"hostname":"h","username":"u",` +
      '"program_version":"restic 0.17.0","summary":{"backup_start":"2024-05-01T10:00:00Z","backup_end":"2024-05-01T10:00:05.5Z",' +
      '"files_new":3,"files_changed":0,"data_added":18446744073709551615,"total_files_processed":3}}';
    const s = decodeSnapshot(b(json));
    expect(Object.keys(s.extra!)).toEqual(['program_version', 'summary']);
    expect(text(encodeSnapshot(s))).toBe(json);
  });

  it('matches keys as Go does and normalizes what restic never writes', () => {
    const s = decodeSnapshot(b(`{"Time":null,"TREE":"${TREE.toUpperCase()}","paths":null,"tags":[],"uid":0,"hostname":"","Parent":null}`));
    expect(s).toEqual({ time: { sec: -62135596800, nsec: 0, offset: 0 }, tree: TREE, paths: [] });
    expect(decodeSnapshot(b(`{"tree":"${TREE}","paths":[null,"a"]}`)).paths).toEqual(['', 'a']);
  });

  it.each<[string, string]>([
    ['no tree', '{"time":"2015-01-01T00:00:00Z","paths":[]}'],
    ['a null tree', '{"tree":null,"paths":[]}'],
    ['a short tree ID', '{"tree":"abc","paths":[]}'],
    ['a bad time', `{"time":"yesterday","tree":"${TREE}","paths":[]}`],
    ['a numeric time', `{"time":1,"tree":"${TREE}","paths":[]}`],
    ['a uid above 32 bits', `{"tree":"${TREE}","paths":[],"uid":4294967296}`],
    ['a string path list', `{"tree":"${TREE}","paths":"/a"}`],
    ['a number in the paths', `{"tree":"${TREE}","paths":[1]}`],
    ['trailing data', `{"tree":"${TREE}","paths":[]}{}`],
    ['an array', '[]'],
    ['nothing', ''],
  ])('refuses %s with ERR_CORRUPT naming the file', (_label, json) => {
    let err: unknown;
    try {
      decodeSnapshot(b(json), 'snapshot 1234abcd');
    } catch (e) {
      err = e;
    }
    expect(isCairnError(err, 'ERR_CORRUPT')).toBe(true);
    expect((err as Error).message).toMatch(/^snapshot 1234abcd: /);
  });
});
