/**
 * Index files (`index/<id>`): which blobs each pack holds. JSON, written as restic writes it:
 *
 *   {"supersedes":[…]?,"packs":[{"id":P,"blobs":[{"id":B,"type":"data"|"tree","offset":n,
 *    "length":n,"uncompressed_length":n?}]}]}\n
 *
 * `supersedes` is omitted when empty; `uncompressed_length` appears only for compressed blobs;
 * `length` is the stored length. Readers also accept restic's legacy format (a top-level array of
 * pack objects) and ignore unknown fields. (The file's encryption and compression are the
 * repository's business.)
 */
import { CairnError } from '../errors.js';
import { isId, type BlobType, type Id, type PackId } from '../model/index.js';
import { describeValue } from '../util/index.js';
import type { PackedBlob } from '../pack/index.js';

export interface IndexPack {
  readonly id: PackId;
  readonly blobs: readonly PackedBlob[];
}

export interface IndexFile {
  readonly supersedes: readonly Id[];
  readonly packs: readonly IndexPack[];
}

/** restic 0.14 starts a new index file after this many blobs (repository v2). */
export const INDEX_MAX_BLOBS = 150_000;

export function encodeIndex(index: IndexFile): Uint8Array {
  const packs = index.packs.map((p) => ({
    id: p.id,
    blobs: p.blobs.map((b) => ({
      id: b.id,
      type: b.type,
      offset: b.offset,
      length: b.length,
      ...(b.uncompressedLength > 0 ? { uncompressed_length: b.uncompressedLength } : {}),
    })),
  }));
  const doc = index.supersedes.length > 0 ? { supersedes: index.supersedes, packs } : { packs };
  return new TextEncoder().encode(JSON.stringify(doc) + '\n');
}

function u32(v: unknown, field: string, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new CairnError('ERR_CORRUPT', `${what}: ${field} is ${describeValue(v)}, not a whole number from 0 to 2^32-1`, { data: { field } });
  }
  return v;
}

function id(v: unknown, field: string, what: string): Id {
  if (typeof v !== 'string' || !isId(v)) throw new CairnError('ERR_CORRUPT', `${what}: ${field} is ${describeValue(v)}, not a 64-hex-digit ID`, { data: { field } });
  return v;
}

/** Case-insensitive field lookup, as Go's encoding/json matches keys. */
function field(o: Record<string, unknown>, name: string): unknown {
  if (name in o) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function decodeIndex(bytes: Uint8Array, what: string): IndexFile {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new CairnError('ERR_CORRUPT', `${what}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  let packsDoc: unknown;
  let supersedesDoc: unknown = null;
  if (Array.isArray(doc)) {
    packsDoc = doc; // legacy format
  } else if (isObject(doc)) {
    packsDoc = field(doc, 'packs');
    supersedesDoc = field(doc, 'supersedes') ?? null;
  } else {
    throw new CairnError('ERR_CORRUPT', `${what}: an index is a JSON object or array, this is ${typeof doc}`);
  }
  if (packsDoc === null || packsDoc === undefined) packsDoc = [];
  if (!Array.isArray(packsDoc)) throw new CairnError('ERR_CORRUPT', `${what}: "packs" is not an array`);
  if (supersedesDoc !== null && !Array.isArray(supersedesDoc)) throw new CairnError('ERR_CORRUPT', `${what}: "supersedes" is not an array`);
  const supersedes = ((supersedesDoc ?? []) as unknown[]).map((s, i) => id(s, `supersedes[${i}]`, what));
  const packs = packsDoc.map((p: unknown, i): IndexPack => {
    if (!isObject(p)) throw new CairnError('ERR_CORRUPT', `${what}: packs[${i}] is not an object`);
    const blobsDoc = field(p, 'blobs') ?? [];
    if (!Array.isArray(blobsDoc)) throw new CairnError('ERR_CORRUPT', `${what}: packs[${i}].blobs is not an array`);
    return {
      id: id(field(p, 'id'), `packs[${i}].id`, what),
      blobs: blobsDoc.map((b: unknown, j): PackedBlob => {
        const at = `packs[${i}].blobs[${j}]`;
        if (!isObject(b)) throw new CairnError('ERR_CORRUPT', `${what}: ${at} is not an object`);
        const type = field(b, 'type');
        if (type !== 'data' && type !== 'tree') throw new CairnError('ERR_CORRUPT', `${what}: ${at}.type is ${describeValue(type)}, not "data" or "tree"`);
        const ulen = field(b, 'uncompressed_length');
        return {
          id: id(field(b, 'id'), `${at}.id`, what),
          type: type as BlobType,
          offset: u32(field(b, 'offset'), `${at}.offset`, what),
          length: u32(field(b, 'length'), `${at}.length`, what),
          uncompressedLength: ulen === undefined || ulen === null ? 0 : u32(ulen, `${at}.uncompressed_length`, what),
        };
      }),
    };
  });
  return { supersedes, packs };
}
