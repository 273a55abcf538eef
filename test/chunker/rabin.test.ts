/**
 * restic's Rabin chunker: upstream vectors from restic/chunker's own tests (those that do not need
 * Go's math/rand), table definitions, polynomial choice and parsing, and parameter checks.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isCairnError } from '../../src/errors.js';
import { chunkBoundaries, chunkStream } from '../../src/chunker/stream.js';
import {
  RABIN_MAX_SIZE,
  RABIN_MIN_SIZE,
  add,
  createRabinChunker,
  degree,
  div,
  expandPolynomial,
  formatPolynomial,
  gcd,
  isIrreducible,
  mod,
  mul,
  mulmod,
  parsePolynomial,
  rabinTables,
  randomPolynomial,
  validatePolynomial,
} from '../../src/chunker/rabin/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';

/** The polynomial restic/chunker's tests use. */
const TEST_POL = 0x3da3358b4dc173n;
const bin = (s: string): bigint => BigInt(`0b${s}`);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Deterministic random bytes from AES-128-CTR. (Not test/helpers' xorshift128+ generator: its
 * output is almost GF(2)-linear, like the Rabin fingerprint, and in practice it never produces a
 * window whose low 20 fingerprint bits are zero, so every chunk would be cut at MaxSize.)
 */
function expectCode(f: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(isCairnError(thrown), `expected a CairnError ${code}, got ${String(thrown)}`).toBe(true);
  expect((thrown as { code: string }).code).toBe(code);
}

async function chunks(data: Uint8Array, pol = TEST_POL, opts = {}): Promise<Array<{ length: number; sha: string }>> {
  const out: Array<{ length: number; sha: string }> = [];
  for await (const c of chunkStream(createRabinChunker(pol, opts), [data])) {
    out.push({ length: c.length, sha: sha256(c.data) });
  }
  return out;
}

describe('polynomial arithmetic (restic/chunker polynomials_test.go vectors)', () => {
  it('adds', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [23n, 16n, 23n ^ 16n],
      [0x9a7e30d1e855e0a0n, 0x670102a1f4bcd414n, 0xfd7f32701ce934b4n],
      [0x9a7e30d1e855e0a0n, 0x9a7e30d1e855e0a0n, 0n],
    ];
    for (const [x, y, sum] of cases) {
      expect(add(x, y)).toBe(sum);
      expect(add(y, x)).toBe(sum);
    }
  });

  it('multiplies', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [1n, 2n, 2n],
      [bin('1101'), bin('10'), bin('11010')],
      [bin('1101'), bin('11'), bin('10111')],
      [0x40000000n, 0x40000000n, 0x1000000000000000n],
      [bin('1010'), bin('100100'), bin('101101000')],
      [bin('100'), bin('11'), bin('1100')],
      [bin('11'), bin('110101'), bin('1011111')],
      [bin('10011'), bin('110101'), bin('1100001111')],
    ];
    for (const [x, y, product] of cases) {
      expect(mul(x, y)).toBe(product);
      expect(mul(y, x)).toBe(product);
    }
  });

  it('divides', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [10n, 50n, 0n],
      [0n, 1n, 0n],
      [bin('101101000'), bin('1010'), bin('100100')],
      [2n, 2n, 1n],
      [0x8000000000000000n, 0x8000000000000000n, 1n],
      [bin('1100'), bin('100'), bin('11')],
      [bin('1100001111'), bin('10011'), bin('110101')],
    ];
    for (const [x, y, q] of cases) expect(div(x, y)).toBe(q);
  });

  it('reduces', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [10n, 50n, 10n],
      [0n, 1n, 0n],
      [bin('101101001'), bin('1010'), bin('1')],
      [2n, 2n, 0n],
      [0x8000000000000000n, 0x8000000000000000n, 0n],
      [bin('1100'), bin('100'), 0n],
      [bin('1100001111'), bin('10011'), 0n],
    ];
    for (const [x, y, r] of cases) expect(mod(x, y)).toBe(r);
  });

  it('computes gcds', () => {
    const cases: Array<[bigint, bigint, bigint]> = [
      [10n, 50n, 2n],
      [0n, 1n, 1n],
      [bin('101101001'), bin('1010'), 1n],
      [2n, 2n, 2n],
      [bin('1010'), bin('11'), bin('11')],
      [0x8000000000000000n, 0x8000000000000000n, 0x8000000000000000n],
      [bin('1100'), bin('101'), bin('11')],
      [bin('1100001111'), bin('10011'), bin('10011')],
      [TEST_POL, TEST_POL, TEST_POL],
      [TEST_POL, 0x230d2259defdn, 1n],
      [0x230d2259defdn, 0x51b492b3eff2n, bin('10011')],
    ];
    for (const [x, y, g] of cases) {
      expect(gcd(x, y)).toBe(g);
      expect(gcd(y, x)).toBe(g);
    }
  });

  it('multiplies modulo a polynomial', () => {
    expect(mulmod(0x1230n, 0x230n, 0x55n)).toBe(0x22n);
    expect(mulmod(0x0eae8c07dbbb3026n, 0xd5d6db9de04771den, 0xdd2bda3b77c9n)).toBe(0x425ae8595b7an);
  });

  it('computes degrees and expands', () => {
    expect(degree(0x3af4b284899n)).toBe(41);
    expect(degree(TEST_POL)).toBe(53);
    expect(degree(1n)).toBe(0);
    expect(degree(0n)).toBe(-1);
    expect(expandPolynomial(TEST_POL)).toBe(
      'x^53+x^52+x^51+x^50+x^48+x^47+x^45+x^41+x^40+x^37+x^36+x^34+x^32+x^31+x^27+x^25+x^24+x^22+x^19+x^18+x^16+x^15+x^14+x^8+x^6+x^5+x^4+x+1',
    );
  });

  it('tests irreducibility', () => {
    const cases: Array<[bigint, boolean]> = [
      [0x38f1e565e288dfn, false],
      [0x3da3358b4dc173n, true],
      [0x30a8295b9d5c91n, false],
      [0x255f4350b962cbn, false],
      [0x267f776110a235n, false],
      [0x2f4dae10d41227n, false],
      [0x2482734cacca49n, true],
      [0x312daf4b284899n, false],
      [0x29dfb6553d01d1n, false],
      [0x3548245eb26257n, false],
      [0x3199e7ef4211b3n, false],
      [0x362f39017dae8bn, false],
      [0x200d57aa6fdacbn, false],
      [0x35e0a4efa1d275n, false],
      [0x2ced55b026577fn, false],
      [0x260b012010893dn, false],
      [0x2df29cbcd59e9dn, false],
      [0x3f2ac7488bd429n, false],
      [0x3e5cb1711669fbn, false],
      [0x226d8de57a9959n, false],
      [0x3c8de80aaf5835n, false],
      [0x2026a59efb219bn, false],
      [0x39dfa4d13fb231n, false],
      [0x3143d0464b3299n, false],
    ];
    for (const [p, irreducible] of cases) expect(isIrreducible(p), p.toString(16)).toBe(irreducible);
    // Small cases worked by hand: x²+x+1 is irreducible, x²+1 = (x+1)², x⁴+x+1 is, x⁴+x²+1 is not.
    expect(isIrreducible(0b111n)).toBe(true);
    expect(isIrreducible(0b101n)).toBe(false);
    expect(isIrreducible(0b10011n)).toBe(true);
    expect(isIrreducible(0b10101n)).toBe(false);
  });
});

describe('tables', () => {
  // restic's definition: appendByte(h, b) = ((h << 8) | b) mod P.
  const appendByte = (h: bigint, b: number, p: bigint): bigint => mod((h << 8n) | BigInt(b), p);

  it('out[b] is the fingerprint of b followed by 63 zero bytes; mod[t] cancels t·x^53', () => {
    const { out, mod: modT } = rabinTables(TEST_POL);
    expect(out).toHaveLength(256);
    expect(modT).toHaveLength(256);
    for (const b of [0, 1, 2, 0x55, 0x80, 0xff]) {
      let h = appendByte(0n, b, TEST_POL);
      for (let i = 0; i < 63; i++) h = appendByte(h, 0, TEST_POL);
      expect(out[b]).toBe(h);
    }
    for (let t = 0; t < 256; t++) {
      const m = modT[t]!;
      expect(m >> 53n).toBe(BigInt(t));
      expect(m & ((1n << 53n) - 1n)).toBe(mod(BigInt(t) << 53n, TEST_POL));
      expect(out[t]! < 1n << 53n).toBe(true);
    }
    expect(out[0]).toBe(0n);
    expect(modT[0]).toBe(0n);
    // mod[1] is x^53 mod P, i.e. P without its top bit, plus the cancelling bit 53.
    expect(modT[1]).toBe(TEST_POL);
  });
});

describe('restic/chunker chunks2: runs of zeros', () => {
  it('cuts 4 × MinSize zero bytes into four MinSize chunks with the upstream digest', async () => {
    const got = await chunks(new Uint8Array(4 * RABIN_MIN_SIZE));
    expect(got).toHaveLength(4);
    for (const c of got) {
      expect(c.length).toBe(524288);
      expect(c.sha).toBe('07854d2fef297a06ba81685e660c332de36d5d18d546927d30daad6d7fda1541');
    }
  });

  it('cuts zeros at exactly 524288 for any polynomial, the remainder last', async () => {
    const got = await chunks(new Uint8Array(3 * RABIN_MIN_SIZE + 1000), 0x2482734cacca49n);
    expect(got.map((c) => c.length)).toEqual([524288, 524288, 524288, 1000]);
    expect(got[0]!.sha.startsWith('07854d2f')).toBe(true);
    expect(got[0]!.sha.endsWith('1541')).toBe(true);
  });
});

describe('createRabinChunker', () => {
  it("has restic's defaults", () => {
    const c = createRabinChunker(TEST_POL);
    expect(c.algorithm).toBe('rabin');
    expect(c.minSize).toBe(524288);
    expect(c.maxSize).toBe(8388608);
    expect(c.lookahead).toBe(RABIN_MAX_SIZE);
  });

  it('gives no chunk for empty input and one chunk for input shorter than MinSize', async () => {
    expect(await chunks(new Uint8Array(0))).toEqual([]);
    const one = new Uint8Array([42]);
    expect(await chunks(one)).toEqual([{ length: 1, sha: sha256(one) }]);
    const small = pseudoRandomBytes(RABIN_MIN_SIZE, 7);
    expect((await chunks(small)).map((c) => c.length)).toEqual([RABIN_MIN_SIZE]);
  });

  it('cuts a constant run that never matches the split mask at exactly MaxSize', async () => {
    // The fingerprint only depends on the last 64 bytes, so a constant run has a constant digest;
    // for TEST_POL and 0x61 its low 20 bits are not zero (asserted by the result).
    const data = new Uint8Array(2 * RABIN_MAX_SIZE + 12345).fill(0x61);
    const got = await chunks(data);
    expect(got.map((c) => c.length)).toEqual([RABIN_MAX_SIZE, RABIN_MAX_SIZE, 12345]);
  });

  it('finds content-defined boundaries in random data, all within [MinSize, MaxSize]', async () => {
    const data = pseudoRandomBytes(12 << 20, 1);
    const b = await chunkBoundaries(createRabinChunker(TEST_POL), data);
    expect(b.length).toBeGreaterThan(3);
    let pos = 0;
    for (const [i, [offset, length]] of b.entries()) {
      expect(offset).toBe(pos);
      if (i < b.length - 1) {
        expect(length).toBeGreaterThanOrEqual(RABIN_MIN_SIZE);
        expect(length).toBeLessThanOrEqual(RABIN_MAX_SIZE);
      }
      pos += length;
    }
    expect(pos).toBe(data.length);
    // A different polynomial cuts elsewhere (restic's TestChunkerWithRandomPolynomial idea).
    const other = await chunkBoundaries(createRabinChunker(0x2482734cacca49n), data);
    expect(other[0]![1]).not.toBe(b[0]![1]);
  });

  it('reuses its workspace and grows it on demand', () => {
    const c = createRabinChunker(TEST_POL);
    const a = c.workspace(1000);
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a.length).toBeGreaterThanOrEqual(1000);
    expect(c.workspace(500)).toBe(a);
    const b = c.workspace(a.length + 1);
    expect(b.length).toBeGreaterThan(a.length);
  });

  it('refuses to cut without a full lookahead before end of input', () => {
    const c = createRabinChunker(TEST_POL, { minSize: 64, maxSize: 1024 });
    const buf = c.workspace(4096);
    expect(() => c.cut(buf, 0, 1000, false)).toThrow();
    expect(c.cut(buf, 0, 1000, true)).toBeGreaterThan(0);
  });

  it('rejects bad parameters with ERR_CHUNKER_PARAMS', () => {
    expectCode(() => createRabinChunker(0x3af4b284899n), 'ERR_CHUNKER_PARAMS');
    expectCode(() => createRabinChunker(TEST_POL, { minSize: 63 }), 'ERR_CHUNKER_PARAMS');
    expectCode(() => createRabinChunker(TEST_POL, { minSize: 4096, maxSize: 4095 }), 'ERR_CHUNKER_PARAMS');
    expectCode(() => createRabinChunker(TEST_POL, { minSize: 1.5 }), 'ERR_CHUNKER_PARAMS');
    expectCode(() => createRabinChunker(TEST_POL, { averageBits: 0 }), 'ERR_CHUNKER_PARAMS');
    expectCode(() => createRabinChunker(TEST_POL, { averageBits: 33 }), 'ERR_CHUNKER_PARAMS');
  });
});

describe('choosing and storing the polynomial', () => {
  /** A random source that replays the given little-endian u64 values. */
  function replay(values: bigint[]): { source: (n: number) => Uint8Array; calls: () => number } {
    let i = 0;
    return {
      source: (n: number) => {
        expect(n).toBe(8);
        const v = values[Math.min(i++, values.length - 1)]!;
        const b = new Uint8Array(8);
        for (let j = 0; j < 8; j++) b[j] = Number((v >> BigInt(8 * j)) & 0xffn);
        return b;
      },
      calls: () => i,
    };
  }

  it('reads a little-endian u64, keeps 54 bits, sets bits 53 and 0, and retries until irreducible', () => {
    // High bits above 53 are dropped; bit 53 and bit 0 are forced on.
    const r1 = replay([0xffc0000000000000n | TEST_POL]);
    expect(randomPolynomial(r1.source)).toBe(TEST_POL);
    const r2 = replay([TEST_POL & ~((1n << 53n) | 1n)]);
    expect(randomPolynomial(r2.source)).toBe(TEST_POL);
    // Reducible candidates are skipped.
    const r3 = replay([0x38f1e565e288dfn, 0x30a8295b9d5c91n, 0x2482734cacca49n]);
    expect(randomPolynomial(r3.source)).toBe(0x2482734cacca49n);
    expect(r3.calls()).toBe(3);
  });

  it('gives up with a CairnError when the source never yields an irreducible polynomial', () => {
    const r = replay([0x38f1e565e288dfn]);
    expectCode(() => randomPolynomial(r.source, 1000), 'ERR_INTERNAL');
    expect(r.calls()).toBe(1000);
  });

  it('draws degree-53 irreducible polynomials from the CSPRNG, stored as 14 hex digits', () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 3; i++) {
      const p = randomPolynomial();
      expect(degree(p)).toBe(53);
      expect(isIrreducible(p)).toBe(true);
      expect(formatPolynomial(p)).toMatch(/^[23][0-9a-f]{13}$/);
      expect(parsePolynomial(formatPolynomial(p))).toBe(p);
      seen.add(p);
    }
    expect(seen.size).toBe(3);
  });

  it('parses and validates the config form', () => {
    expect(parsePolynomial('3da3358b4dc173')).toBe(TEST_POL);
    expect(parsePolynomial('3DA3358B4DC173')).toBe(TEST_POL);
    expect(formatPolynomial(TEST_POL)).toBe('3da3358b4dc173');
    expect(validatePolynomial(0x2482734cacca49n)).toBe(0x2482734cacca49n);
    for (const bad of ['', '0x3da3358b4dc173', '3da3358b4dc17g', ' 3da3358b4dc173', '3af4b284899', '38f1e565e288df', '1'.repeat(17)]) {
      expectCode(() => parsePolynomial(bad), 'ERR_CHUNKER_PARAMS');
    }
  });
});
