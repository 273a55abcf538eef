import { describe, expect, it } from 'vitest';
import { hashId, type SnapshotId, type TreeId } from '../../src/model/index.js';
import { formatSnapshotsJson, snapshotJson, type Snapshot } from '../../src/snapshot/index.js';

const TREE = hashId(new TextEncoder().encode('tree')) as TreeId;
const ID = hashId(new TextEncoder().encode('id')) as SnapshotId;
const S: Snapshot = {
  time: { sec: 1700000000, nsec: 120000000, offset: -12600 },
  tree: TREE,
  paths: ['/a<b'],
  hostname: 'h',
  uid: 1000,
  tags: ['x'],
  extra: { program_version: '"restic 0.17.0"' },
};

describe('restic snapshots --json', () => {
  it('snapshotJson has the stored fields in order, then id and short_id (no extra fields)', () => {
    const o = snapshotJson(ID, S);
    expect(Object.keys(o)).toEqual(['time', 'tree', 'paths', 'hostname', 'uid', 'tags', 'id', 'short_id']);
    expect(o).toEqual({ time: '2023-11-14T18:43:20.12-03:30', tree: TREE, paths: ['/a<b'], hostname: 'h', uid: 1000, tags: ['x'], id: ID, short_id: ID.slice(0, 8) });
  });

  it('formatSnapshotsJson prints what Go’s json.Encoder prints', () => {
    expect(formatSnapshotsJson([])).toBe('[]\n');
    expect(formatSnapshotsJson([{ id: ID, snapshot: S }, { id: ID, snapshot: { ...S, tags: [] } }])).toBe(
      `[{"time":"2023-11-14T18:43:20.12-03:30","tree":"${TREE}","paths":["/a\\u003cb"],"hostname":"h","uid":1000,"tags":["x"],"id":"${ID}","short_id":"${ID.slice(0, 8)}"},` +
        `{"time":"2023-11-14T18:43:20.12-03:30","tree":"${TREE}","paths":["/a\\u003cb"],"hostname":"h","uid":1000,"id":"${ID}","short_id":"${ID.slice(0, 8)}"}]\n`,
    );
  });
});
