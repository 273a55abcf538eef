/**
 * `cairn check [--read-data | --read-data-subset n/t|P%|SIZE]`: look for errors in the repository
 * (spec/check.md). Errors go to stderr as they are found (with --json, one
 * `{"message_type":"error",…}` line each); the summary goes to stdout; any error ends the command
 * with ERR_CHECK_FAILED (exit 1).
 */
import { CairnError, checkRepository, formatSize, parseReadDataSubset, type CheckPhase, type CheckProblem, type ReadDataSelection } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText, toJsonLine } from '../output.js';
import { withStatus } from '../progress.js';
import { withRepo } from '../repository.js';

export interface CheckFlags {
  readData?: boolean;
  readDataSubset?: string;
}

function phaseText(p: CheckPhase): string {
  switch (p.phase) {
    case 'index':
      return 'load indexes';
    case 'packs':
      return 'check all packs';
    case 'structure':
      return 'check snapshots, trees and blobs';
    case 'read-data': {
      const s = p.selection;
      const size = `${p.selected} packs, ${formatSize(p.bytes)}`;
      if (s.kind === 'all') return `read all data (${size})`;
      if (s.kind === 'group') return `read group #${s.n} of ${s.t}: ${p.selected} of ${p.total} packs (${formatSize(p.bytes)})`;
      if (s.kind === 'percent') return `read ${s.percent}% of data packs: ${size}`;
      return `read about ${formatSize(s.bytes)} of data packs: ${size}`;
    }
  }
}

/** The JSON error line of a problem: restic's `{"message_type":"error","message":…}` plus cairn's fields. */
function problemJson(p: CheckProblem): Record<string, unknown> {
  return { message_type: 'error', message: p.message, kind: p.kind, code: p.code, ...Object.fromEntries(Object.entries(p).filter(([k]) => !['kind', 'code', 'message'].includes(k))) };
}

/** The action of `cairn check` (its options: ../commands/check.ts). */
export async function checkAction(ctx: CommandContext, opts: CheckFlags): Promise<void> {
  const g = ctx.globals();
  if (opts.readData === true && opts.readDataSubset !== undefined) {
    throw new CairnError('ERR_USAGE', '--read-data and --read-data-subset exclude each other (--read-data reads everything)');
  }
  let readData: ReadDataSelection | undefined;
  if (opts.readData === true) readData = { kind: 'all' };
  else if (opts.readDataSubset !== undefined) readData = parseReadDataSubset(opts.readDataSubset);
  await withStatus(ctx, 'check', (ctx, progress, status) => withRepo(ctx, async (repo) => {
    let unreferenced = 0;
    let mixed = false;
    /** Packs whose content is damaged (not merely missing from storage or from the index). */
    const damaged = new Set<string>();
    /** Snapshot files that do not load (`repair snapshots` skips them), and whether anything else is wrong. */
    const badSnapshots: string[] = [];
    let otherErrors = false;
    const summary = await checkRepository(repo, {
      ...(readData !== undefined ? { readData } : {}),
      signal: ctx.io.signal,
      ...(progress !== undefined ? { progress } : {}),
      onLockWarning: (w) => ctx.io.stderr.write(`warning: ${w.message}\n`),
      onPhase: (p) => {
        if (!g.json) printText(ctx, phaseText(p));
      },
      onProblem: (p) => {
        if (p.pack !== undefined && (['pack-size', 'pack-id', 'blob-damaged'].includes(p.kind) || (p.kind === 'pack-header' && p.blob === undefined))) damaged.add(p.pack);
        if (p.kind === 'snapshot' && p.snapshot !== undefined) badSnapshots.push(p.snapshot);
        else otherErrors = true;
        ctx.io.stderr.write(g.json ? toJsonLine(problemJson(p)) + '\n' : `error: ${p.message}\n`);
      },
      onHint: (h) => {
        if (g.json) return;
        if (h.kind === 'unreferenced-pack') {
          unreferenced++;
          if (g.verbose > 0) printText(ctx, h.message);
        } else {
          if (h.kind === 'mixed-pack') mixed = true;
          printText(ctx, h.message);
        }
      },
    });
    status.finish();
    ctx.recordMetrics({ bytesProcessed: summary.readBytes, errors: summary.errors });
    if (g.json) {
      printJson(ctx, {
        message_type: 'summary',
        num_errors: summary.errors,
        broken_packs: summary.brokenPacks,
        suggest_repair_index: summary.suggestRepairIndex,
        suggest_prune: summary.suggestPrune,
        index_files: summary.indexFiles,
        packs: summary.packs,
        unreferenced_packs: summary.unreferencedPacks,
        snapshots: summary.snapshots,
        trees: summary.trees,
        read_packs: summary.readPacks,
        read_bytes: summary.readBytes,
      });
    } else {
      if (unreferenced > 0) {
        printText(ctx, `${unreferenced} ${unreferenced === 1 ? 'pack was' : 'packs were'} found that no index names (left by an interrupted backup or prune; -v lists them).\nThis is non-critical: \`cairn prune\` removes them, \`cairn repair index\` indexes them again.`);
      }
      if (mixed) printText(ctx, 'Packs mixing tree and data blobs are non-critical; `cairn prune` separates them.');
      if (summary.errors === 0 && summary.suggestRepairIndex && unreferenced === 0) printText(ctx, 'Packs named by several index files are non-critical; `cairn repair index` tidies the index.');
    }
    if (summary.errors > 0) {
      const n = summary.errors;
      const steps: string[] = [];
      if (damaged.size > 0) steps.push(`recover the damaged ${damaged.size === 1 ? 'pack' : 'packs'} from another copy of the repository if there is one, else move ${damaged.size === 1 ? 'it' : 'them'} out of the repository`);
      if (summary.suggestRepairIndex || damaged.size > 0) steps.push('run `cairn repair index` to rebuild the index from the packs that exist');
      if (otherErrors) {
        const repairSnapshots = 'run `cairn repair snapshots` to rewrite the snapshots that refer to lost data (it drops what is lost: see spec/check.md)';
        // Only the index was wrong: rebuilding it may bring everything back, so look again first.
        steps.push(summary.suggestRepairIndex && summary.brokenPacks.length === 0 ? `run \`cairn check\` again: if it still finds errors, ${repairSnapshots}` : repairSnapshots);
      }
      if (badSnapshots.length > 0) {
        const one = badSnapshots.length === 1;
        const it = one ? 'it' : 'them';
        steps.push(`delete the snapshot ${one ? 'file' : 'files'} that cannot be loaded (${badSnapshots.map((id) => `snapshots/${id}`).join(', ')}) by hand, keeping a copy elsewhere if you want to inspect ${it}: \`cairn repair snapshots\` skips ${it}, and no other snapshot depends on ${it}`);
      }
      throw new CairnError('ERR_CHECK_FAILED', `${n} ${n === 1 ? 'error' : 'errors'} found (listed above); to repair: ${steps.join(', then ')}`, {
        data: { errors: n, brokenPacks: summary.brokenPacks },
      });
    }
    if (!g.json) printText(ctx, 'no errors were found');
  }));
}
