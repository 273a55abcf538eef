/**
 * restic 0.14 as the oracle for pattern semantics. One repository, one source tree of assorted
 * names (nested dirs, dot files, glob characters, spaces, non-ASCII, an invalid UTF-8 byte, an
 * empty dir). For each pattern set, `restic backup --exclude … --iexclude …` saves a snapshot and
 * the paths it kept must be exactly those a walk with `compileExcludes` keeps (a left-out directory
 * takes its subtree, the backup target itself is checked too). Then `restic restore --include …`
 * (or `--exclude …`) of the full snapshot must create exactly the paths `restoreSelector` selects,
 * plus the directories leading to them. The repository's key is swapped for a cheap one right after
 * `restic init` (cheap-key.ts), backups run one at a time, restores and one `restic find` (which
 * lists every snapshot at once) overlap with --no-lock.
 */
import { mkdir, readdir, lstat, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compileExcludes, expandGlob, parseExcludeFile, parseFilesFrom, parseFilesFromRaw, parseFilesFromVerbatim, restoreSelector,
  type ExcludeOptions, type GlobFs, type RestoreFilterOptions,
} from '../../src/filter/index.js';
import { decodeUtf8, mapConcurrent } from '../../src/util/index.js';
import { ResticRepo } from '../helpers/restic.js';
import { cheapenResticKey } from '../helpers/cheap-key.js';

const enc = new TextEncoder();

/** Files (and `dir/` for empty dirs) of the source tree, relative to it. */
const TREE: readonly (string | Uint8Array)[] = [
  'a.txt', 'b.go', '.hidden', '.config/settings.json', 'README.md', 'Makefile',
  'src/main.go', 'src/util.go', 'src/test/main_test.go', 'src/test/data.bin', 'src/vendor/lib/x.go',
  'build/out.o', 'build/tmp/cache.tmp', 'build/.keep',
  'docs/a.txt', 'docs/Notes.TXT', 'docs/image.PNG',
  'foo/bar/baz.txt', 'foo/x/bar', 'foo/y/z/bar/deep.txt', 'foo/qux.txt',
  'node_modules/pkg/index.js',
  '[brackets].txt', 'star*.txt', 'space name.txt', 'ünïcode.txt', 'ÜNÏCODE2.TXT',
  Uint8Array.from([...enc.encode('bad'), 0xff, ...enc.encode('.txt')]),
  'empty/', 'deep/a/b/c/d/e.txt', 'x/b/c.txt',
];

/** `${ROOT}` stands for the tree's absolute path. */
const BACKUPS: readonly ExcludeOptions[] = [
  {},
  { exclude: ['*.go'] },
  { exclude: ['${ROOT}/src'] },
  { exclude: ['src/*.go', 'build/'] },
  { exclude: ['foo/**/bar'] },
  { exclude: ['**/test', '*.o'] },
  { exclude: ['*.txt', '!a.txt', '!docs'] },
  { exclude: ['[a-c].*', '*[!x].md', '.*'] },
  { exclude: ['${ROOT}/*/bar', '${ROOT}/foo/*/bar', '/**/b/**'] },
  { exclude: ['x/bar', 'node_modules', 'deep/*/b'] },
  { exclude: ['\\[brackets\\].txt', 'space name.txt', 'star\\*.txt', 'bad?.txt', 'ü*'] },
  { iexclude: ['readme.md', 'ÜNÏCODE*', 'IMAGE.png'] },
  { exclude: ['docs/*', '!docs/a.txt'], iexclude: ['NOTES.txt', 'DOCS/A.TXT'] },
  { exclude: ['foo/**', '!foo/bar', 'deep/**/e.txt'] },
  { exclude: ['/'] },
];

const RESTORES: readonly RestoreFilterOptions[] = [
  { include: ['*.go'] },
  { include: ['${ROOT}/foo/y', '/nonexistent/x'] },
  { include: ['src/*', '!*.go'] },
  { include: ['${ROOT}/foo/**/bar/*'], iinclude: ['*.TXT'] },
  { exclude: ['build', '.*', '${ROOT}/foo/*/bar'] },
  { iexclude: ['*.TXT', 'SRC'] },
];

/** An --exclude-file as restic reads it (BOM, CRLF, comments, blanks, spaces, variables, `$$`, `~`). */
const EXCLUDE_FILE = '\ufeff# go files\r\n  *.go  \r\n\r\n   # indented comment\n$DIRNAME/tmp\n!${KEEP}\n~\n$$x\n\\#c\n${UNSET}\n';
const EXCLUDE_ENV = { DIRNAME: 'build', KEEP: 'util.go' };

/** List files for the three --files-from flags (`${ROOT}` filled in when written). */
const FILES_FROM = '  ${ROOT}/src/*.go \r\n# ${ROOT}/docs\n\n${ROOT}/foo/y\n${ROOT}/nonexistent*\n${ROOT}/[[]brackets].txt\n${ROOT}/deep/*/b\n';
const FILES_FROM_VERBATIM = '${ROOT}/star*.txt\n\n${ROOT}/docs\r\n';
const filesFromRaw = (root: string): Uint8Array =>
  Buffer.concat([Buffer.from(`${root}/bad`), Buffer.from([0xff]), Buffer.from(`.txt\0${root}/x/b\0`)]);

const nodeFs: GlobFs = {
  exists: async (p) => lstat(p).then(() => true, () => false),
  isDirectory: async (p) => stat(p).then((s) => s.isDirectory(), () => false),
  readdir: async (p) => readdir(p),
};

function fill(list: readonly string[] | undefined, root: string): string[] | undefined {
  return list?.map((p) => p.replaceAll('${ROOT}', root));
}

function flags(o: ExcludeOptions & RestoreFilterOptions, root: string): string[] {
  const out: string[] = [];
  for (const [flag, list] of [['--include', o.include], ['--iinclude', o.iinclude], ['--exclude', o.exclude], ['--iexclude', o.iexclude]] as const) {
    for (const p of fill(list, root) ?? []) out.push(`${flag}=${p}`);
  }
  return out;
}

function filled<T extends ExcludeOptions & RestoreFilterOptions>(o: T, root: string): T {
  const out: Record<string, string[]> = {};
  for (const k of ['include', 'iinclude', 'exclude', 'iexclude'] as const) {
    const v = fill(o[k], root);
    if (v !== undefined) out[k] = v;
  }
  return out as unknown as T;
}

async function makeTree(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const entry of TREE) {
    const rel = typeof entry === 'string' ? entry : null;
    if (rel !== null && rel.endsWith('/')) {
      await mkdir(join(root, rel), { recursive: true });
      continue;
    }
    const bytes = typeof entry === 'string' ? enc.encode(entry) : entry;
    const slash = bytes.lastIndexOf(0x2f);
    if (slash >= 0) await mkdir(join(root, decodeUtf8(bytes.subarray(0, slash))), { recursive: true });
    await writeFile(Buffer.concat([Buffer.from(root + '/'), Buffer.from(bytes)]), `content of ${decodeUtf8(bytes)}\n`);
  }
}

interface DiskNode {
  readonly path: Buffer;
  readonly isDir: boolean;
  readonly children: DiskNode[];
}

async function readTree(path: Buffer): Promise<DiskNode> {
  const st = await lstat(path);
  const node: DiskNode = { path, isDir: st.isDirectory(), children: [] };
  if (node.isDir) {
    for (const name of (await readdir(path, { encoding: 'buffer' })).sort(Buffer.compare)) {
      node.children.push(await readTree(Buffer.concat([path, Buffer.from('/'), name])));
    }
  }
  return node;
}

/** What a backup of `root` keeps below it, as restic's walk decides it. */
function modelBackup(root: DiskNode, excludes: (p: Buffer) => boolean): Set<string> {
  const kept = new Set<string>();
  if (excludes(root.path)) return kept;
  const walk = (n: DiskNode): void => {
    for (const c of n.children) {
      if (excludes(c.path)) continue;
      kept.add(decodeUtf8(c.path));
      if (c.isDir) walk(c);
    }
  };
  walk(root);
  return kept;
}

/** What restic's restorer creates for the snapshot rooted at "/" (ancestors of `tree` included). */
function modelRestore(tree: DiskNode, select: (p: Buffer, isDir: boolean) => { selected: boolean; descend: boolean }): Set<string> {
  // The snapshot holds the tree under its absolute path: "/tmp", "/tmp/x", … lead to it.
  const parts = tree.path.toString('latin1').split('/').filter((p) => p !== '');
  let top: DiskNode = tree;
  for (let i = parts.length - 1; i >= 1; i--) {
    top = { path: Buffer.from('/' + parts.slice(0, i).join('/'), 'latin1'), isDir: true, children: [top] };
  }
  const restored = new Set<string>();
  const add = (p: Buffer): void => {
    const s = decodeUtf8(p);
    for (let i = s.indexOf('/', 1); i > 0; i = s.indexOf('/', i + 1)) restored.add(s.slice(0, i));
    restored.add(s);
  };
  const walk = (n: DiskNode): void => {
    const sel = select(n.path, n.isDir);
    if (sel.selected) add(n.path);
    if (n.isDir && sel.descend) for (const c of n.children) walk(c);
  };
  walk(top);
  return restored;
}

async function listRestored(target: string): Promise<Set<string>> {
  const out = new Set<string>();
  const walk = async (dir: Buffer, rel: string): Promise<void> => {
    let names: Buffer[];
    try {
      names = await readdir(dir, { encoding: 'buffer' });
    } catch {
      return;
    }
    for (const name of names) {
      const r = `${rel}/${decodeUtf8(name)}`;
      out.add(r);
      const p = Buffer.concat([dir, Buffer.from('/'), name]);
      if ((await lstat(p)).isDirectory()) await walk(p, r);
    }
  };
  await walk(Buffer.from(target), '');
  return out;
}

interface FindGroup {
  readonly snapshot: string;
  readonly matches: readonly { readonly path: string }[];
}

const sorted = (s: Set<string>): string[] => [...s].sort();

describe('restic 0.14 oracle', () => {
  let repo: ResticRepo;
  let root: string;
  let tree: DiskNode;
  const snapshotOf: string[] = [];
  let found: FindGroup[] = [];
  const restoredOf: Set<string>[] = [];
  const listSnapshots = { exclude: '', filesFrom: '', verbatim: '', raw: '' };

  beforeAll(async () => {
    repo = await ResticRepo.create();
    await cheapenResticKey(repo.dir, repo.password);
    root = join(repo.root, 'data');
    await makeTree(root);
    tree = await readTree(Buffer.from(root));
    const lanes = Math.max(2, Math.min(4, availableParallelism()));
    const backup = async (o: ExcludeOptions, i: number): Promise<void> => {
      const s = await repo.backup([root], flags(o, root));
      snapshotOf[i] = s.snapshot_id;
    };
    // Writers one at a time: a restic run that lists index or lock files while another writes
    // one can meet a temporary file and wait in restic's retry backoff for tens of seconds.
    for (const [i, o] of BACKUPS.entries()) await backup(o, i);
    const write = async (name: string, data: string | Uint8Array): Promise<string> => {
      const p = join(repo.root, name);
      await writeFile(p, typeof data === 'string' ? data.replaceAll('${ROOT}', root) : data);
      return p;
    };
    listSnapshots.exclude = (await repo.backup([root], ['--exclude-file', await write('excludes.txt', EXCLUDE_FILE)], { env: EXCLUDE_ENV })).snapshot_id;
    listSnapshots.filesFrom = (await repo.backup([], ['--files-from', await write('files-from.txt', FILES_FROM)])).snapshot_id;
    listSnapshots.verbatim = (await repo.backup([], ['--files-from-verbatim', await write('verbatim.txt', FILES_FROM_VERBATIM)])).snapshot_id;
    listSnapshots.raw = (await repo.backup([], ['--files-from-raw', await write('raw.bin', filesFromRaw(root))])).snapshot_id;
    // Readers with --no-lock write nothing to the repository, so they may overlap.
    const restores = RESTORES.map((o, i) => async () => {
      const target = join(repo.root, `restore-${i}`);
      await repo.run(['--no-lock', 'restore', snapshotOf[0]!, '--target', target, ...flags(o, root)]);
      restoredOf[i] = await listRestored(target);
    });
    const listing = async (): Promise<void> => {
      found = await repo.json<FindGroup[]>(['--no-lock', 'find', '--json', '*']);
    };
    await mapConcurrent([...restores, listing], lanes, (job) => job());
  }, 120_000);

  afterAll(async () => {
    await repo?.cleanup();
  });

  const keptBy = (i: number | string): Set<string> => {
    const id = typeof i === 'number' ? snapshotOf[i]! : i;
    const group = found.find((g) => g.snapshot.startsWith(id));
    return new Set((group?.matches ?? []).map((m) => m.path).filter((p) => p.startsWith(root + '/')));
  };

  it('the full snapshot holds the whole tree (the walk model is right)', () => {
    const all = modelBackup(tree, () => false);
    expect(all.size).toBeGreaterThan(40);
    expect(sorted(keptBy(0))).toEqual(sorted(all));
  });

  it.each(BACKUPS.slice(1).map((o, i) => [JSON.stringify(o), i + 1] as const))('backup %s keeps what restic keeps', (_name, i) => {
    const ex = compileExcludes(filled(BACKUPS[i]!, root));
    expect(sorted(modelBackup(tree, (p) => ex.excludes(p)))).toEqual(sorted(keptBy(i)));
  });

  it.each(RESTORES.map((o, i) => [JSON.stringify(o), i] as const))('restore %s creates what restic creates', (_name, i) => {
    const select = restoreSelector(filled(RESTORES[i]!, root))!;
    expect(sorted(modelRestore(tree, select))).toEqual(sorted(restoredOf[i]!));
  });

  /** What a backup of `targets` holds below the tree's root: each target, its subtree, the directories leading to it. */
  const modelTargets = (targets: readonly Buffer[]): Set<string> => {
    const byPath = new Map<string, DiskNode>();
    const index = (n: DiskNode): void => {
      byPath.set(n.path.toString('latin1'), n);
      n.children.forEach(index);
    };
    index(tree);
    const out = new Set<string>();
    const all = (n: DiskNode): void => {
      out.add(decodeUtf8(n.path));
      n.children.forEach(all);
    };
    for (const t of targets) {
      const text = decodeUtf8(t);
      for (let i = text.indexOf('/', root.length + 1); i > 0; i = text.indexOf('/', i + 1)) out.add(text.slice(0, i));
      const node = byPath.get(t.toString('latin1'));
      if (node !== undefined) all(node);
    }
    return out;
  };

  it('--exclude-file: patterns read as restic reads them', () => {
    const ex = compileExcludes({ exclude: parseExcludeFile(EXCLUDE_FILE, EXCLUDE_ENV) });
    const kept = modelBackup(tree, (p) => ex.excludes(p));
    expect(kept.has(`${root}/src/util.go`)).toBe(true);
    expect(kept.has(`${root}/src/main.go`)).toBe(false);
    expect(sorted(kept)).toEqual(sorted(keptBy(listSnapshots.exclude)));
  });

  it('--files-from: trimmed, comments skipped, each line globbed', async () => {
    const targets: Buffer[] = [];
    for (const p of parseFilesFrom(FILES_FROM.replaceAll('${ROOT}', root))) for (const m of await expandGlob(p, nodeFs)) targets.push(Buffer.from(m));
    expect(targets.length).toBe(5);
    expect(sorted(modelTargets(targets))).toEqual(sorted(keptBy(listSnapshots.filesFrom)));
  });

  it('--files-from-verbatim and --files-from-raw: names as written', () => {
    const verbatim = parseFilesFromVerbatim(FILES_FROM_VERBATIM.replaceAll('${ROOT}', root)).map((p) => Buffer.from(p));
    expect(sorted(modelTargets(verbatim))).toEqual(sorted(keptBy(listSnapshots.verbatim)));
    const raw = parseFilesFromRaw(filesFromRaw(root)).map((p) => Buffer.from(p));
    expect(sorted(modelTargets(raw))).toEqual(sorted(keptBy(listSnapshots.raw)));
  });
});
