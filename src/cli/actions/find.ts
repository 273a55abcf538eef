/**
 * `cairn find PATTERN...`: which snapshots hold entries matching the patterns, as restic's
 * `find` prints them (text, `--long`, and restic's --json array).
 */
import { findInSnapshots, formatTime, type FindMatch, type Node, type SnapshotEntry } from '../../index.js';
import type { CommandContext } from '../context.js';
import { tableTime } from '../format.js';
import { printLockWarning, printText, toJsonLine } from '../output.js';
import { withRepo } from '../repository.js';
import { unreadableSnapshots } from '../restic-format.js';
import { permissionString } from './ls.js';
import { filterFrom } from './snapshots.js';

export interface FindFlags {
  ignoreCase?: boolean;
  long?: boolean;
  snapshot: string[];
  host: string[];
  tag: string[];
  path: string[];
}

const decoder = new TextDecoder();

/** A match as restic 0.14's `find --json` prints it: path, permissions, then the node's fields but name, inode, xattrs, device, content and subtree. */
function matchJson(path: string, n: Node): Record<string, unknown> {
  return {
    path,
    permissions: permissionString(n),
    type: n.type,
    ...(n.mode ? { mode: n.mode } : {}),
    mtime: formatTime(n.mtime),
    atime: formatTime(n.atime),
    ctime: formatTime(n.ctime),
    uid: n.uid,
    gid: n.gid,
    ...(n.user ? { user: n.user } : {}),
    ...(n.group ? { group: n.group } : {}),
    ...(n.deviceId ? { device_id: n.deviceId } : {}),
    ...(n.size ? { size: n.size } : {}),
    ...(n.links ? { links: n.links } : {}),
    ...(n.linktarget !== undefined && n.linktarget.length > 0 ? { linktarget: decoder.decode(n.linktarget) } : {}),
    ...(n.error ? { error: n.error } : {}),
  };
}

/** restic's long format: mode, uid, gid, size, local mtime, path (and a symlink's target). */
function longLine(path: string, n: Node): string {
  const target = n.type === 'symlink' && n.linktarget !== undefined ? ` -> ${decoder.decode(n.linktarget)}` : '';
  return `${permissionString(n)} ${String(n.uid).padStart(5)} ${String(n.gid).padStart(5)} ${String(n.size ?? 0).padStart(6)} ${tableTime(n.mtime)} ${path}${target}`;
}

/** The action of `cairn find` (its options: ../commands/find.ts). */
export async function findAction(ctx: CommandContext, patterns: string[], opts: FindFlags): Promise<void> {
  const g = ctx.globals();
  const out = ctx.io.stdout;
  await withRepo(ctx, async (repo) => {
    const unreadable = unreadableSnapshots(ctx, 'find');
    let current: SnapshotEntry | undefined;
    /** --json: the matches of the current snapshot, printed as one object when it ends. */
    let pending: Record<string, unknown>[] = [];
    let printedObjects = 0;
    const flush = (): void => {
      if (!g.json || current === undefined || pending.length === 0) return;
      out.write(`${printedObjects > 0 ? ',' : '['}${toJsonLine({ matches: pending, hits: pending.length, snapshot: current.id })}`);
      printedObjects++;
      pending = [];
    };
    const onMatch = (m: FindMatch): void => {
      if (m.snapshot !== current) {
        flush();
        if (!g.json) printText(ctx, `${current === undefined ? '' : '\n'}Found matching entries in snapshot ${m.snapshot.id.slice(0, 8)} from ${tableTime(m.snapshot.snapshot.time)}`);
        current = m.snapshot;
      }
      if (g.json) pending.push(matchJson(m.path, m.node));
      else out.write(`${opts.long === true ? longLine(m.path, m.node) : m.path}\n`);
    };
    let done = false;
    try {
      await findInSnapshots(repo, {
        patterns,
        ignoreCase: opts.ignoreCase === true,
        ...(opts.snapshot.length > 0 ? { snapshots: opts.snapshot } : {}),
        filter: filterFrom(opts),
        onUnreadable: unreadable.onUnreadable,
        onMatch,
        signal: ctx.io.signal,
        onLockWarning: (w) => printLockWarning(ctx, w),
      });
      done = true;
    } finally {
      // The array is closed when the search completed, or when a failure came after matches
      // were printed (stdout stays valid JSON; the error follows on stderr).
      flush();
      if (g.json && (done || printedObjects > 0)) out.write(printedObjects > 0 ? ']\n' : '[]\n');
    }
    unreadable.finish();
  });
}
