/**
 * The README's embedding example runs as written: the code block after the marker
 * `<!-- embed-example -->` is copied into a directory inside the checkout (so `import … from
 * 'cairn'` resolves to this package through its `exports`), run with node against a small data
 * directory, and what it restores must equal what it backed up.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { describeTree, diffTrees, makeMixedTree } from './helpers/trees.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('README embedding example', () => {
  it('backs up and restores a directory, as the README says', { timeout: 60_000 }, async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const m = /<!-- embed-example -->\s*```js\n([\s\S]*?)```/.exec(readme);
    expect(m, 'README has an embedding example after <!-- embed-example -->').not.toBeNull();
    const code = m![1]!;
    expect(code.trim().split('\n').length).toBeLessThanOrEqual(12);
    await mkdir(join(ROOT, '.tmp'), { recursive: true });
    const dir = await mkdtemp(join(ROOT, '.tmp', 'readme-'));
    try {
      await makeMixedTree(join(dir, 'data'), { dirs: 2, perDir: 5 });
      await writeFile(join(dir, 'example.mjs'), code);
      const { stdout } = await promisify(execFile)(process.execPath, ['example.mjs'], { cwd: dir, env: { ...process.env, CAIRN_PASSWORD: 'readme secret' } });
      expect(stdout).toMatch(/snapshot [0-9a-f]{8}: 10 files/);
      expect(stdout).toMatch(/restored 10 files/);
      expect(diffTrees(await describeTree(join(dir, 'data')), await describeTree(join(dir, 'restored', 'data')))).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
