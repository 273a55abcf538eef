/**
 * Incremental snapshots: a first snapshot of a tree of ~50,000 small files, then a second one of
 * the unchanged tree (the parent's content lists are reused: no file is read). Reports both
 * durations and their ratio (goal: the second ≤ 20% of the first), median of a few rounds, each
 * round in a fresh repository. When restic is installed, the same two backups by restic run in
 * the same rounds (alternating with cairn's) as the baseline; its key is made as cheap as
 * cairn's so that neither pays for key derivation.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initRepository, snapshot } from '../src/index.js';
import { cheapenResticKey } from '../test/helpers/cheap-key.js';
import { resticVersion, runRestic } from '../test/helpers/restic.js';
import { median } from './chunker.js';

export interface IncrementalTimes {
  firstSeconds: number;
  secondSeconds: number;
  /** second / first, median over rounds. */
  ratio: number;
}

export interface IncrementalResult {
  files: number;
  cairn: IncrementalTimes;
  restic?: IncrementalTimes & { version: string };
  /** Per round: cairn's time / restic's time, first and second snapshot. */
  versusRestic?: { first: number; second: number };
}

const PASSWORD = 'bench';

async function makeTree(src: string, files: number): Promise<void> {
  const perDir = 200;
  for (let d = 0; d * perDir < files; d++) {
    const dir = join(src, `d${Math.floor(d / 20)}`, `e${d}`);
    await mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: Math.min(perDir, files - d * perDir) }, (_, f) => writeFile(join(dir, `f${f}.txt`), `file ${d}/${f} `.repeat(1 + ((d * 31 + f * 17) % 300)))));
  }
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
}

function summarize(firsts: number[], seconds: number[]): IncrementalTimes {
  return { firstSeconds: median(firsts), secondSeconds: median(seconds), ratio: median(seconds.map((s, i) => s / firsts[i]!)) };
}

export async function incrementalBench(options: { files: number; rounds: number; log: (s: string) => void }): Promise<IncrementalResult> {
  const root = await mkdtemp(join(tmpdir(), 'cairn-incr-'));
  try {
    const src = join(root, 'src');
    await makeTree(src, options.files);
    const version = resticVersion();
    const c = { first: [] as number[], second: [] as number[] };
    const r = { first: [] as number[], second: [] as number[] };
    for (let round = 0; round < options.rounds; round++) {
      const repo = await initRepository(join(root, `cairn${round}`), { password: PASSWORD, kdf: { N: 1024, r: 8, p: 1 } });
      let unmodified = 0;
      c.first.push(await timed(() => snapshot(repo, [src])));
      c.second.push(await timed(async () => void (unmodified = (await snapshot(repo, [src])).files_unmodified)));
      await repo.close();
      if (unmodified !== options.files) throw new Error(`cairn's second snapshot read files: ${unmodified} of ${options.files} unmodified`);
      let line = `  round ${round + 1}: cairn first ${c.first[round]!.toFixed(2)} s, second ${c.second[round]!.toFixed(2)} s`;
      if (version !== undefined) {
        const dir = join(root, `restic${round}`);
        await runRestic(['--repo', dir, 'init'], PASSWORD);
        await cheapenResticKey(dir, PASSWORD);
        const backup = (): Promise<unknown> => runRestic(['--repo', dir, 'backup', '--quiet', src], PASSWORD);
        r.first.push(await timed(backup));
        r.second.push(await timed(backup));
        line += `; restic first ${r.first[round]!.toFixed(2)} s, second ${r.second[round]!.toFixed(2)} s`;
      }
      options.log(line);
    }
    const result: IncrementalResult = { files: options.files, cairn: summarize(c.first, c.second) };
    if (version !== undefined) {
      result.restic = { version: version.split(' ').slice(0, 2).join(' '), ...summarize(r.first, r.second) };
      result.versusRestic = { first: median(c.first.map((x, i) => x / r.first[i]!)), second: median(c.second.map((x, i) => x / r.second[i]!)) };
    }
    return result;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
