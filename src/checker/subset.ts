/**
 * Which packs `check --read-data-subset` reads, with restic 0.14's semantics:
 *
 * - `n/t` (1 ≤ n ≤ t ≤ 256): the packs whose ID's first byte modulo t is n − 1. The groups
 *   1/t … t/t split the packs into t disjoint parts that together cover every pack, and a group
 *   is the same set on every run (so `n/t` for n = 1…t over t runs reads everything once).
 * - `P%` (0 < P ≤ 100, decimals allowed): ⌊count × P / 100⌋ packs drawn at random, at least one
 *   when there is any pack.
 * - `SIZE` (whole bytes, or with a suffix b/B, k/K, m/M, g/G, t/T — binary, as restic): the same as the
 *   percentage SIZE / (total bytes of all packs), so about SIZE bytes of packs, at random.
 */
import { CairnError } from '../errors.js';
import type { PackId } from '../model/index.js';
import { parseSize } from '../util/index.js';

export type ReadDataSelection =
  | { readonly kind: 'all' }
  | { readonly kind: 'group'; readonly n: number; readonly t: number }
  | { readonly kind: 'percent'; readonly percent: number }
  | { readonly kind: 'size'; readonly bytes: number };

/** restic's largest t in `n/t`: groups are decided by the ID's first byte. */
export const MAX_SUBSET_GROUPS = 256;

/** Parses a `--read-data-subset` value; ERR_INVALID_ARGUMENT when it is none of the three forms. */
export function parseReadDataSubset(text: string): ReadDataSelection {
  const bad = (why: string): CairnError =>
    new CairnError('ERR_INVALID_ARGUMENT', `--read-data-subset ${JSON.stringify(text)}: ${why}; use n/t (e.g. 2/5), a percentage (e.g. 10% or 2.5%) or a size (e.g. 500M)`, { data: { value: text } });
  const group = /^(\d+)\/(\d+)$/.exec(text);
  if (group !== null) {
    const n = Number(group[1]);
    const t = Number(group[2]);
    if (n < 1 || t < 1 || n > t) throw bad('n and t must be positive whole numbers with n ≤ t');
    if (t > MAX_SUBSET_GROUPS) throw bad(`t must be at most ${MAX_SUBSET_GROUPS}`);
    return { kind: 'group', n, t };
  }
  if (text.includes('/')) throw bad('not of the form n/t');
  if (text.endsWith('%')) {
    const body = text.slice(0, -1);
    const percent = /^\d+(\.\d+)?$|^\.\d+$/.test(body) ? Number(body) : NaN;
    if (!Number.isFinite(percent)) throw bad('not a number before %');
    if (percent <= 0 || percent > 100) throw bad('the percentage must be above 0 and at most 100');
    return { kind: 'percent', percent };
  }
  if (!/^\d+[bBkKmMgGtT]?$/.test(text)) throw bad('not a size');
  const bytes = parseSize(text, '--read-data-subset');
  if (bytes <= 0) throw bad('the size must be above 0');
  return { kind: 'size', bytes };
}

/**
 * The packs to read. `packs` maps each pack to its size; `random` returns numbers in [0, 1)
 * (Math.random by default; tests pass a seeded one).
 */
export function selectPacks(packs: ReadonlyMap<PackId, number>, selection: ReadDataSelection, random: () => number = Math.random): PackId[] {
  const all = [...packs.keys()];
  switch (selection.kind) {
    case 'all':
      return all;
    case 'group':
      return all.filter((id) => parseInt(id.slice(0, 2), 16) % selection.t === selection.n - 1);
    case 'percent':
      return randomPacks(all, selection.percent, random);
    case 'size': {
      let total = 0;
      for (const s of packs.values()) total += s;
      if (total === 0) return [];
      return randomPacks(all, (Math.min(selection.bytes, total) / total) * 100, random);
    }
  }
}

function randomPacks(all: PackId[], percent: number, random: () => number): PackId[] {
  let count = Math.floor(all.length * (percent / 100));
  if (all.length > 0 && count < 1) count = 1;
  // Partial Fisher-Yates shuffle: the first `count` places get a uniform random choice.
  const a = [...all];
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (a.length - i));
    const tmp = a[i]!;
    a[i] = a[j]!;
    a[j] = tmp;
  }
  return a.slice(0, count);
}
