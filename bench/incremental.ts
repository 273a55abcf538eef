/**
 * Incremental snapshots: a first snapshot of a tree of ~50,000 small files, then a second one of
 * the unchanged tree (the parent's content lists are reused: no file is read). Reports both
 * durations and their ratio (goal: the second ≤ 20% of the first), median of a few rounds, each
 * round in a fresh repository.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initRepository, snapshot } from '../src/index.js';
import { median } from './chunker.js';

export interface IncrementalResult {
  files: number;
  firstSeconds: number;
  secondSeconds: number;
  ratio: number;
  rounds: number[];
}

export async function incrementalBench(options: { files: number; rounds: number; log: (s: string) => void }): Promise<IncrementalResult> {
  const root = await mkdtemp(join(tmpdir(), 'cairn-incr-'));
  try {
    const src = join(root, 'src');
    const perDir = 200;
    for (let d = 0; d * perDir < options.files; d++) {
      const dir = join(src, `d${Math.floor(d / 20)}`, `e${d}`);
      await mkdir(dir, { recursive: true });
      await Promise.all(Array.from({ length: Math.min(perDir, options.files - d * perDir) }, (_, f) => writeFile(join(dir, `f${f}.txt`), `file ${d}/${f} `.repeat(1 + ((d * 31 + f * 17) % 300)))));
    }
    const firsts: number[] = [];
    const seconds: number[] = [];
    for (let r = 0; r < options.rounds; r++) {
      const repo = await initRepository(join(root, `repo${r}`), { password: 'bench', kdf: { N: 1024, r: 8, p: 1 } });
      let t = performance.now();
      const a = await snapshot(repo, [src]);
      firsts.push((performance.now() - t) / 1000);
      t = performance.now();
      const b = await snapshot(repo, [src]);
      seconds.push((performance.now() - t) / 1000);
      await repo.close();
      if (b.files_unmodified !== a.files_new) throw new Error(`second snapshot read files: ${JSON.stringify(b)}`);
      options.log(`  round ${r + 1}: first ${firsts[r]!.toFixed(2)} s, second ${seconds[r]!.toFixed(2)} s`);
    }
    const first = median(firsts);
    const second = median(seconds);
    return { files: options.files, firstSeconds: first, secondSeconds: second, ratio: second / first, rounds: seconds.map((s, i) => s / firsts[i]!) };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
