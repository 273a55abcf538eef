/**
 * zstd by example: the frame cairn writes (content size, no checksum), frames other writers make
 * (no content size, checksum, several frames), and every way decoding refuses — each a quick
 * ERR_CORRUPT that allocates nothing a frame header asks for.
 */
import { createRequire } from 'node:module';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { describe, expect, it } from 'vitest';
import { isCairnError, type ErrorCode } from '../../src/errors.js';
import { compress, decompress, decompressBounded, DEFAULT_LEVEL } from '../../src/compress/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { expectBytes } from '../crypto/bytes.js';

const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding;

function code(f: () => unknown): ErrorCode | 'none' {
  try {
    f();
  } catch (e) {
    if (isCairnError(e)) return e.code;
    throw e;
  }
  return 'none';
}

function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

/** A frame as another encoder might write it: optionally without content size, with a checksum. */
function foreignFrame(data: Uint8Array, opts: { contentSize: boolean; checksum: boolean }): Uint8Array {
  const c = new zstd.CCtx();
  c.setParameter(zstd.CParameter.compressionLevel, 5);
  c.setParameter(zstd.CParameter.contentSizeFlag, opts.contentSize ? 1 : 0);
  c.setParameter(zstd.CParameter.checksumFlag, opts.checksum ? 1 : 0);
  const dst = new Uint8Array(zstd.compressBound(data.length));
  return dst.slice(0, c.compress2(dst, data));
}

/** Frame header flags: FHD byte after the 4-byte magic. */
function frameFlags(frame: Uint8Array): { checksum: boolean; contentSize: number | null } {
  const fhd = frame[4]!;
  return { checksum: (fhd & 0x04) !== 0, contentSize: zstd.getFrameContentSize(frame) };
}

/** A well-formed frame that claims `size` bytes of content but holds one empty last block. */
function frameClaiming(size: number): Uint8Array {
  // magic, FHD = FCS flag 3 (8-byte size) + single segment, the 8-byte little-endian size, then
  // a block header: last block, raw, 0 bytes.
  const h = new Uint8Array(4 + 1 + 8 + 3);
  new DataView(h.buffer).setUint32(0, 0xfd2fb528, true);
  h[4] = 0xe0;
  new DataView(h.buffer).setBigUint64(5, BigInt(size), true);
  h[13] = 0x01;
  return h;
}

const text = new TextEncoder().encode('{"packs":[{"id":"0123","blobs":[]}]}\n'.repeat(2000));

describe('compress', () => {
  it('writes one frame with the content size and no checksum, at level 3 by default', () => {
    expect(DEFAULT_LEVEL).toBe(3);
    const z = compress(text);
    expect(frameFlags(z)).toEqual({ checksum: false, contentSize: text.length });
    expect(zstd.findFrameCompressedSize(z)).toBe(z.length);
    expect(z.length).toBeLessThan(text.length / 20);
    expectBytes(decompress(z, text.length), text);
  });

  it('handles the empty input and incompressible data', () => {
    const empty = compress(new Uint8Array(0));
    expect(frameFlags(empty).contentSize).toBe(0);
    expect(decompress(empty, 0)).toHaveLength(0);
    expect(decompressBounded(empty, 0)).toHaveLength(0);
    const random = pseudoRandomBytes(100_000, 1);
    const z = compress(random, 1);
    expect(z.length).toBeLessThan(random.length + 100);
    expectBytes(decompress(z, random.length), random);
  });

  it('accepts any libzstd level, refuses others', () => {
    for (const level of [-5, 1, 19, 22]) expectBytes(decompress(compress(text, level), text.length), text);
    expect(code(() => compress(text, 23))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => compress(text, 2.5))).toBe('ERR_INVALID_ARGUMENT');
  });
});

describe('decompress (size known)', () => {
  it('reads frames without content size and with a checksum, and several frames in a row', () => {
    for (const opts of [{ contentSize: false, checksum: true }, { contentSize: false, checksum: false }, { contentSize: true, checksum: true }]) {
      const f = foreignFrame(text, opts);
      expect(frameFlags(f).checksum).toBe(opts.checksum);
      expectBytes(decompress(f, text.length), text);
    }
    const two = new Uint8Array([...compress(text.subarray(0, 1000)), ...compress(text.subarray(1000))]);
    expectBytes(decompress(two, text.length), text);
  });

  it('refuses a size the frame contradicts, before allocating', () => {
    const z = compress(text);
    expect(code(() => decompress(z, text.length + 1, 'blob 12ab'))).toBe('ERR_CORRUPT');
    expect(message(() => decompress(z, text.length - 1, 'blob 12ab'))).toMatch(/blob 12ab.*declares/);
    // The header claims 2^31 bytes but the caller expects 100: refused without a 2 GiB allocation.
    expect(message(() => decompress(frameClaiming(2 ** 31), 100))).toMatch(/declares 2147483648 bytes/);
    // The header claims 100 bytes and the caller expects them, but the frame holds none.
    expect(code(() => decompress(frameClaiming(100), 100))).toBe('ERR_CORRUPT');
  });

  it('refuses sizes beyond 2^32 and beyond what so few bytes can expand to', () => {
    const z = compress(text);
    expect(message(() => decompress(z, 2 ** 32 + 1, 'blob 12ab'))).toMatch(/blob 12ab.*2\^32/);
    expect(code(() => decompress(frameClaiming(2 ** 40), 2 ** 40))).toBe('ERR_CORRUPT');
    expect(code(() => decompress(new Uint8Array(10), 10 * 32768 + 1))).toBe('ERR_CORRUPT');
  });

  it('refuses wrong sizes for frames without a content size', () => {
    const f = foreignFrame(text, { contentSize: false, checksum: false });
    expect(code(() => decompress(f, text.length - 1))).toBe('ERR_CORRUPT');
    expect(code(() => decompress(f, text.length + 1))).toBe('ERR_CORRUPT');
  });

  it('refuses truncation, trailing garbage, a bad checksum and garbage', () => {
    const z = compress(text);
    expect(code(() => decompress(z.subarray(0, z.length - 1), text.length))).toBe('ERR_CORRUPT');
    expect(code(() => decompress(z.subarray(0, 3), text.length))).toBe('ERR_CORRUPT');
    expect(code(() => decompress(new Uint8Array([...z, 1, 2, 3, 4, 5]), text.length))).toBe('ERR_CORRUPT');
    const f = foreignFrame(text, { contentSize: true, checksum: true });
    const bad = f.slice();
    bad[bad.length - 1]! ^= 0x40;
    expect(code(() => decompress(bad, text.length))).toBe('ERR_CORRUPT');
    expect(code(() => decompress(pseudoRandomBytes(1000, 2), 5000))).toBe('ERR_CORRUPT');
    expect(code(() => decompress(new Uint8Array(0), 0))).toBe('ERR_CORRUPT');
  });
});

describe('decompressBounded (size unknown)', () => {
  it('reads frames with and without content size or checksum, and several frames', () => {
    for (const opts of [{ contentSize: false, checksum: true }, { contentSize: true, checksum: false }]) {
      expectBytes(decompressBounded(foreignFrame(text, opts), text.length), text);
      expectBytes(decompressBounded(foreignFrame(text, opts), 1 << 30), text);
    }
    const two = new Uint8Array([...compress(text.subarray(0, 1000)), ...compress(text.subarray(1000))]);
    expectBytes(decompressBounded(two, text.length), text);
  });

  it('stops at the limit whatever the frame says', () => {
    const f = foreignFrame(text, { contentSize: false, checksum: true });
    expect(message(() => decompressBounded(f, text.length - 1, 'index 77aa'))).toMatch(/index 77aa.*exceeds the limit/);
    expect(code(() => decompressBounded(compress(text), text.length - 1))).toBe('ERR_CORRUPT');
    expect(message(() => decompressBounded(frameClaiming(2 ** 40), 1 << 20))).toMatch(/declares 1099511627776 bytes/);
    expect(code(() => decompressBounded(frameClaiming(100), 1 << 20))).toBe('ERR_CORRUPT');
  });

  it('stops a decompression bomb (256 MiB of zeros, no content size) early and quickly', () => {
    const zeros = new Uint8Array(256 << 20);
    const bomb = foreignFrame(zeros, { contentSize: false, checksum: false });
    expect(bomb.length).toBeLessThan(64 << 10);
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    expect(code(() => decompressBounded(bomb, 1 << 20))).toBe('ERR_CORRUPT');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
  });

  it('refuses truncation, trailing garbage, a bad checksum and garbage', () => {
    const f = foreignFrame(text, { contentSize: false, checksum: true });
    expect(message(() => decompressBounded(f.subarray(0, f.length - 1), 1 << 20, 'lock 99'))).toMatch(/lock 99/);
    expect(code(() => decompressBounded(f.subarray(0, f.length - 1), 1 << 20))).toBe('ERR_CORRUPT');
    expect(code(() => decompressBounded(f.subarray(0, 10), 1 << 20))).toBe('ERR_CORRUPT');
    expect(code(() => decompressBounded(new Uint8Array([...f, 0x28, 0xb5]), 1 << 20))).toBe('ERR_CORRUPT');
    expect(code(() => decompressBounded(new Uint8Array([...f, 9, 9, 9, 9, 9, 9]), 1 << 20))).toBe('ERR_CORRUPT');
    const bad = f.slice();
    bad[bad.length - 2]! ^= 0x01;
    expect(code(() => decompressBounded(bad, 1 << 20))).toBe('ERR_CORRUPT');
    expect(code(() => decompressBounded(pseudoRandomBytes(1000, 3), 1 << 20))).toBe('ERR_CORRUPT');
    expect(code(() => decompressBounded(new Uint8Array(0), 1 << 20))).toBe('ERR_CORRUPT');
  });
});
