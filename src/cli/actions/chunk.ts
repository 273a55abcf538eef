/**
 * `cairn chunk FILE`: a diagnostic that splits a file (or `-` for stdin) into content-defined
 * chunks and prints them: one JSON object per chunk with --json, otherwise a table and a size
 * histogram. Without size options it uses the repository defaults (fastcdc 512 KiB / 1 MiB /
 * 8 MiB, normalization 2, the public gear table).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  CairnError, chunkStream, createFastCdc, fastCdcParams, createRabinChunker, formatPolynomial, formatSize, messageOf,
  ParallelChunker, parsePolynomial, parseSize, randomPolynomial, seededGearTable, publicGearTable,
  type ByteSource, type Chunk, type Chunker,
} from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText } from '../output.js';

export interface ChunkOptions {
  algorithm: string;
  min?: string;
  avg?: string;
  max?: string;
  normalization: string;
  seed?: string;
  polynomial?: string;
  engine: string;
  workers: string;
}

function integer(text: string, what: string, lo: number, hi: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${what} must be a whole number from ${lo} to ${hi}, got "${text}"`, { data: { value: text } });
  }
  return n;
}

function parseSeed(text: string): bigint {
  try {
    const v = BigInt(text);
    if (v < 0n || v >= 1n << 64n) throw new RangeError('out of range');
    return v;
  } catch {
    throw new CairnError('ERR_INVALID_ARGUMENT', `--seed must be an unsigned 64-bit integer (decimal or 0x hex), got "${text}"`, { data: { value: text } });
  }
}

function fileSource(file: string, ctx: CommandContext): ByteSource {
  if (file === '-') return ctx.io.stdin as AsyncIterable<Uint8Array>;
  const path = resolve(ctx.io.cwd, file);
  return (async function* read(): AsyncGenerator<Uint8Array> {
    try {
      for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) yield piece as Buffer;
    } catch (e) {
      throw new CairnError('ERR_FILE_READ', `cannot read ${path}: ${messageOf(e)}; check that the file exists and is readable`, { cause: e, data: { path } });
    }
  })();
}

/** Power-of-two size buckets: [lower bound, count]. */
function histogram(lengths: number[]): Array<[number, number]> {
  const buckets = new Map<number, number>();
  for (const len of lengths) {
    const b = 2 ** Math.floor(Math.log2(len));
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]);
}

/** The action of `cairn chunk` (its options: ../commands/chunk.ts). */
export async function chunkAction(ctx: CommandContext, file: string, opts: ChunkOptions): Promise<void> {
  const g = ctx.globals();
  const size = (v: string | undefined, name: string): number | undefined => (v === undefined ? undefined : parseSize(v, `--${name}`));
  const min = size(opts.min, 'min');
  const avg = size(opts.avg, 'avg');
  const max = size(opts.max, 'max');
  const workers = integer(opts.workers, '--workers', 1, 256);
  let chunker: Chunker | undefined;
  let parallel: ParallelChunker | undefined;
  let header: string;
  if (opts.algorithm === 'fastcdc') {
    if (opts.polynomial !== undefined) throw new CairnError('ERR_USAGE', '--polynomial applies to --algorithm rabin only');
    if (opts.engine !== 'wasm' && opts.engine !== 'js') throw new CairnError('ERR_INVALID_ARGUMENT', `--engine must be wasm or js, got "${opts.engine}"`);
    const normalization = integer(opts.normalization, '--normalization', 0, 3);
    const gear = opts.seed === undefined ? publicGearTable() : seededGearTable(parseSeed(opts.seed));
    const fc = { normalization, gear, ...(min === undefined ? {} : { min }), ...(avg === undefined ? {} : { avg }), ...(max === undefined ? {} : { max }) };
    if (workers > 1) parallel = new ParallelChunker({ ...fc, workers });
    else chunker = createFastCdc({ ...fc, engine: opts.engine });
    const p = fastCdcParams(fc);
    header = `fastcdc (v2020), min ${p.min}, avg ${p.avg}, max ${p.max}, normalization ${normalization}, ${gear.kind} gear table`;
  } else if (opts.algorithm === 'rabin') {
    if (opts.seed !== undefined) throw new CairnError('ERR_USAGE', '--seed applies to --algorithm fastcdc only');
    if (workers > 1) throw new CairnError('ERR_USAGE', '--workers applies to --algorithm fastcdc only');
    const pol = opts.polynomial === undefined ? randomPolynomial() : parsePolynomial(opts.polynomial.replace(/^0x/i, ''));
    if (opts.polynomial === undefined) ctx.io.stderr.write(`cairn: using random polynomial ${formatPolynomial(pol)}; pass --polynomial to reproduce\n`);
    const averageBits = avg === undefined ? undefined : Math.round(Math.log2(avg));
    chunker = createRabinChunker(pol, {
      ...(min === undefined ? {} : { minSize: min }),
      ...(max === undefined ? {} : { maxSize: max }),
      ...(averageBits === undefined ? {} : { averageBits }),
    });
    header = `rabin (restic), polynomial ${formatPolynomial(pol)}, min ${chunker.minSize}, max ${chunker.maxSize}`;
  } else {
    throw new CairnError('ERR_INVALID_ARGUMENT', `--algorithm must be fastcdc or rabin, got "${opts.algorithm}"`);
  }

  const fastcdc = opts.algorithm === 'fastcdc';
  const lengths: number[] = [];
  const rows: string[] = [];
  // With workers, a regular file is chunked by regions (each worker reads its own); a pipe or
  // stdin is streamed through the main thread.
  const path = file === '-' ? undefined : resolve(ctx.io.cwd, file);
  const handle = parallel && path !== undefined ? await open(path, 'r').catch(() => undefined) : undefined;
  const regular = handle !== undefined && (await handle.stat()).isFile();
  const chunks: AsyncIterable<Pick<Chunk, 'offset' | 'length' | 'hash'>> = parallel
    ? regular
      ? parallel.boundariesOfFile(handle.fd, { withHash: true, name: path! })
      : parallel.chunks(fileSource(file, ctx), { withHash: true })
    : chunkStream(chunker!, fileSource(file, ctx), { withHash: fastcdc });
  try {
    for await (const c of chunks) {
      if (ctx.io.signal.aborted) throw new CairnError('ERR_INTERRUPTED', `chunking ${file} was interrupted`);
      lengths.push(c.length);
      if (g.json) printJson(ctx, fastcdc ? { offset: c.offset, length: c.length, hash: String(c.hash) } : { offset: c.offset, length: c.length });
      else rows.push(`${String(c.offset).padStart(14)} ${String(c.length).padStart(10)}${fastcdc ? ` ${String(c.hash).padStart(21)}` : ''}`);
    }
  } finally {
    await handle?.close();
    await parallel?.close();
  }
  if (g.json) return;
  const total = lengths.reduce((a, b) => a + b, 0);
  const out = [header, '', `${'offset'.padStart(14)} ${'length'.padStart(10)}${fastcdc ? ` ${'hash'.padStart(21)}` : ''}`, ...rows, ''];
  out.push(`${lengths.length} chunks, ${total} bytes (${formatSize(total)})` + (lengths.length > 0
    ? `; smallest ${Math.min(...lengths)}, mean ${Math.round(total / lengths.length)}, largest ${Math.max(...lengths)}`
    : ''));
  const hist = histogram(lengths);
  const most = Math.max(1, ...hist.map(([, n]) => n));
  for (const [lo, n] of hist) out.push(`  ${`${formatSize(lo)} – ${formatSize(lo * 2)}`.padEnd(24)} ${String(n).padStart(7)} ${'#'.repeat(Math.ceil((n / most) * 40))}`);
  printText(ctx, out.join('\n'));
}
