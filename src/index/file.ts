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
import { CairnError, messageOf } from '../errors.js';
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

/** Element `i` of "packs", as JSON.parse gave it. */
function decodePack(p: unknown, i: number, what: string): IndexPack {
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
  const packs = packsDoc.map((p: unknown, i) => decodePack(p, i, what));
  return { supersedes, packs };
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Where the JSON value opening with `{` or `[` at `start` ends (the index after its closing
 * bracket), by bracket depth outside strings; -1 when the text ends first. The brackets are not
 * matched by kind: JSON.parse of the slice checks the value.
 */
function valueEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // To the closing quote: the next quote not escaped (preceded by an even run of backslashes).
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i < 0) return -1;
        let slashes = 0;
        while (text.charCodeAt(i - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * `decodeIndex` one pack at a time: `onPack` gets each pack, in file order, and nothing keeps it.
 * The shape cairn and restic write, an object with "packs" and possibly "supersedes" (spelled so,
 * each once), is split into its pack objects, each parsed and checked on its own, so a large index
 * file (restic's hold up to 150,000 blobs, ~20 MB of JSON) is never parsed into objects whole;
 * anything else is decoded whole by `decodeIndex`. Accepts and refuses what `decodeIndex` does,
 * with its errors, but a failure is thrown after the packs before it were passed on: a caller
 * must undo what it did with them. An error `onPack` throws propagates unchanged. Returns the IDs
 * the file supersedes.
 */
export function visitIndex(bytes: Uint8Array, what: string, onPack: (pack: IndexPack) => void): readonly Id[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return whole(bytes, what, onPack); // decodeIndex's error
  }
  let at = 0;
  const skip = (): void => {
    while (at < text.length && isSpace(text.charCodeAt(at))) at++;
  };
  const next = (c: number): boolean => {
    skip();
    if (text.charCodeAt(at) !== c) return false;
    at++;
    return true;
  };
  // First the shape, without the packs: [start, end) of "packs" and of "supersedes".
  let packs: [number, number] | undefined;
  let supersedes: [number, number] | undefined;
  if (!next(0x7b)) return whole(bytes, what, onPack);
  for (let first = true; !next(0x7d); first = false) {
    if (!first && !next(0x2c)) return whole(bytes, what, onPack);
    skip();
    const key = text.startsWith('"packs"', at) ? 'packs' : text.startsWith('"supersedes"', at) ? 'supersedes' : undefined;
    if (key === undefined || (key === 'packs' ? packs : supersedes) !== undefined) return whole(bytes, what, onPack);
    at += key.length + 2;
    if (!next(0x3a)) return whole(bytes, what, onPack);
    skip();
    if (text.charCodeAt(at) !== 0x5b) return whole(bytes, what, onPack);
    const end = valueEnd(text, at);
    if (end < 0) return whole(bytes, what, onPack);
    if (key === 'packs') packs = [at, end];
    else supersedes = [at, end];
    at = end;
  }
  skip();
  if (at !== text.length || packs === undefined) return whole(bytes, what, onPack);
  let fromCallback: unknown = undefined;
  try {
    const ids = supersedes === undefined ? [] : (JSON.parse(text.slice(supersedes[0], supersedes[1])) as unknown[]).map((s, i) => id(s, `supersedes[${i}]`, what));
    // Then each pack object of "packs".
    at = packs[0] + 1;
    for (let i = 0; !next(0x5d); i++) {
      if (i > 0 && !next(0x2c)) throw new SyntaxError('expected , or ]');
      skip();
      const end = text.charCodeAt(at) === 0x7b ? valueEnd(text, at) : -1;
      if (end < 0) throw new SyntaxError('expected a pack object');
      const pack = decodePack(JSON.parse(text.slice(at, end)), i, what);
      at = end;
      try {
        onPack(pack);
      } catch (e) {
        fromCallback = e;
        throw e;
      }
    }
    return ids;
  } catch (e) {
    if (e === fromCallback && e !== undefined) throw e;
    // The whole file's error, as decodeIndex reports it (a syntax error after this pack, say).
    decodeIndex(bytes, what);
    throw new CairnError('ERR_INTERNAL', `${what}: decoding pack by pack failed where decoding the whole file did not (${messageOf(e)}); please report this`, { cause: e });
  }
}

/** visitIndex's way for shapes it does not split: decodeIndex, then each pack. */
function whole(bytes: Uint8Array, what: string, onPack: (pack: IndexPack) => void): readonly Id[] {
  const file = decodeIndex(bytes, what);
  for (const p of file.packs) onPack(p);
  return file.supersedes;
}
