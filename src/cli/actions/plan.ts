/**
 * `cairn plan SOURCE|SNAPSHOT [--bandwidth RATE]`, `cairn plan --size SIZE [--rate RATE]`: predict
 * how long a first snapshot and a restore take, from cairn's throughput `cairn bench` measured on
 * this machine (the results file) or a given rate, capped by a stated bandwidth, and print the
 * arithmetic. The arithmetic itself is the library's (src/benchmark/plan.ts); this file gathers
 * the inputs: a size, a directory walked, or a snapshot's size (its summary, else its trees).
 */
import { lstat } from 'node:fs/promises';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import {
  approxDuration, benchResultsPath, benchRates, CairnError, groupDigits, loadBenchResults, loadTree, parsePlanRate, parsePlanSize, predict, sourceTotals,
  type PlanAmount, type PlanRate, type Prediction, type Quantity, type Repository, type TreeId,
} from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText } from '../output.js';
import { resolveRepository } from '../password.js';
import { withRepo } from '../repository.js';

export interface PlanFlags {
  size?: string;
  files?: string;
  rate?: string;
  bandwidth?: string;
}

/** What was measured, and how: the `input` of the JSON output. */
export type PlanInput =
  | { readonly kind: 'size'; readonly size: string; readonly bytes: number; readonly files: number | null }
  | { readonly kind: 'source'; readonly path: string; readonly bytes: number; readonly files: number; readonly dirs: number; readonly unreadable: number }
  | { readonly kind: 'snapshot'; readonly snapshot_id: string; readonly bytes: number; readonly files: number; readonly from: 'summary' | 'tree' };

function wholeCount(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new CairnError('ERR_INVALID_ARGUMENT', `${flag} ${JSON.stringify(text)} is not a whole number of files`, { data: { option: flag, value: text } });
  return n;
}

/** The snapshot's total file bytes and count: from restic's `summary` when it has one, else by walking its trees. */
async function snapshotTotals(repo: Repository, ref: string, signal: AbortSignal): Promise<{ id: string; bytes: number; files: number; from: 'summary' | 'tree' }> {
  const entry = await repo.findSnapshot(ref);
  const raw = entry.snapshot.extra?.['summary'];
  if (raw !== undefined) {
    try {
      const s = JSON.parse(raw) as { total_bytes_processed?: unknown; total_files_processed?: unknown };
      if (Number.isSafeInteger(s.total_bytes_processed) && Number.isSafeInteger(s.total_files_processed)) {
        return { id: entry.id, bytes: s.total_bytes_processed as number, files: s.total_files_processed as number, from: 'summary' };
      }
    } catch {
      // fall through to the trees
    }
  }
  await repo.loadIndex();
  // A subtree stored once but appearing twice is restored twice: memoise by tree ID, count each appearance.
  const memo = new Map<TreeId, { bytes: number; files: number }>();
  const walk = async (tree: TreeId): Promise<{ bytes: number; files: number }> => {
    const known = memo.get(tree);
    if (known !== undefined) return known;
    if (signal.aborted) throw new CairnError('ERR_INTERRUPTED', 'interrupted while measuring the snapshot', {});
    let bytes = 0;
    let files = 0;
    for (const node of await loadTree(repo, tree)) {
      if (node.type === 'file') {
        files++;
        bytes += node.size ?? 0;
      } else if (node.type === 'dir' && node.subtree !== undefined) {
        const sub = await walk(node.subtree);
        bytes += sub.bytes;
        files += sub.files;
      }
    }
    const totals = { bytes, files };
    memo.set(tree, totals);
    return totals;
  };
  const t = await walk(entry.snapshot.tree);
  return { id: entry.id, ...t, from: 'tree' };
}

async function isPath(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** The action of `cairn plan` (its options: ../commands/plan.ts). */
export async function planAction(ctx: CommandContext, target: string | undefined, flags: PlanFlags): Promise<void> {
  const g = ctx.globals();
  if ((target === undefined) === (flags.size === undefined)) {
    throw new CairnError('ERR_USAGE', target === undefined ? 'give a directory, a snapshot or --size' : 'give a directory or snapshot, or --size, not both');
  }
  if (flags.files !== undefined && flags.size === undefined) throw new CairnError('ERR_USAGE', '--files goes with --size (a directory or snapshot counts its own files)');
  // Units first: a mistake there should not wait for a walk.
  const size = flags.size !== undefined ? parsePlanSize(flags.size, '--size') : undefined;
  const files = flags.files !== undefined ? wholeCount(flags.files, '--files') : undefined;
  const given: Quantity | undefined = flags.rate !== undefined ? parsePlanRate(flags.rate, '--rate') : undefined;
  const bandwidth = flags.bandwidth !== undefined ? parsePlanRate(flags.bandwidth, '--bandwidth') : undefined;

  let rates: { snapshot: PlanRate; restore: PlanRate } | undefined;
  let notes: readonly string[] = [];
  let resultsPath: string | null = null;
  if (given === undefined) {
    resultsPath = benchResultsPath(ctx.io.env, ctx.io.cwd);
    const stored = await loadBenchResults(resultsPath);
    const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length };
    const chosen = stored === undefined ? undefined : benchRates(stored.datasets, machine);
    if (chosen === undefined) {
      throw new CairnError('ERR_FILE_READ', `no measured throughput is stored in ${resultsPath}: run \`cairn bench\` on this machine first (add \`--dataset both\` for many small files too), or give --rate`, { data: { path: resultsPath } });
    }
    rates = chosen;
    notes = chosen.notes;
  }

  let input: PlanInput;
  let amount: PlanAmount;
  if (size !== undefined) {
    amount = { bytes: size.value, sizeText: size.text, ...(files !== undefined ? { files } : {}) };
    input = { kind: 'size', size: size.text, bytes: size.value, files: files ?? null };
  } else {
    const path = resolve(ctx.io.cwd, target!);
    let repoGiven = true;
    try {
      resolveRepository(g, ctx.io);
    } catch {
      repoGiven = false;
    }
    if (await isPath(path)) {
      const t = await sourceTotals(path, ctx.io.signal);
      amount = { bytes: t.bytes, files: t.files };
      input = { kind: 'source', path, bytes: t.bytes, files: t.files, dirs: t.dirs, unreadable: t.unreadable };
    } else if (repoGiven) {
      const t = await withRepo(ctx, (repo) => snapshotTotals(repo, target!, ctx.io.signal));
      amount = { bytes: t.bytes, files: t.files };
      input = { kind: 'snapshot', snapshot_id: t.id, bytes: t.bytes, files: t.files, from: t.from };
    } else {
      throw new CairnError('ERR_INVALID_ARGUMENT', `${target} is no file or directory here, and no repository is given to find it as a snapshot in: give an existing directory, or -r/--repo for a snapshot`, { data: { target } });
    }
  }

  const predictions: Prediction[] = given !== undefined
    ? [predict('transfer', amount, { bytesPerSecond: given.value, text: given.text, source: { kind: 'flag', flag: '--rate', text: given.text } }, bandwidth)]
    : [predict('snapshot', amount, rates!.snapshot, bandwidth), predict('restore', amount, rates!.restore, bandwidth)];

  if (g.json) {
    printJson(ctx, {
      message_type: 'plan',
      input,
      rate: given === undefined ? null : { text: given.text, bytes_per_second: given.value },
      bandwidth: bandwidth === undefined ? null : { text: bandwidth.text, bytes_per_second: bandwidth.value },
      bench_results: resultsPath,
      notes,
      predictions: predictions.map(({ arithmetic, ...p }) => ({ ...p, arithmetic })),
    });
    return;
  }
  const lines: string[] = [];
  if (input.kind === 'source') lines.push(`${input.path}: ${groupDigits(input.files)} files, ${groupDigits(input.bytes)} B${input.unreadable > 0 ? ` (${input.unreadable} entries could not be read and are not counted)` : ''}`);
  else if (input.kind === 'snapshot') lines.push(`snapshot ${input.snapshot_id.slice(0, 8)}: ${groupDigits(input.files)} files, ${groupDigits(input.bytes)} B (from its ${input.from === 'summary' ? 'summary' : 'trees'})`);
  for (const n of notes) lines.push(`rates: ${n}`);
  for (const p of predictions) {
    const label = p.operation === 'transfer' ? `at ${given!.text}` : p.operation === 'snapshot' ? 'first snapshot' : 'restore';
    lines.push('', `${label}: ${approxDuration(p.seconds)}${p.limited_by === 'bandwidth' ? ' (limited by the bandwidth)' : ''}`);
    for (const a of p.arithmetic) lines.push(`  ${a}`);
  }
  printText(ctx, lines.join('\n').replace(/^\n/, ''));
}
