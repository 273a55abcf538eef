/**
 * Snapshots against restic 0.14: in a copy of restic's small-repo fixture (four snapshots from
 * 2015; a fixture repository skips the costly `init`), restic makes two more backups (tags and a
 * host with HTML characters, excludes, offsets +05:30 and -03:30, a parent) and rewrites one with
 * `tag --add` (which sets `original`). `restic snapshots --json` prints each snapshot as the same
 * json.Marshal bytes as its file plus `id` and `short_id`, so every element, with those two
 * fields cut off, is a snapshot file's exact content: cairn must decode and re-encode each to the
 * same bytes, print the whole list byte for byte, and pick the same `latest` as restic.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotId } from '../../src/model/index.js';
import { decodeSnapshot, encodeSnapshot, findSnapshot, formatSnapshotsJson, sortSnapshots, type SnapshotEntry } from '../../src/snapshot/index.js';
import { decodeUtf8, JsonReader } from '../../src/util/index.js';
import { FixtureRepo } from '../tree/restic-fixture.js';

let repo: FixtureRepo;
let root: string;
let listing: string;
let latestForHost: string;

function restic(args: string[], env: Record<string, string> = {}): Promise<string> {
  return repo.text(args, { env });
}

beforeAll(async () => {
  repo = new FixtureRepo();
  root = repo.root;
  mkdirSync(join(root, 'data'));
  writeFileSync(join(root, 'data', 'file.txt'), 'content');
  const common = ['backup', '-q', '--host', 'h>st', 'data'];
  await restic([...common, '--tag', 'a<b', '--tag', 't&2', '--exclude', '*.o'], { TZ: 'Asia/Kolkata' });
  await restic([...common, '--tag', 'second'], { TZ: 'America/St_Johns' });
  const mine = JSON.parse(await restic(['snapshots', '--json', '--tag', 'second'])) as Array<{ id: string }>;
  await restic(['tag', '--add', 'added', mine[0]!.id]);
  [listing, latestForHost] = await Promise.all([
    restic(['snapshots', '--json']),
    restic(['snapshots', '--json', '--host', 'h>st', '--tag', 'a<b', 'latest']),
  ]);
}, 60_000);

afterAll(() => {
  repo?.cleanup();
});

/** Each element of restic's `snapshots --json` as raw text. */
function elements(json: string): string[] {
  const r = new JsonReader(json, 'restic output');
  const out: string[] = [];
  r.openArray();
  for (let first = true; r.nextItem(first); first = false) out.push(r.skipValue());
  r.end();
  return out;
}

function entries(json: string): SnapshotEntry[] {
  return elements(json).map((el) => {
    const m = /,"id":"([0-9a-f]{64})","short_id":"[0-9a-f]{8}"}$/.exec(el);
    if (m === null) throw new Error(`unexpected element ${el}`);
    const file = el.slice(0, m.index) + '}';
    const snapshot = decodeSnapshot(new TextEncoder().encode(file), m[1]!);
    expect(decodeUtf8(encodeSnapshot(snapshot))).toBe(file);
    return { id: m[1]! as SnapshotId, snapshot };
  });
}

describe('restic 0.14 snapshots', () => {
  it('every snapshot re-encodes to its exact bytes (2015 fixtures, tags, excludes, parent, original)', () => {
    const list = entries(listing);
    expect(list).toHaveLength(6);
    const rewritten = list.find((e) => e.snapshot.tags?.includes('added'))!;
    expect(rewritten.snapshot.original).toBeDefined();
    expect(rewritten.snapshot.parent).toBeDefined();
    expect(rewritten.snapshot.time.offset).toBe(-3.5 * 3600);
    const first = list.find((e) => e.snapshot.tags?.includes('a<b'))!;
    expect(first.snapshot).toMatchObject({ hostname: 'h>st', tags: ['a<b', 't&2'], excludes: ['*.o'], paths: [join(root, 'data')] });
    expect(first.snapshot.time.offset).toBe(5.5 * 3600);
    expect(listing).toContain('"hostname":"h\\u003est"');
  });

  it('formatSnapshotsJson prints the listing byte for byte (oldest first)', () => {
    expect(formatSnapshotsJson(sortSnapshots(entries(listing)))).toBe(listing);
  });

  it('findSnapshot picks the same latest as restic', () => {
    const expected = entries(latestForHost);
    expect(expected).toHaveLength(1);
    expect(findSnapshot(entries(listing), 'latest', { hosts: ['h>st'], tags: [['a<b']] }).id).toBe(expected[0]!.id);
    expect(findSnapshot(entries(listing), 'latest').snapshot.tags).toEqual(['second', 'added']);
  });
});
