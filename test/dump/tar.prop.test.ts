/**
 * Tar header properties (seeded): any header fields (names of any bytes and length, link targets,
 * user names, uids and sizes beyond USTAR's octal range, times before 1970 and past 2242, xattr
 * records) encode to whole 512-byte blocks with valid checksums that a small independent reader
 * (USTAR fields, prefix/name split, PAX records override) decodes back to the same fields; USTAR
 * (no extended header) is used exactly when every field fits it, as Go's archive/tar does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTarHeader, paxRecord, TYPE_DIR, TYPE_REG, TYPE_SYMLINK, type TarHeader } from '../../src/dump/index.js';

const SEED = 20261124;
const dec = new TextDecoder('latin1');
const utf8 = new TextDecoder();

interface Parsed {
  name: Uint8Array;
  typeflag: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: Uint8Array;
  uname: Uint8Array;
  gname: Uint8Array;
  pax: Map<string, Uint8Array>;
  blocks: number;
}

function field(b: Uint8Array, off: number, size: number): Uint8Array {
  const f = b.subarray(off, off + size);
  const nul = f.indexOf(0);
  return nul < 0 ? f : f.subarray(0, nul);
}

function octal(b: Uint8Array, off: number, size: number): number {
  const s = dec.decode(field(b, off, size));
  expect(s).toMatch(/^[0-7]*$/);
  return s === '' ? 0 : parseInt(s, 8);
}

function checkBlock(b: Uint8Array): void {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  expect(dec.decode(b.subarray(148, 156))).toBe(`${sum.toString(8).padStart(6, '0')}\0 `);
  expect(dec.decode(b.subarray(257, 265))).toBe('ustar\u000000');
}

function parseRecords(body: Uint8Array): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  let off = 0;
  while (off < body.length) {
    const space = body.indexOf(0x20, off);
    const len = Number(dec.decode(body.subarray(off, space)));
    const rec = body.subarray(space + 1, off + len);
    expect(rec[rec.length - 1]).toBe(0x0a);
    const eq = rec.indexOf(0x3d);
    out.set(utf8.decode(rec.subarray(0, eq)), rec.subarray(eq + 1, rec.length - 1));
    off += len;
  }
  return out;
}

/** A minimal reader: an optional PAX header, then the member header. */
function parse(bytes: Uint8Array): Parsed {
  expect(bytes.length % 512).toBe(0);
  let at = 0;
  let pax = new Map<string, Uint8Array>();
  let b = bytes.subarray(0, 512);
  checkBlock(b);
  if (b[156] === 0x78) {
    const size = octal(b, 124, 12);
    pax = parseRecords(bytes.subarray(512, 512 + size));
    at = 512 + Math.ceil(size / 512) * 512;
    b = bytes.subarray(at, at + 512);
    checkBlock(b);
  }
  expect(at + 512).toBe(bytes.length);
  const prefix = field(b, 345, 155);
  const short = field(b, 0, 100);
  const num = (key: string, off: number, size: number): number => (pax.has(key) ? Number(dec.decode(pax.get(key))) : octal(b, off, size));
  return {
    name: pax.get('path') ?? (prefix.length > 0 ? Buffer.concat([prefix, Buffer.from('/'), short]) : short),
    typeflag: b[156]!,
    mode: octal(b, 100, 8),
    uid: num('uid', 108, 8),
    gid: num('gid', 116, 8),
    size: num('size', 124, 12),
    mtime: num('mtime', 136, 12),
    linkname: pax.get('linkpath') ?? field(b, 157, 100),
    uname: pax.get('uname') ?? field(b, 265, 32),
    gname: pax.get('gname') ?? field(b, 297, 32),
    pax,
    blocks: bytes.length / 512,
  };
}

const component = fc.uint8Array({ minLength: 1, maxLength: 120 }).map((a) => a.map((c) => (c === 0 || c === 0x2f ? 0x61 : c)));
const asciiComponent = fc.stringMatching(/^[a-zA-Z0-9._-]{1,70}$/).map((s) => new TextEncoder().encode(s));
const nameArb = fc.array(fc.oneof(component, asciiComponent), { minLength: 1, maxLength: 6 }).map((parts) => new Uint8Array(Buffer.concat(parts.map((p, i) => (i === 0 ? Buffer.from(p) : Buffer.concat([Buffer.from('/'), Buffer.from(p)]))))));
const shortBytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max }).map((a) => a.map((c) => (c === 0 ? 0x62 : c)));
const asciiBytes = (max: number): fc.Arbitrary<Uint8Array> => fc.stringMatching(new RegExp(`^[a-z0-9]{0,${max}}$`)).map((s) => new TextEncoder().encode(s));
const bigOrSmall = (small: number, big: number): fc.Arbitrary<number> => fc.oneof(fc.integer({ min: 0, max: small }), fc.integer({ min: 0, max: big }));

const headerArb: fc.Arbitrary<TarHeader> = fc.record({
  name: nameArb,
  typeflag: fc.constantFrom(TYPE_REG, TYPE_DIR, TYPE_SYMLINK),
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: bigOrSmall(65535, 2 ** 32 - 1),
  gid: bigOrSmall(65535, 2 ** 32 - 1),
  size: bigOrSmall(1 << 20, Number.MAX_SAFE_INTEGER),
  mtime: fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
  linkname: fc.oneof(asciiBytes(100), shortBytes(200)),
  uname: fc.oneof(asciiBytes(32), shortBytes(40)),
  gname: fc.oneof(asciiBytes(32), shortBytes(40)),
  pax: fc.oneof(
    fc.constant(new Map<string, Uint8Array>()),
    fc.array(fc.tuple(fc.stringMatching(/^[a-z.]{1,20}$/), fc.uint8Array({ maxLength: 300 })), { maxLength: 3 }).map((es) => new Map(es.map(([k, v]) => [`SCHILY.xattr.user.${k}`, v] as const))),
  ),
});

function ascii(b: Uint8Array): boolean {
  return b.every((c) => c < 0x80);
}

describe('tar header encoder', () => {
  it('round-trips every field through a small reader; checksums valid; USTAR exactly when everything fits', () => {
    fc.assert(
      fc.property(headerArb, (h) => {
        const bytes = encodeTarHeader(h);
        const p = parse(bytes);
        expect(Buffer.from(p.name).equals(Buffer.from(h.name))).toBe(true);
        expect(p.typeflag).toBe(h.typeflag);
        expect(p.mode).toBe(h.mode);
        expect([p.uid, p.gid, p.size, p.mtime]).toEqual([h.uid, h.gid, h.size, h.mtime]);
        expect(Buffer.from(p.linkname).equals(Buffer.from(h.linkname!))).toBe(true);
        expect(Buffer.from(p.uname).equals(Buffer.from(h.uname!))).toBe(true);
        expect(Buffer.from(p.gname).equals(Buffer.from(h.gname!))).toBe(true);
        for (const [k, v] of h.pax!) expect(Buffer.from(p.pax.get(k)!).equals(Buffer.from(v))).toBe(true);
        const splittable = (() => {
          if (h.name.length <= 100) return true;
          if (!ascii(h.name)) return false;
          for (let i = h.name.length - 1; i > 0; i--) {
            if (h.name[i] === 0x2f && i <= 155 && h.name.length - i - 1 <= 100 && h.name.length - i - 1 > 0) return true;
          }
          return false;
        })();
        const fits =
          ascii(h.name) && splittable &&
          ascii(h.linkname!) && h.linkname!.length <= 100 &&
          ascii(h.uname!) && h.uname!.length <= 32 &&
          ascii(h.gname!) && h.gname!.length <= 32 &&
          h.uid < 8 ** 7 && h.gid < 8 ** 7 && h.size < 8 ** 11 && h.mtime >= 0 && h.mtime < 8 ** 11 &&
          h.pax!.size === 0;
        expect(p.blocks === 1).toBe(fits);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('a PAX record counts its own length, also across a digit boundary', () => {
    for (let n = 0; n < 120; n++) {
      const rec = paxRecord('k', new Uint8Array(n).fill(0x61));
      expect(Number(new TextDecoder().decode(rec).split(' ')[0])).toBe(rec.length);
    }
  });
});
