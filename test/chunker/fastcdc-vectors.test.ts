/**
 * Every vector of ../shared/reference/fastcdc.md §2 (fastcdc-rs's own tests on SekienAkashita.jpg),
 * for both engines and for the BigInt oracle. v2016 rows give boundaries only (fastcdc-rs v2016 and
 * v2020 agree on boundaries for these even sizes); v2020 rows give boundaries and hashes.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkStream, createFastCdc, publicGearTable, seededGearTable, type FastCdcEngine } from '../../src/chunker/index.js';
import { fixture } from '../helpers/fixtures.js';
import { oracleChunks } from './fastcdc-oracle.js';

const image = fixture('SekienAkashita.jpg');

interface Vector {
  name: string;
  min: number;
  avg: number;
  max: number;
  level: number;
  seed?: bigint;
  lengths: number[];
  /** v2020 hashes, when the reference gives them. */
  hashes?: bigint[];
}

const VECTORS: Vector[] = [
  { name: 'v2020 4096/16384/65535', min: 4096, avg: 16384, max: 65535, level: 1,
    lengths: [21325, 17140, 28084, 18217, 24700],
    hashes: [17968276318003433923n, 8197189939299398838n, 13019990849178155730n, 4509236223063678303n, 2504464741100432583n] },
  { name: 'v2020 8192/32768/131072', min: 8192, avg: 32768, max: 131072, level: 1,
    lengths: [66549, 42917], hashes: [15733367461443853673n, 6321136627705800457n] },
  { name: 'v2020 16384/65536/262144', min: 16384, avg: 65536, max: 262144, level: 1,
    lengths: [109466], hashes: [2504464741100432583n] },
  { name: 'v2020 4096/16384/65535 NC0', min: 4096, avg: 16384, max: 65535, level: 0,
    lengths: [6634, 59915, 25597, 5237, 12083],
    hashes: [443122261039895162n, 15733367461443853673n, 10460176299449652894n, 6197802202431009942n, 6321136627705800457n] },
  { name: 'v2016 4096/16384/65535 NC3 (boundaries)', min: 4096, avg: 16384, max: 65535, level: 3,
    lengths: [17350, 19911, 17426, 17519, 19940, 17320] },
  { name: 'v2020 8192/16384/32768 NC3', min: 8192, avg: 16384, max: 32768, level: 3,
    lengths: [17350, 19911, 17426, 17519, 19940, 17320],
    hashes: [10718006254707412376n, 13104072099671895560n, 12322483109039221194n, 16009206469796846404n, 2473608525189754172n, 2504464741100432583n] },
  { name: 'v2020 4096/16384/65535 NC1 seed=666', min: 4096, avg: 16384, max: 65535, level: 1, seed: 666n,
    lengths: [10605, 55745, 11346, 5883, 11586, 14301],
    hashes: [9312357714466240148n, 226910853333574584n, 12271755243986371352n, 14153975939352546047n, 5890158701071314778n, 8981594897574481255n] },
];

const ENGINES: FastCdcEngine[] = ['wasm', 'js'];

async function run(engine: FastCdcEngine, v: Vector, data: Uint8Array, pieces = 1) {
  const gear = v.seed === undefined ? publicGearTable() : seededGearTable(v.seed);
  const chunker = createFastCdc({ min: v.min, avg: v.avg, max: v.max, normalization: v.level, gear, engine });
  const step = Math.ceil(data.length / pieces);
  const parts = Array.from({ length: pieces }, (_, i) => data.subarray(i * step, (i + 1) * step));
  const out: Array<{ length: number; hash: bigint; sha: string }> = [];
  for await (const c of chunkStream(chunker, parts, { withHash: true })) {
    out.push({ length: c.length, hash: c.hash!, sha: createHash('sha256').update(c.data).digest('hex') });
  }
  return out;
}

describe('fastcdc-rs vectors on SekienAkashita.jpg', () => {
  it('the fixture is the reference image', () => {
    expect(createHash('sha256').update(image).digest('hex')).toBe('d9e749d9367fc908876749d6502eb212fee88c9a94892fb07da5ef3ba8bc39ed');
  });

  for (const v of VECTORS) {
    for (const engine of ENGINES) {
      it(`${v.name} [${engine}]`, async () => {
        const got = await run(engine, v, image);
        expect(got.map((c) => c.length)).toEqual(v.lengths);
        if (v.hashes) expect(got.map((c) => c.hash)).toEqual(v.hashes);
      });
    }
    it(`${v.name} [BigInt oracle]`, () => {
      const gear = (v.seed === undefined ? publicGearTable() : seededGearTable(v.seed)).values;
      const got = oracleChunks(image, v.min, v.avg, v.max, v.level, gear);
      expect(got.map((c) => c.length)).toEqual(v.lengths);
      if (v.hashes) expect(got.map((c) => c.hash)).toEqual(v.hashes);
    });
  }

  it('SHA-256 of the five 4096/16384/65535 chunks match the reference digests', async () => {
    const got = await run('wasm', VECTORS[0]!, image, 7);
    expect(got.map((c) => c.sha)).toEqual([
      '695429afe5937d6c75099f6e587267065a64e9dd83596a3d7386df3ef5a792c2',
      '17119f7abc183375afdb652248aad0c7211618d263335cc4e4ffc9a31e719bcb',
      '1545925739c6bfbd6609752a0e6ab61854f14d1fdb9773f08a7f52a13f9362d8',
      'bbd5b0b284d4e3c2098e92e8e2897e738c669113d06472560188d99a288872a3',
      'ede34e1a6cb287766e857eb0ed45b9f4b5ad83bb93c597be880c3a2ac91cddbe',
    ]);
  });

  for (const engine of ENGINES) {
    it(`all-zero 10240 bytes, 64/256/1024: ten 1024-byte chunks, hash 14169102344523991076 [${engine}]`, async () => {
      const got = await run(engine, { name: 'zeros', min: 64, avg: 256, max: 1024, level: 1, lengths: [] }, new Uint8Array(10240), 3);
      expect(got.map((c) => c.length)).toEqual(Array(10).fill(1024));
      expect(new Set(got.map((c) => c.hash))).toEqual(new Set([14169102344523991076n]));
    });
  }

  it('the public gear table is fastcdc-rs GEAR (check values)', () => {
    const g = publicGearTable().values;
    expect(g[0]).toBe(0x3b5d3c7d207e37dcn);
    expect(g[1]).toBe(0x784d68ba91123086n);
    expect(g[255]).toBe(0xaabd2b2a451504e1n);
  });
});
