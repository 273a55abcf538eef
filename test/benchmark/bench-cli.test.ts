/**
 * `cairn bench` end to end on tiny data against the real restic: every phase of both tools is
 * printed, the JSON summary has the documented fields, the chart is well-formed SVG with one rect
 * per bar, restores are verified, and the results land in the cache directory.
 * Needs the built CLI (npm run build), which the benchmark runs as a child process.
 */
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cairn } from '../cli/helpers.js';

const root = await mkdtemp(join(tmpdir(), 'cairn-bench-cli-'));
afterAll(() => rm(root, { recursive: true, force: true }));
// The results file goes to $XDG_CACHE_HOME/cairn (the helpers' own cache directory is unset).
const env = { XDG_CACHE_HOME: join(root, 'cache'), CAIRN_CACHE_DIR: undefined };
const PHASES = ['init', 'snapshot_first', 'snapshot_second', 'restore', 'check'];

/** A small well-formedness check: tags nest and close, attributes are quoted, entities are known. */
function parseXml(text: string): { name: string; attrs: Record<string, string> }[] {
  const elements: { name: string; attrs: Record<string, string> }[] = [];
  const stack: string[] = [];
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < body.length) {
    const lt = body.indexOf('<', i);
    const textPart = body.slice(i, lt < 0 ? body.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(textPart)) throw new Error(`bad entity in text near ${i}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(body);
    if (m === null) throw new Error(`malformed tag at ${lt}: ${body.slice(lt, lt + 40)}`);
    const [, close, name, attrText, selfClose] = m;
    if (close === '/') {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else {
      const attrs: Record<string, string> = {};
      for (const a of attrText!.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]!] = a[2]!;
      elements.push({ name: name!, attrs });
      if (selfClose !== '/') stack.push(name!);
      else if (stack.length === 0 && elements.length > 1) throw new Error('content after the root element');
    }
    i = tag.lastIndex;
  }
  if (stack.length !== 0) throw new Error(`unclosed elements: ${stack.join(', ')}`);
  return elements;
}

describe('cairn bench', () => {
  it('runs every phase for cairn and restic on the generated checkpoints, prints the table and draws the chart', async () => {
    const chart = join(root, 'chart.svg');
    const r = await cairn(['bench', '--size', '1MiB', '--compare', 'restic', '--workdir', root, '--chart', chart], { env });
    expect(r.err).not.toMatch(/^cairn: /m);
    expect(r.code).toBe(0);
    for (const tool of ['cairn', 'restic']) {
      for (const phase of PHASES) expect(r.out).toMatch(new RegExp(`\\| ${tool} +\\| ${phase} +\\| \\d+\\.\\d\\d s`));
    }
    expect(r.out).toMatch(/time ÷ restic/);
    expect(r.out).toMatch(/### checkpoints: 2 files, 2\.00 MiB/);

    const elements = parseXml(await readFile(chart, 'utf8'));
    expect(elements[0]!.name).toBe('svg');
    const rects = elements.filter((e) => e.name === 'rect');
    expect(rects).toHaveLength(2 * PHASES.length);
    expect(new Set(rects.map((e) => `${e.attrs['data-tool']}/${e.attrs['data-phase']}`)).size).toBe(rects.length);
    for (const rect of rects) expect(Number(rect.attrs['height'])).toBeGreaterThan(0);

    const saved = JSON.parse(await readFile(join(root, 'cache', 'cairn', 'bench.json'), 'utf8'));
    expect(saved.schema).toBe(1);
    expect(saved.datasets.checkpoints.tools.map((t: { tool: string }) => t.tool)).toEqual(['cairn', 'restic']);
    // What cairn plan reads: cairn's own figures, the machine, the date; the file is private.
    const c = saved.datasets.checkpoints.cairn;
    expect(c.snapshot_mb_per_second).toBeCloseTo(2 * 1.048576 / c.snapshot_seconds, 6);
    expect(c.restore_mb_per_second).toBeGreaterThan(0);
    expect(c.snapshot_files_per_second).toBeCloseTo(2 / c.snapshot_seconds, 6);
    expect(saved.datasets.checkpoints.machine.cores).toBeGreaterThan(0);
    expect((await stat(join(root, 'cache', 'cairn', 'bench.json'))).mode & 0o777).toBe(0o600);
    // ... and cairn plan uses them, as measured on this machine.
    const plan = await cairn(['plan', '--size', '1GiB', '--json'], { env });
    expect(plan.code).toBe(0);
    const p = JSON.parse(plan.out).predictions[0];
    expect(p.rate_source).toMatchObject({ kind: 'bench', dataset: 'checkpoints', phase: 'snapshot_first', this_machine: true });
    expect(p.seconds).toBeCloseTo(2 ** 30 / (c.snapshot_mb_per_second * 1e6), 6);
  }, 60_000);

  it('--source DIR --json prints one summary with the documented fields, restores verified', async () => {
    const src = join(root, 'tree');
    await mkdir(join(src, 'a', 'b'), { recursive: true });
    await writeFile(join(src, 'a', 'one.txt'), 'one\n');
    await writeFile(join(src, 'a', 'b', 'two.bin'), Buffer.alloc(300_000, 7));
    await writeFile(join(src, 'empty'), '');
    await symlink('a/one.txt', join(src, 'link'));
    const r = await cairn(['bench', '--source', src, '--compare', 'restic', '--workdir', root, '--json', '--no-save'], { env });
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    const s = JSON.parse(lines[0]!);
    expect(s).toMatchObject({ message_type: 'bench', schema: 1, repeat: 1, skipped: [] });
    expect(Object.keys(s.machine).sort()).toEqual(['cores', 'cpu', 'memory_bytes', 'node', 'os']);
    expect(s.datasets).toHaveLength(1);
    const d = s.datasets[0];
    expect(d).toMatchObject({ name: 'source', source: src, files: 3, bytes: 300_004 });
    expect(d.tools.map((t: { tool: string }) => t.tool)).toEqual(['cairn', 'restic']);
    for (const t of d.tools) {
      expect(t.verified).toBe(true);
      expect(t.version).toMatch(new RegExp(`^${t.tool} \\d`));
      expect(t.repo_bytes_first).toBeGreaterThan(0);
      expect(t.repo_bytes_second).toBeGreaterThanOrEqual(t.repo_bytes_first);
      expect(t.phases.map((p: { phase: string }) => p.phase)).toEqual(PHASES);
      for (const p of t.phases) {
        expect(p.seconds).toBeGreaterThan(0);
        expect(p.runs).toEqual([p.seconds]);
        expect(p.peak_rss_bytes).toBeGreaterThan(1 << 20);
        if (p.phase === 'init') expect(p.mb_per_second).toBeNull();
        else expect(p.files_per_second).toBeCloseTo(3 / p.seconds, 6);
      }
    }
    expect(d.ratios).toHaveLength(1);
    expect(d.ratios[0].other).toBe('restic');
    expect(Object.keys(d.ratios[0].time)).toEqual(PHASES);
    expect(d.ratios[0].time.restore).toBeCloseTo(d.tools[0].phases[3].seconds / d.tools[1].phases[3].seconds, 6);
    expect(d.ratios[0].repo_bytes_first).toBeGreaterThan(0);
  }, 60_000);

  it('rejects unknown datasets and tools before doing any work', async () => {
    const a = await cairn(['bench', '--dataset', 'nope'], { env });
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/--dataset nope is not known/);
    const b = await cairn(['bench', '--compare', 'tar'], { env });
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/restic and borg only/);
  });
});
