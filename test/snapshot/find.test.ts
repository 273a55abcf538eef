import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { hashId, type SnapshotId, type TreeId } from '../../src/model/index.js';
import { cleanPath, filterSnapshots, findSnapshot, sortSnapshots, type Snapshot, type SnapshotEntry } from '../../src/snapshot/index.js';
import { codeOf } from '../helpers/errors.js';

const TREE = hashId(new TextEncoder().encode('t')) as TreeId;

function entry(id: string, sec: number, s: Partial<Snapshot> = {}): SnapshotEntry {
  return { id: id.padEnd(64, '0') as SnapshotId, snapshot: { time: { sec, nsec: 0, offset: 0 }, tree: TREE, paths: ['/home'], ...s } };
}

const LIST: SnapshotEntry[] = [
  entry('aa11', 100, { hostname: 'laptop', tags: ['daily'] }),
  entry('aa22', 300, { hostname: 'laptop', tags: ['daily', 'work'], paths: ['/home', '/etc'] }),
  entry('bb33', 200, { hostname: 'server' }),
  entry('cc44', 400, { hostname: 'server', tags: ['weekly'], paths: ['/srv'] }),
  entry('dd55', 250, { tags: ['work'] }),
];


const idOf = (e: SnapshotEntry): string => e.id.slice(0, 4);

describe('findSnapshot', () => {
  it('finds a snapshot by full ID or unique prefix (either case)', () => {
    expect(idOf(findSnapshot(LIST, LIST[2]!.id))).toBe('bb33');
    expect(idOf(findSnapshot(LIST, 'b'))).toBe('bb33');
    expect(idOf(findSnapshot(LIST, 'AA2'))).toBe('aa22');
  });

  it('refuses an ambiguous prefix with ERR_AMBIGUOUS_ID, listing the matches', () => {
    let err: unknown;
    try {
      findSnapshot(LIST, 'aa');
    } catch (e) {
      err = e;
    }
    expect(isCairnError(err, 'ERR_AMBIGUOUS_ID')).toBe(true);
    expect((err as { data: { matches: string[] } }).data.matches.map((m) => m.slice(0, 4))).toEqual(['aa11', 'aa22']);
  });

  it('counts the same ID listed twice once', () => {
    expect(idOf(findSnapshot([LIST[0]!, LIST[0]!], 'aa'))).toBe('aa11');
  });

  it('reports unknown and malformed IDs as not found, an empty one as invalid', () => {
    expect(codeOf(() => findSnapshot(LIST, 'ee'))).toBe('ERR_SNAPSHOT_NOT_FOUND');
    expect(codeOf(() => findSnapshot(LIST, 'lates'))).toBe('ERR_SNAPSHOT_NOT_FOUND');
    expect(codeOf(() => findSnapshot(LIST, LIST[0]!.id + '0'))).toBe('ERR_SNAPSHOT_NOT_FOUND');
    expect(codeOf(() => findSnapshot([], 'latest'))).toBe('ERR_SNAPSHOT_NOT_FOUND');
    expect(codeOf(() => findSnapshot(LIST, ''))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('finds the newest snapshot for latest, within the filter', () => {
    expect(idOf(findSnapshot(LIST, 'latest'))).toBe('cc44');
    expect(idOf(findSnapshot(LIST, 'latest', { hosts: ['laptop'] }))).toBe('aa22');
    expect(idOf(findSnapshot(LIST, 'latest', { tags: [['work']] }))).toBe('aa22');
    expect(idOf(findSnapshot(LIST, 'latest', { tags: [['work'], ['weekly']] }))).toBe('cc44');
    expect(idOf(findSnapshot(LIST, 'latest', { tags: [['daily', 'work']], hosts: ['laptop', 'server'] }))).toBe('aa22');
    expect(idOf(findSnapshot(LIST, 'latest', { paths: ['/home/'] }))).toBe('aa22');
    expect(idOf(findSnapshot(LIST, 'latest', { paths: ['/srv/x/..'] }))).toBe('cc44');
    expect(codeOf(() => findSnapshot(LIST, 'latest', { hosts: ['nope'] }))).toBe('ERR_SNAPSHOT_NOT_FOUND');
  });

  it('breaks a tie in time by the greater ID, and ignores the filter for IDs', () => {
    const tie = [entry('01', 5), entry('02', 5), entry('00', 5)];
    expect(idOf(findSnapshot(tie, 'latest'))).toBe('0200');
    expect(idOf(findSnapshot(LIST, 'bb', { hosts: ['laptop'] }))).toBe('bb33');
  });
});

describe('filterSnapshots and sortSnapshots', () => {
  it("filters by host, tag lists (OR of ANDs, [''] = untagged) and paths as restic does", () => {
    expect(filterSnapshots(LIST, {}).map(idOf)).toEqual(['aa11', 'aa22', 'bb33', 'cc44', 'dd55']);
    expect(filterSnapshots(LIST, { hosts: ['server'] }).map(idOf)).toEqual(['bb33', 'cc44']);
    expect(filterSnapshots(LIST, { hosts: [''] }).map(idOf)).toEqual(['dd55']);
    expect(filterSnapshots(LIST, { tags: [['daily', 'work']] }).map(idOf)).toEqual(['aa22']);
    expect(filterSnapshots(LIST, { tags: [['weekly'], ['work']] }).map(idOf)).toEqual(['aa22', 'cc44', 'dd55']);
    expect(filterSnapshots(LIST, { tags: [['']] }).map(idOf)).toEqual(['bb33']);
    expect(filterSnapshots(LIST, { paths: ['/home', '/etc'] }).map(idOf)).toEqual(['aa22']);
    // Without `latest`, restic compares paths as given.
    expect(filterSnapshots(LIST, { paths: ['/home/'] }).map(idOf)).toEqual([]);
  });

  it('sorts oldest first, then by ID', () => {
    expect(sortSnapshots([...LIST, entry('0a', 250)]).map(idOf)).toEqual(['aa11', 'bb33', '0a00', 'dd55', 'aa22', 'cc44']);
  });

  it("cleans paths like Go's filepath.Clean", () => {
    expect(['/a/b/', '/a//b', '/a/./b', '/a/c/../b', '/../a/b', 'a/../..', '', '.', '/'].map(cleanPath)).toEqual([
      '/a/b', '/a/b', '/a/b', '/a/b', '/a/b', '..', '.', '.', '/',
    ]);
  });
});
