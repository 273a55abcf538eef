/**
 * Snapshot files: `encodeSnapshot` writes what restic's json.Marshal writes (fields time, parent,
 * tree, paths, hostname, username, uid, gid, excludes, tags, original, `omitempty` where restic
 * has it, no trailing newline), followed by the raw `extra` fields sorted by key — which is where
 * newer restic puts `program_version` and `summary`. `decodeSnapshot` reads any snapshot restic
 * wrote (a trailing newline as in 2015's snapshots, unknown fields, keys in any letter case) and
 * fails only with ERR_CORRUPT naming `what`.
 *
 * Normalizations on decoding (restic never writes these forms): `"paths": null` becomes `[]`,
 * a `null` string in a list becomes "", and empty optional values (`"tags": []`, `"uid": 0`,
 * `"hostname": ""`) are left out, as the encoder leaves them out.
 */
import { CairnError, isCairnError, messageOf } from '../errors.js';
import { isId, type SnapshotId, type TreeId } from '../model/index.js';
import { ByteWriter, compactJson, decodeUtf8, foldKey, JsonReader, sortedExtraKeys } from '../util/index.js';
import { checkTimestamp, formatTime, tryParseTime, ZERO_TIME, type Timestamp } from '../tree/index.js';
import type { Snapshot } from './types.js';

const SNAPSHOT_KEYS: ReadonlySet<string> = new Set([
  'time',
  'parent',
  'tree',
  'paths',
  'hostname',
  'username',
  'uid',
  'gid',
  'excludes',
  'tags',
  'original',
]);

const UINT32_MAX = 0xffffffff;

function internal(message: string): never {
  throw new CairnError('ERR_INTERNAL', `snapshot: ${message}`);
}

function checkStrings(list: unknown, field: string): void {
  if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) internal(`${field} is not a list of strings`);
}

function writeStrings(w: ByteWriter, list: readonly string[]): void {
  w.byte(0x5b);
  for (let i = 0; i < list.length; i++) {
    if (i > 0) w.byte(0x2c);
    w.jsonString(list[i]!);
  }
  w.byte(0x5d);
}

/** Writes the snapshot's fields (without braces) into `w`; shared with `snapshotsJson`. */
export function writeSnapshotFields(w: ByteWriter, s: Snapshot, withExtra: boolean): void {
  let time: string;
  try {
    checkTimestamp(s.time, 'time');
    time = formatTime(s.time);
  } catch (e) {
    return internal(`time: ${messageOf(e)}`);
  }
  w.ascii('"time":"' + time + '"');
  if (s.parent !== undefined) {
    if (!isId(s.parent)) internal('parent is not an ID');
    w.ascii(',"parent":"' + s.parent + '"');
  }
  if (!isId(s.tree)) internal('tree is not an ID');
  w.ascii(',"tree":"' + s.tree + '","paths":');
  checkStrings(s.paths, 'paths');
  writeStrings(w, s.paths);
  if (s.hostname !== undefined && s.hostname !== '') {
    w.ascii(',"hostname":');
    w.jsonString(s.hostname);
  }
  if (s.username !== undefined && s.username !== '') {
    w.ascii(',"username":');
    w.jsonString(s.username);
  }
  for (const [field, v] of [
    ['uid', s.uid],
    ['gid', s.gid],
  ] as const) {
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0 || v > UINT32_MAX) internal(`${field} ${v} is not a 32-bit unsigned integer`);
    if (v !== 0) w.ascii(`,"${field}":${v}`);
  }
  if (s.excludes !== undefined && s.excludes.length > 0) {
    checkStrings(s.excludes, 'excludes');
    w.ascii(',"excludes":');
    writeStrings(w, s.excludes);
  }
  if (s.tags !== undefined && s.tags.length > 0) {
    checkStrings(s.tags, 'tags');
    w.ascii(',"tags":');
    writeStrings(w, s.tags);
  }
  if (s.original !== undefined) {
    if (!isId(s.original)) internal('original is not an ID');
    w.ascii(',"original":"' + s.original + '"');
  }
  if (withExtra && s.extra !== undefined) {
    for (const k of sortedExtraKeys(s.extra, SNAPSHOT_KEYS, 'snapshot')) {
      w.byte(0x2c);
      w.jsonString(k);
      w.byte(0x3a);
      w.text(compactJson(s.extra[k]!));
    }
  }
}

/**
 * The bytes of a snapshot file as restic's json.Marshal writes them (no trailing newline).
 * Throws ERR_INTERNAL for a malformed Snapshot (bad ID, year outside 0..9999, bad extra field).
 */
export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new ByteWriter(512);
  w.byte(0x7b);
  writeSnapshotFields(w, s, true);
  w.byte(0x7d);
  return w.result();
}

function readId(r: JsonReader, field: string): string | undefined {
  if (r.isNull()) return undefined;
  const start = r.pos;
  const raw = r.rawString();
  if (!/^[0-9a-fA-F]{64}$/.test(raw)) r.fail(`${field} is not a 64-digit hex ID`, start);
  return raw.toLowerCase();
}

function readStrings(r: JsonReader): string[] | undefined {
  if (r.isNull()) return undefined;
  const list: string[] = [];
  r.openArray();
  for (let first = true; r.nextItem(first); first = false) list.push(r.isNull() ? '' : r.string());
  return list;
}

type Draft = { -readonly [K in keyof Snapshot]?: Snapshot[K] };

/**
 * Decodes a snapshot file's JSON. Throws CairnError ERR_CORRUPT (naming `what`) when it is not
 * JSON restic could read, or has no tree.
 */
export function decodeSnapshot(bytes: Uint8Array, what = 'snapshot'): Snapshot {
  try {
    const r: JsonReader = new JsonReader(decodeUtf8(bytes), what);
    let time: Timestamp = ZERO_TIME;
    let tree: string | undefined;
    let paths: string[] | undefined;
    let extra: Record<string, string> | undefined;
    const d: Draft = {};
    r.openObject();
    for (let first = true; ; first = false) {
      const key = r.nextKey(first);
      if (key === undefined) break;
      const k = SNAPSHOT_KEYS.has(key) ? key : foldKey(key);
      switch (k) {
        case 'time': {
          if (r.isNull()) break;
          const start = r.pos;
          if (r.peek() !== 0x22) r.fail('time is not a string');
          const t = tryParseTime(r.rawString());
          if (t === undefined) r.fail('time is not an RFC 3339 time', start);
          time = t;
          break;
        }
        case 'parent': {
          const id = readId(r, 'parent');
          if (id === undefined) delete d.parent;
          else d.parent = id as SnapshotId;
          break;
        }
        case 'tree':
          tree = readId(r, 'tree');
          break;
        case 'paths':
          paths = readStrings(r);
          break;
        case 'hostname':
          if (!r.isNull()) d.hostname = r.string();
          break;
        case 'username':
          if (!r.isNull()) d.username = r.string();
          break;
        case 'uid':
          if (!r.isNull()) d.uid = r.uint(UINT32_MAX);
          break;
        case 'gid':
          if (!r.isNull()) d.gid = r.uint(UINT32_MAX);
          break;
        case 'excludes': {
          const list = readStrings(r);
          if (list === undefined) delete d.excludes;
          else d.excludes = list;
          break;
        }
        case 'tags': {
          const list = readStrings(r);
          if (list === undefined) delete d.tags;
          else d.tags = list;
          break;
        }
        case 'original': {
          const id = readId(r, 'original');
          if (id === undefined) delete d.original;
          else d.original = id as SnapshotId;
          break;
        }
        default:
          extra ??= Object.create(null) as Record<string, string>;
          extra[key] = r.skipValue();
      }
    }
    r.end();
    if (tree === undefined) r.fail('snapshot has no tree', 0);
    const s: Draft = { time };
    if (d.parent !== undefined) s.parent = d.parent;
    s.tree = tree as TreeId;
    s.paths = paths ?? [];
    if (d.hostname !== undefined && d.hostname !== '') s.hostname = d.hostname;
    if (d.username !== undefined && d.username !== '') s.username = d.username;
    if (d.uid !== undefined && d.uid !== 0) s.uid = d.uid;
    if (d.gid !== undefined && d.gid !== 0) s.gid = d.gid;
    if (d.excludes !== undefined && d.excludes.length > 0) s.excludes = d.excludes;
    if (d.tags !== undefined && d.tags.length > 0) s.tags = d.tags;
    if (d.original !== undefined) s.original = d.original;
    if (extra !== undefined) s.extra = extra;
    return s as Snapshot;
  } catch (e) {
    if (isCairnError(e, 'ERR_CORRUPT')) throw e;
    throw new CairnError('ERR_CORRUPT', `${what}: cannot decode snapshot: ${messageOf(e)}`, { cause: e, data: { what } });
  }
}
