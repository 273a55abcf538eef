/**
 * Golden frames from restic 0.14 (klauspost/compress's zstd encoder). A copy of a restic-made
 * fixture repository is upgraded to format v2 the way `restic migrate upgrade_repo_v2` does it (only
 * `config` changes: cairn re-seals it with version 2), then restic backs up text and random files
 * into it, compressing. Every new index and snapshot file (`0x02 || frame`) decodes with
 * `decompressBounded`, and every compressed blob in every pack decodes with `decompress` to exactly
 * its indexed length and its ID's SHA-256. (restic's frames under 256 bytes carry no content size:
 * the known-size path must cope.) Starting from the fixture spares a `restic init` and its ~3 s of
 * scrypt calibration.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { compress, decompress, decompressBounded } from '../../src/compress/index.js';
import { decodeKeyFile, open, seal, unlockKeyFile, type MasterKey } from '../../src/crypto/index.js';
import { FIXTURE_PASSWORD, extractFixtureRepos, type Fixtures } from '../crypto/restic-fixtures.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { runRestic } from '../helpers/restic.js';

const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding;

interface IndexJson {
  packs: Array<{ id: string; blobs: Array<{ id: string; type: string; offset: number; length: number; uncompressed_length?: number }> }>;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const files = (dir: string): string[] => readdirSync(dir).map((n) => join(dir, n));

describe('zstd frames written by restic 0.14', () => {
  let fx: Fixtures;
  let dir: string;
  let master: MasterKey;
  /** Index files and snapshots restic wrote compressed, decrypted (before the 0x02). */
  const compressedFiles = new Map<string, Uint8Array>();

  beforeAll(async () => {
    fx = extractFixtureRepos();
    const fixture = fx.repos.find((r) => r.name === 'repo-same-timestamps')!; // cheap scrypt (N = 128)
    dir = join(fx.root, 'v2');
    cpSync(fixture.dir, dir, { recursive: true });
    master = (await unlockKeyFile(decodeKeyFile([...fixture.keys.values()][0]!), FIXTURE_PASSWORD))!;
    const config = JSON.parse(new TextDecoder().decode(open(master, fixture.config))) as Record<string, unknown>;
    expect(config['version']).toBe(1);
    rmSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config'), seal(master, new TextEncoder().encode(JSON.stringify({ ...config, version: 2 }))));
    const before = new Set([...files(join(dir, 'index')), ...files(join(dir, 'snapshots'))]);

    const src = join(fx.root, 'src');
    mkdirSync(src);
    const line = (i: number): string => `${i}\tsome very compressible text, line after line, <${i % 7}>\n`;
    writeFileSync(join(src, 'text.txt'), Array.from({ length: 50_000 }, (_, i) => line(i)).join(''));
    writeFileSync(join(src, 'random.bin'), pseudoRandomBytes(3_000_000, 9));
    writeFileSync(join(src, 'tiny'), 'x');
    await runRestic(['--repo', dir, '--no-cache', 'backup', '--quiet', 'src'], FIXTURE_PASSWORD, { cwd: fx.root });

    for (const name of [...files(join(dir, 'index')), ...files(join(dir, 'snapshots'))]) {
      if (!before.has(name)) compressedFiles.set(name, open(master, new Uint8Array(readFileSync(name)), name));
    }
  });
  afterAll(() => fx.cleanup());

  it('index and snapshot files are 0x02 || a frame that decompressBounded reads', () => {
    expect(compressedFiles.size).toBeGreaterThanOrEqual(2); // one index, one snapshot
    for (const [name, plain] of compressedFiles) {
      expect(plain[0]).toBe(2);
      const json = JSON.parse(new TextDecoder().decode(decompressBounded(plain.subarray(1), 64 << 20, name))) as object;
      expect(json).toHaveProperty(name.includes('/index/') ? 'packs' : 'tree');
    }
  });

  it('every compressed blob decompresses to its indexed length and ID; cairn’s own frames read back', () => {
    let compressed = 0;
    let withoutContentSize = 0;
    for (const [name, plain] of compressedFiles) {
      if (!name.includes('/index/')) continue;
      const index = JSON.parse(new TextDecoder().decode(decompressBounded(plain.subarray(1), 64 << 20))) as IndexJson;
      for (const pack of index.packs) {
        const bytes = new Uint8Array(readFileSync(join(dir, 'data', pack.id.slice(0, 2), pack.id)));
        for (const blob of pack.blobs) {
          const stored = open(master, bytes.subarray(blob.offset, blob.offset + blob.length), `blob ${blob.id}`);
          const what = `${blob.type} blob ${blob.id}`;
          const content = blob.uncompressed_length === undefined ? stored : decompress(stored, blob.uncompressed_length, what);
          expect(sha256(content)).toBe(blob.id);
          if (blob.uncompressed_length !== undefined) {
            compressed++;
            if (zstd.getFrameContentSize(stored) === null) withoutContentSize++;
            // A wrong length from a damaged index is caught.
            expect(() => decompress(stored, blob.uncompressed_length! + 1, what)).toThrow(/does not decompress/);
            // cairn's encoding of the same content reads back through the same path.
            expect(sha256(decompress(compress(content), content.length))).toBe(blob.id);
          }
        }
      }
    }
    expect(compressed).toBeGreaterThan(2); // data blobs of all three files and the tree blobs
    // restic's encoder leaves the content size out of frames under 256 bytes (here: the 1-byte
    // file), so the known-size path must not depend on it.
    expect(withoutContentSize).toBeGreaterThan(0);
  });
});
