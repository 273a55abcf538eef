/**
 * `cairn chunk FILE`: a diagnostic that splits a file (or `-` for stdin) into content-defined
 * chunks and prints them: one JSON object per chunk with --json, otherwise a table and a size
 * histogram. Without size options it uses the repository defaults (fastcdc 512 KiB / 1 MiB /
 * 8 MiB, normalization 2, the public gear table).
 */
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import type { ChunkOptions } from '../actions/chunk.js';

export function registerChunk(program: Command, ctx: CommandContext): void {
  program
    .command('chunk')
    .description('split a file into content-defined chunks and print their offsets and lengths (a diagnostic)')
    .argument('<file>', 'the file to split, or - for standard input')
    .option('--algorithm <name>', 'fastcdc or rabin (restic)', 'fastcdc')
    .option('--min <size>', 'smallest chunk (e.g. 512K); default 512 KiB')
    .option('--avg <size>', 'average (normal) chunk size; default 1 MiB')
    .option('--max <size>', 'largest chunk; default 8 MiB')
    .option('--normalization <level>', 'fastcdc normalization level 0-3', '2')
    .option('--seed <u64>', "fastcdc: XOR this seed into the public gear table (fastcdc-rs's seeded variant)")
    .option('--polynomial <hex>', 'rabin: the chunker polynomial (restic stores it in the config); default: random')
    .option('--engine <engine>', 'fastcdc engine: wasm or js (identical boundaries)', 'wasm')
    .option('--workers <n>', 'fastcdc: chunk with this many worker threads (identical boundaries)', '1')
    .addHelpText('after', `
Examples:
  cairn chunk model.safetensors
  cairn chunk --min 4096 --avg 16384 --max 65535 --normalization 1 --json image.jpg
  cairn chunk --algorithm rabin --polynomial 3da3358b4dc173 dump.sql`)
    .action(async (file: string, opts: ChunkOptions) => (await import('../actions/chunk.js')).chunkAction(ctx, file, opts));
}
