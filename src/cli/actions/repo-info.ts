/**
 * `cairn repo info`: the repository's format, chunker, file counts, blobs and sizes.
 */
import { redactLocation, repositoryInfo, type RepositoryInfo } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printLockWarning } from '../output.js';
import { resolveRepository } from '../password.js';
import { withRepo } from '../repository.js';
import { formatBytes } from '../restic-format.js';

/** The JSON object (field names of `stats --mode raw-data` for the same quantities). */
export function repoInfoJson(location: string, i: RepositoryInfo): Record<string, unknown> {
  return {
    message_type: 'repository_info',
    repository: location,
    id: i.id,
    version: i.version,
    chunker: i.chunker,
    chunker_polynomial: i.chunkerPolynomial,
    keys: i.keys,
    snapshots: i.snapshots,
    index_files: i.indexFiles,
    packs: i.packs,
    pack_bytes: i.packBytes,
    indexed_packs: i.indexedPacks,
    data_blobs: i.dataBlobs,
    tree_blobs: i.treeBlobs,
    total_blob_count: i.dataBlobs + i.treeBlobs,
    total_size: i.blobStoredSize,
    total_uncompressed_size: i.blobUncompressedSize,
    ...(i.compressionRatio !== undefined ? { compression_ratio: i.compressionRatio } : {}),
    ...(i.compressionProgress !== undefined ? { compression_progress: i.compressionProgress } : {}),
    ...(i.compressionSpaceSaving !== undefined ? { compression_space_saving: i.compressionSpaceSaving } : {}),
  };
}

function chunkerText(i: RepositoryInfo): string {
  const c = i.chunker;
  if (c.algorithm === 'rabin') return `rabin (restic's), polynomial 0x${i.chunkerPolynomial}`;
  const kib = (n: number): string => (n % (1 << 20) === 0 ? `${n >> 20} MiB` : n % 1024 === 0 ? `${n >> 10} KiB` : `${n} B`);
  return `fastcdc (keyed), min ${kib(c.min)}, avg ${kib(c.avg)}, max ${kib(c.max)}, normalization ${c.normalization}`;
}

/** The text report. */
export function repoInfoText(location: string, i: RepositoryInfo): string {
  const row = (label: string, value: string): string => `  ${(label + ':').padEnd(19)}${value}`;
  const lines = [
    `repository ${i.id.slice(0, 10)} at ${location}`,
    row('id', i.id),
    row('format version', `${i.version}${i.version === 2 ? ' (compression)' : ' (no compression)'}`),
    row('chunker', chunkerText(i)),
    row('keys', String(i.keys)),
    row('snapshots', String(i.snapshots)),
    row('index files', String(i.indexFiles)),
    row('packs', `${i.packs} (${formatBytes(i.packBytes)})${i.indexedPacks !== i.packs ? `, ${i.indexedPacks} in the index` : ''}`),
    row('blobs', `${i.dataBlobs} data, ${i.treeBlobs} tree`),
    row('stored size', `${formatBytes(i.blobStoredSize)} (blobs as stored: compressed, encrypted)`),
    row('uncompressed size', formatBytes(i.blobUncompressedSize)),
  ];
  const c: string[] = [];
  if (i.compressionRatio !== undefined) c.push(`ratio ${i.compressionRatio.toFixed(2)}x`);
  if (i.compressionProgress !== undefined) c.push(`${i.compressionProgress.toFixed(2)}% compressed`);
  if (i.compressionSpaceSaving !== undefined) c.push(`space saving ${i.compressionSpaceSaving.toFixed(2)}%`);
  lines.push(row('compression', c.length > 0 ? c.join(', ') : 'none'));
  return lines.join('\n') + '\n';
}

/** The action of `cairn repo info` (its options: ../commands/repo-info.ts). */
export async function repoInfoAction(ctx: CommandContext): Promise<void> {
  const g = ctx.globals();
  const location = redactLocation(resolveRepository(g, ctx.io));
  await withRepo(ctx, async (repo) => {
    const info = await repositoryInfo(repo, { onLockWarning: (w) => printLockWarning(ctx, w) });
    if (g.json) printJson(ctx, repoInfoJson(location, info));
    else ctx.io.stdout.write(repoInfoText(location, info));
  });
}
