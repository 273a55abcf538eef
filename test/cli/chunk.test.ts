/**
 * `cairn chunk`: what a user sees — the fastcdc-rs vectors as JSON lines, a readable table with a
 * histogram, stdin, restic's Rabin with a given polynomial, parallel == serial, and clear errors.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FIXTURES_DIR, pseudoRandomBytes } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { cairn } from './helpers.js';

const IMAGE = join(FIXTURES_DIR, 'SekienAkashita.jpg');
const V2020 = ['--min', '4096', '--avg', '16384', '--max', '65535', '--normalization', '1'];

function lines(out: string): Array<Record<string, unknown>> {
  return out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('cairn chunk', () => {
  it('prints fastcdc-rs v2020 boundaries and hashes as JSON lines', async () => {
    const r = await cairn(['chunk', IMAGE, ...V2020, '--json']);
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([
      { offset: 0, length: 21325, hash: '17968276318003433923' },
      { offset: 21325, length: 17140, hash: '8197189939299398838' },
      { offset: 38465, length: 28084, hash: '13019990849178155730' },
      { offset: 66549, length: 18217, hash: '4509236223063678303' },
      { offset: 84766, length: 24700, hash: '2504464741100432583' },
    ]);
  });

  it('accepts size suffixes, --seed, and --json before the command', async () => {
    const r = await cairn(['--json', 'chunk', '--min', '4K', '--avg', '16K', '--max', '65535', '--normalization', '1', '--seed', '666', IMAGE]);
    expect(r.code).toBe(0);
    expect(lines(r.out).map((c) => c['length'])).toEqual([10605, 55745, 11346, 5883, 11586, 14301]);
  });

  it('uses the repository defaults without size options: one chunk for a small file', async () => {
    const r = await cairn(['chunk', IMAGE, '--json']);
    expect(lines(r.out)).toEqual([{ offset: 0, length: 109466, hash: '0' }]);
  });

  it('prints a table, totals and a size histogram for people', async () => {
    const r = await cairn(['chunk', IMAGE, ...V2020]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('fastcdc (v2020), min 4096, avg 16384, max 65535, normalization 1, public gear table');
    expect(r.out).toMatch(/^\s+38465\s+28084\s+13019990849178155730$/m);
    expect(r.out).toContain('5 chunks, 109466 bytes');
    expect(r.out).toMatch(/16\.00 KiB – 32\.00 KiB\s+5 #+/);
  });

  it('reads standard input with -', async () => {
    const stdin = new PassThrough();
    stdin.end(Buffer.from(pseudoRandomBytes(300_000, 1)));
    const viaStdin = await cairn(['chunk', '-', ...V2020, '--json'], { stdin });
    const dir = tempDir('cairn-chunk-');
    writeFileSync(join(dir, 'f'), pseudoRandomBytes(300_000, 1));
    const viaFile = await cairn(['chunk', 'f', ...V2020, '--json'], { cwd: dir });
    expect(viaStdin.code).toBe(0);
    expect(viaStdin.out).toBe(viaFile.out);
    expect(lines(viaFile.out).length).toBeGreaterThan(5);
  });

  it('chunks with worker threads and the TS engine to the same boundaries', async () => {
    const dir = tempDir('cairn-chunk-');
    writeFileSync(join(dir, 'big'), pseudoRandomBytes(40 << 20, 2));
    const serial = await cairn(['chunk', 'big', '--json'], { cwd: dir });
    const parallel = await cairn(['chunk', 'big', '--json', '--workers', '2'], { cwd: dir });
    const js = await cairn(['chunk', 'big', '--json', '--engine', 'js'], { cwd: dir });
    expect(lines(serial.out).length).toBeGreaterThan(20);
    expect(parallel.out).toBe(serial.out);
    expect(js.out).toBe(serial.out);
  });

  it("cuts with restic's Rabin chunker for a given polynomial (all-zero input: 512 KiB chunks)", async () => {
    const dir = tempDir('cairn-chunk-');
    writeFileSync(join(dir, 'zeros'), new Uint8Array(4 * 524288));
    const r = await cairn(['chunk', 'zeros', '--algorithm', 'rabin', '--polynomial', '3da3358b4dc173', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(lines(r.out)).toEqual([0, 1, 2, 3].map((i) => ({ offset: i * 524288, length: 524288 })));
    const zeroChunk = createHash('sha256').update(new Uint8Array(524288)).digest('hex');
    expect(zeroChunk.startsWith('07854d2f')).toBe(true);
  });

  it('says which random polynomial it used when none is given', async () => {
    const r = await cairn(['chunk', IMAGE, '--algorithm', 'rabin']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/using random polynomial [0-9a-f]{14}; pass --polynomial to reproduce/);
  });

  it('refuses bad parameters with a clear error and exit code 1', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['chunk', IMAGE, '--min', '10'], /min size 10 is outside 64\.\.1048576/],
      [['chunk', IMAGE, '--avg', '2M', '--max', '1M'], /avg size 2097152 is larger than max size 1048576/],
      [['chunk', IMAGE, '--normalization', '4'], /normalization .* from 0 to 3/],
      [['chunk', IMAGE, '--algorithm', 'buzhash'], /--algorithm must be fastcdc or rabin/],
      [['chunk', IMAGE, '--min', 'lots'], /cannot read "lots" as a size/],
      [['chunk', IMAGE, '--algorithm', 'rabin', '--polynomial', '3'], /polynomial/],
      [['chunk', '/nonexistent/file'], /cannot read \/nonexistent\/file/],
    ];
    for (const [argv, message] of cases) {
      const r = await cairn(argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err, argv.join(' ')).toMatch(message);
    }
  });
});
