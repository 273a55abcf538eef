/**
 * `cairn ls SNAPSHOT [PATH]`: list what a snapshot holds, recursively, as restic's `ls` does.
 */
import { findNode, formatTime, loadTree, snapshotJson, type Node, type Repository, type TreeId } from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { printJson, printText } from '../output.js';
import { withRepo } from '../repository.js';
import { filterFrom } from './snapshots.js';

const TYPE_CHAR: Record<Node['type'], string> = { file: '-', dir: 'd', symlink: 'L', dev: 'D', chardev: 'c', fifo: 'p', socket: 'S' };

/** "drwxr-xr-x" from a Go FileMode, as restic's `ls --json` `permissions`. */
export function permissionString(node: Node): string {
  const m = node.mode ?? 0;
  const rwx = (shift: number, special: number, ch: string): string =>
    ((m >> (shift + 2)) & 1 ? 'r' : '-') + ((m >> (shift + 1)) & 1 ? 'w' : '-') +
    (m & special ? ((m >> shift) & 1 ? ch : ch.toUpperCase()) : (m >> shift) & 1 ? 'x' : '-');
  return TYPE_CHAR[node.type] + rwx(6, 1 << 23, 's') + rwx(3, 1 << 22, 's') + rwx(0, 1 << 20, 't');
}

function nodeName(n: Node): string {
  return Buffer.from(n.name).toString('utf8');
}

async function* walk(repo: Repository, tree: TreeId, prefix: string): AsyncGenerator<{ path: string; node: Node }> {
  for (const node of await loadTree(repo, tree)) {
    const path = `${prefix}/${nodeName(node)}`;
    yield { path, node };
    if (node.type === 'dir' && node.subtree !== undefined) yield* walk(repo, node.subtree, path);
  }
}

/** A node as restic 0.14's `ls --json` prints it. */
function nodeJson(path: string, n: Node): Record<string, unknown> {
  return {
    name: nodeName(n),
    type: n.type,
    path,
    uid: n.uid,
    gid: n.gid,
    ...(n.type === 'file' ? { size: n.size ?? 0 } : {}),
    mode: n.mode ?? 0,
    permissions: permissionString(n),
    mtime: formatTime(n.mtime),
    atime: formatTime(n.atime),
    ctime: formatTime(n.ctime),
    struct_type: 'node',
  };
}

/** The action of `cairn ls` (its options: ../commands/ls.ts). */
export async function lsAction(ctx: CommandContext, ref: string, path: string | undefined, opts: { long?: boolean; host: string[]; tag: string[]; path: string[] }): Promise<void> {
  const g = ctx.globals();
  await withRepo(ctx, async (repo) => {
    const entry = await repo.findSnapshot(ref, filterFrom(opts));
    await repo.loadIndex();
    let start = entry.snapshot.tree;
    let prefix = '';
    if (path !== undefined) {
      const node = await findNode(repo, start, path);
      if (node !== undefined) {
        if (node.type !== 'dir' || node.subtree === undefined) {
          // A file: list just it.
          const p = '/' + path.split('/').filter((x) => x.length > 0).join('/');
          if (g.json) printJson(ctx, nodeJson(p, node));
          else printText(ctx, p);
          return;
        }
        start = node.subtree;
        prefix = '/' + path.split('/').filter((x) => x.length > 0).join('/');
      }
    }
    if (g.json) printJson(ctx, { ...snapshotJson(entry.id, entry.snapshot), struct_type: 'snapshot' });
    else printText(ctx, `snapshot ${entry.id.slice(0, 8)} of [${entry.snapshot.paths.join(' ')}] at ${tableTime(entry.snapshot.time)}:`);
    for await (const { path: p, node } of walk(repo, start, prefix)) {
      if (g.json) printJson(ctx, nodeJson(p, node));
      else if (opts.long) printText(ctx, `${permissionString(node)} ${String(node.uid).padStart(5)} ${String(node.gid).padStart(5)} ${String(node.size ?? 0).padStart(12)} ${tableTime(node.mtime)} ${p}`);
      else printText(ctx, p);
    }
  });
}
