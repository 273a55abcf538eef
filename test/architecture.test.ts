/**
 * The house rules of ../shared/GUIDE.md, enforced: imports run downward through the levels, a
 * module is entered only through its index.ts, the backend never sees crypto or blobs, the CLI
 * imports only the public surface, there are no import cycles between modules, and only the bin
 * ends the process.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** Level of each top-level module of src/ (a folder, or a file such as errors.ts). */
const LEVELS: Record<string, number> = {
  errors: 0, model: 0, util: 0, types: 0,
  chunker: 1, crypto: 1, compress: 1,
  pack: 2, index: 2, tree: 2, snapshot: 2, forget: 2, backend: 2, fs: 2, audit: 2,
  repository: 3,
  archiver: 4, restorer: 4, checker: 4, prune: 4, api: 4, filter: 2, diff: 4, inspect: 4, tag: 4, copy: 4, dump: 4,
  'index.ts': 5, benchmark: 5, cli: 6,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The module a src file belongs to: its top folder, or the file name for top-level files. */
function moduleOf(file: string): string {
  const rel = relative(SRC, file).split('/');
  if (rel.length === 1) return rel[0] === 'index.ts' ? 'index.ts' : rel[0]!.replace(/\.ts$/, '');
  return rel[0]!;
}

interface Edge { from: string; to: string; fromModule: string; toModule: string; spec: string }

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    for (const m of text.matchAll(/(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?['"](\.[^'"]+)['"]/g)) {
      const spec = m[1]!;
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      out.push({ from: file, to: target, fromModule: moduleOf(file), toModule: moduleOf(target), spec });
    }
  }
  return out;
}

describe('architecture', () => {
  const all = edges();
  const across = all.filter((e) => e.fromModule !== e.toModule);

  it('knows the level of every module', () => {
    const unknown = [...new Set(files(SRC).map(moduleOf))].filter((m) => !(m in LEVELS));
    expect(unknown).toEqual([]);
  });

  it('imports run downward (or sideways within a level)', () => {
    const upward = across.filter((e) => LEVELS[e.toModule]! > LEVELS[e.fromModule]!).map((e) => `${relative(SRC, e.from)} -> ${e.spec}`);
    expect(upward).toEqual([]);
  });

  it('another module is entered only through its index.ts', () => {
    const bad = across
      .filter((e) => !['errors', 'types', 'index.ts'].includes(e.toModule))
      .filter((e) => relative(join(SRC, e.toModule), e.to) !== 'index.ts')
      .map((e) => `${relative(SRC, e.from)} -> ${e.spec}`);
    expect(bad).toEqual([]);
  });

  it('the CLI imports only the public surface', () => {
    const bad = across.filter((e) => e.fromModule === 'cli' && e.toModule !== 'index.ts').map((e) => `${relative(SRC, e.from)} -> ${e.spec}`);
    expect(bad).toEqual([]);
  });

  it('the backend sees bytes and names only (level 0 and itself)', () => {
    const bad = across.filter((e) => e.fromModule === 'backend' && LEVELS[e.toModule]! > 0).map((e) => `${relative(SRC, e.from)} -> ${e.spec}`);
    expect(bad).toEqual([]);
  });

  it('there are no cycles between modules', () => {
    const graph = new Map<string, Set<string>>();
    for (const e of across) (graph.get(e.fromModule) ?? graph.set(e.fromModule, new Set()).get(e.fromModule)!).add(e.toModule);
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (m: string, path: string[]): void => {
      if (state.get(m) === 'done') return;
      if (state.get(m) === 'open') {
        cycles.push([...path.slice(path.indexOf(m)), m].join(' -> '));
        return;
      }
      state.set(m, 'open');
      for (const n of graph.get(m) ?? []) visit(n, [...path, m]);
      state.set(m, 'done');
    };
    for (const m of graph.keys()) visit(m, []);
    expect(cycles).toEqual([]);
  });

  it('only cli/bin.ts ends the process or sets its exit code', () => {
    const bad = files(SRC)
      .filter((f) => !f.endsWith('cli/bin.ts'))
      .filter((f) => /process\.exit(Code)?\b/.test(readFileSync(f, 'utf8').replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '')))
      .map((f) => relative(SRC, f));
    expect(bad).toEqual([]);
  });
});
