/**
 * A tar header encoder that writes what Go's archive/tar writes (restic 0.14's `dump` uses it
 * with the format left unspecified), so cairn's archive is byte for byte restic's:
 *
 * - USTAR whenever every field fits: a name over 100 bytes is split at a `/` into the 155-byte
 *   prefix and 100-byte name fields when it is ASCII and such a split exists.
 * - PAX otherwise: an extended header (type `x`, named `<dir>/PaxHeaders.0/<base>`, mode, uid,
 *   gid and mtime 0) whose records, sorted by key, carry what does not fit: `path` (non-ASCII, or
 *   too long to split), `linkpath`, `uname`/`gname` (> 32 bytes or non-ASCII), `uid`/`gid`
 *   (≥ 8^7), `size` (≥ 8 GiB), `mtime` (before 1970 or ≥ 2^33 s), and any extra records given
 *   (xattrs as `SCHILY.xattr.NAME`). The main header then holds the fields' ASCII-only, truncated
 *   forms and 0 for numbers that do not fit.
 * - Numbers are zero-padded octal with a NUL; the checksum is six octal digits, NUL, space, summed
 *   with the checksum field as spaces; magic `ustar\0`, version `00`.
 *
 * Times are whole seconds: Go rounds the mtime to the nearest second and drops atime and ctime
 * unless a format is chosen, and restic chooses none. Pure code, no I/O.
 */
import { CairnError } from '../errors.js';

export const TAR_BLOCK = 512;
export const TYPE_REG = 0x30; // '0'
export const TYPE_SYMLINK = 0x32; // '2'
export const TYPE_DIR = 0x35; // '5'
export const TYPE_PAX = 0x78; // 'x'

/** One archive member's header fields. Strings that may hold any bytes are bytes. */
export interface TarHeader {
  readonly name: Uint8Array;
  readonly typeflag: number;
  /** Permission bits and setuid/setgid/sticky (0o7777 at most). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Content size; 0 for header-only types. */
  readonly size: number;
  /** Whole seconds since the epoch (may be negative). */
  readonly mtime: number;
  readonly linkname?: Uint8Array;
  readonly uname?: Uint8Array;
  readonly gname?: Uint8Array;
  /** Extra PAX records (e.g. `SCHILY.xattr.user.x`); any present forces the PAX format. */
  readonly pax?: ReadonlyMap<string, Uint8Array>;
}

const enc = new TextEncoder();
const EMPTY = new Uint8Array(0);

function isAscii(b: Uint8Array): boolean {
  for (const c of b) if (c >= 0x80) return false;
  return true;
}

/** Go's toASCII: drops non-ASCII bytes and NULs. */
function toAscii(b: Uint8Array): Uint8Array {
  if (isAscii(b) && !b.includes(0)) return b;
  return b.filter((c) => c < 0x80 && c !== 0);
}

/** Fits as octal digits in a field of `size` bytes with room for a NUL (Go's fitsInOctal). */
function fitsOctal(size: number, x: number): boolean {
  return x >= 0 && x < 8 ** (size - 1);
}

/** Copies `s` into `block[off, off+size)`, truncated; a NUL follows when there is room. */
function putString(block: Uint8Array, off: number, size: number, s: Uint8Array): void {
  const n = Math.min(s.length, size);
  block.set(s.subarray(0, n), off);
  if (n < size) block[off + n] = 0;
  // As Go: a truncated field does not end in `/` (some readers would take a file for a directory).
  if (s.length > size && s[size - 1] === 0x2f) {
    let t = size - 1;
    while (t > 0 && s[t - 1] === 0x2f) t--;
    block[off + t] = 0;
  }
}

/** Zero-padded octal with a trailing NUL; 0 when it does not fit (the PAX record says it). */
function putOctal(block: Uint8Array, off: number, size: number, x: number): void {
  const s = (fitsOctal(size, x) ? x : 0).toString(8).padStart(size - 1, '0');
  putString(block, off, size, enc.encode(s));
}

/** Splits an ASCII name longer than 100 bytes into USTAR prefix (≤ 155) and name (≤ 100). */
export function splitUstarPath(name: Uint8Array): [Uint8Array, Uint8Array] | undefined {
  let length = name.length;
  if (length <= 100 || !isAscii(name)) return undefined;
  if (length > 156) length = 156;
  else if (name[length - 1] === 0x2f) length--;
  const i = name.subarray(0, length).lastIndexOf(0x2f);
  const nlen = name.length - i - 1;
  if (i <= 0 || nlen > 100 || nlen === 0 || i > 155) return undefined;
  return [name.subarray(0, i), name.subarray(i + 1)];
}

/** One PAX record, `"%d %s=%s\n"` where the length counts its own digits. */
export function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const k = enc.encode(key);
  const base = k.length + value.length + 3;
  let size = base + String(base).length;
  if (String(size).length + base !== size) size = base + String(size).length;
  const head = enc.encode(`${size} `);
  const out = new Uint8Array(size);
  out.set(head, 0);
  out.set(k, head.length);
  out[head.length + k.length] = 0x3d;
  out.set(value, head.length + k.length + 1);
  out[size - 1] = 0x0a;
  return out;
}

function checksum(block: Uint8Array): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const c of block) sum += c;
  putOctal(block, 148, 7, sum);
  block[155] = 0x20;
}

function rawBlock(h: { name: Uint8Array; typeflag: number; mode: number; uid: number; gid: number; size: number; mtime: number; linkname: Uint8Array; uname?: Uint8Array; gname?: Uint8Array; prefix?: Uint8Array; devNumbers: boolean }): Uint8Array {
  const b = new Uint8Array(TAR_BLOCK);
  putString(b, 0, 100, h.name);
  putOctal(b, 100, 8, h.mode);
  putOctal(b, 108, 8, h.uid);
  putOctal(b, 116, 8, h.gid);
  putOctal(b, 124, 12, h.size);
  putOctal(b, 136, 12, h.mtime);
  b[156] = h.typeflag;
  putString(b, 157, 100, h.linkname);
  b.set(enc.encode('ustar\u000000'), 257);
  if (h.uname !== undefined) putString(b, 265, 32, h.uname);
  if (h.gname !== undefined) putString(b, 297, 32, h.gname);
  if (h.devNumbers) {
    putOctal(b, 329, 8, 0);
    putOctal(b, 337, 8, 0);
  }
  if (h.prefix !== undefined) putString(b, 345, 155, h.prefix);
  checksum(b);
  return b;
}

/** Zero bytes that pad `size` bytes of content to a whole block. */
export function tarPadding(size: number): Uint8Array {
  const rest = size % TAR_BLOCK;
  return rest === 0 ? EMPTY : new Uint8Array(TAR_BLOCK - rest);
}

/** The end of an archive: two zero blocks (Go writes no further padding). */
export function tarTrailer(): Uint8Array {
  return new Uint8Array(2 * TAR_BLOCK);
}

const BASIC_PAX_KEYS = new Set(['path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'mtime', 'atime', 'ctime']);

/**
 * The blocks that introduce a member: its header, preceded by a PAX extended header (and its
 * padded records) when USTAR cannot hold every field. ERR_INVALID_ARGUMENT for a field no format
 * can hold (a negative size, a mode beyond 0o7777, a PAX key with `=` or NUL).
 */
export function encodeTarHeader(h: TarHeader): Uint8Array {
  if (!Number.isSafeInteger(h.size) || h.size < 0) throw new CairnError('ERR_INVALID_ARGUMENT', `tar: invalid size ${h.size}`);
  if (!fitsOctal(8, h.mode)) throw new CairnError('ERR_INVALID_ARGUMENT', `tar: invalid mode ${h.mode}`);
  const linkname = h.linkname ?? EMPTY;
  const uname = h.uname ?? EMPTY;
  const gname = h.gname ?? EMPTY;
  const records = new Map<string, Uint8Array>();
  let ustar = true;
  const str = (s: Uint8Array, size: number, key: string, splittable: boolean): void => {
    if (isAscii(s) && s.length <= size) return;
    if (!splittable || splitUstarPath(s) === undefined) ustar = false;
    records.set(key, s);
  };
  str(h.name, 100, 'path', true);
  str(linkname, 100, 'linkpath', false);
  str(uname, 32, 'uname', false);
  str(gname, 32, 'gname', false);
  const num = (n: number, size: number, key: string, value = String(n)): void => {
    if (fitsOctal(size, n)) return;
    ustar = false;
    records.set(key, enc.encode(value));
  };
  num(h.uid, 8, 'uid');
  num(h.gid, 8, 'gid');
  num(h.size, 12, 'size');
  num(h.mtime, 12, 'mtime');
  if (h.pax !== undefined && h.pax.size > 0) {
    ustar = false;
    for (const [k, v] of h.pax) {
      if (k.length === 0 || k.includes('=') || k.includes('\0')) throw new CairnError('ERR_INVALID_ARGUMENT', `tar: invalid PAX record key ${JSON.stringify(k)}`);
      if (!records.has(k) && !BASIC_PAX_KEYS.has(k) && !k.startsWith('GNU.sparse.')) records.set(k, v);
    }
  }
  for (const key of ['path', 'linkpath', 'uname', 'gname'] as const) {
    if (!ustar && records.get(key)?.includes(0) === true) throw new CairnError('ERR_INVALID_ARGUMENT', `tar: a ${key} with a NUL byte`);
  }
  const fields = { typeflag: h.typeflag, mode: h.mode, uid: h.uid, gid: h.gid, size: h.size, mtime: h.mtime, uname, gname, devNumbers: true };
  if (ustar) {
    const split = h.name.length > 100 ? splitUstarPath(h.name) : undefined;
    return rawBlock({ ...fields, name: split?.[1] ?? h.name, linkname, ...(split !== undefined ? { prefix: split[0] } : {}) });
  }
  const main = rawBlock({ ...fields, name: toAscii(h.name), linkname: toAscii(linkname), uname: toAscii(uname), gname: toAscii(gname) });
  if (records.size === 0) return main;
  const keys = [...records.keys()].sort((a, b) => compareBytes(enc.encode(a), enc.encode(b)));
  const body = concat(keys.map((k) => paxRecord(k, records.get(k)!)));
  const pax = rawBlock({ name: paxName(h.name), typeflag: TYPE_PAX, mode: 0, uid: 0, gid: 0, size: body.length, mtime: 0, linkname: EMPTY, devNumbers: false });
  return concat([pax, body, tarPadding(body.length), main]);
}

/** Go's name for the extended header: path.Join(dir, "PaxHeaders.0", base), ASCII, ≤ 100, no trailing `/`. */
function paxName(name: Uint8Array): Uint8Array {
  const slash = name.lastIndexOf(0x2f);
  const dir = name.subarray(0, slash + 1);
  const base = name.subarray(slash + 1);
  const joined = cleanPath([dir, enc.encode('/PaxHeaders.0/'), base]);
  let out = toAscii(joined);
  if (out.length > 100) out = out.subarray(0, 100);
  let end = out.length;
  while (end > 0 && out[end - 1] === 0x2f) end--;
  return out.subarray(0, end);
}

/** Joins parts and cleans like Go's path.Clean for relative names (collapses `//`, drops `.` and a trailing `/`). */
function cleanPath(parts: Uint8Array[]): Uint8Array {
  const all = concat(parts);
  const segs: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= all.length; i++) {
    if (i === all.length || all[i] === 0x2f) {
      const seg = all.subarray(start, i);
      start = i + 1;
      if (seg.length === 0 || (seg.length === 1 && seg[0] === 0x2e)) continue;
      if (seg.length === 2 && seg[0] === 0x2e && seg[1] === 0x2e && segs.length > 0) {
        segs.pop();
        continue;
      }
      segs.push(seg);
    }
  }
  const out: Uint8Array[] = [];
  segs.forEach((s, i) => {
    if (i > 0) out.push(new Uint8Array([0x2f]));
    out.push(s);
  });
  return concat(out);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
