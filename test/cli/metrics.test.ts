/**
 * `--metrics-file`: Prometheus textfile-collector metrics after real runs through run() — a small
 * snapshot (figures, HELP/TYPE, labels without secrets), a failed run (success 0, the last success
 * time kept), several commands sharing one file, prune's repository size, the atomic replace (a
 * new inode, no temporary file left), and a file that cannot be written (a warning, the run's exit
 * code unchanged).
 */
import { link, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMetrics, mergeRun, parseMetrics, repositoryLabel } from '../../src/cli/metrics.js';
import { tempDir } from '../helpers/tmp.js';
import { cairn } from './helpers.js';

const PASSWORD = 'metrics secret pw';
const ENV = { CAIRN_PASSWORD: PASSWORD, CAIRN_KDF: '1024:8:1' };

/** A temporary directory with an initialised repository and a small source tree. */
async function setup(): Promise<{ root: string; repo: string; src: string; prom: string }> {
  const root = tempDir('cairn-metrics-');
  const repo = join(root, 'repo');
  const init = await cairn(['-r', repo, 'repo', 'init'], { env: ENV });
  expect(init.code).toBe(0);
  const src = join(root, 'src');
  await mkdir(join(src, 'd'), { recursive: true });
  await writeFile(join(src, 'a.txt'), 'hello metrics\n');
  await writeFile(join(src, 'd', 'b.bin'), Buffer.alloc(200_000, 3));
  return { root, repo, src, prom: join(root, 'cairn.prom') };
}

/** The value of `name` for `command` (undefined when the series is absent). */
function value(text: string, name: string, command: string): number | undefined {
  return parseMetrics(text).find((s) => s.name === name && s.labels['command'] === command)?.value;
}

/** The text exposition format, as node_exporter reads it: HELP and TYPE once, before the samples. */
function expectWellFormed(text: string): void {
  expect(text.endsWith('\n')).toBe(true);
  const typed = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const help = /^# HELP (cairn_[a-z_]+) \S.*$/.exec(line);
    const type = /^# TYPE (cairn_[a-z_]+) (gauge|counter)$/.exec(line);
    if (help !== null) continue;
    if (type !== null) {
      expect(typed.has(type[1]!)).toBe(false);
      typed.add(type[1]!);
      continue;
    }
    const m = /^(cairn_[a-z_]+)\{command="[a-z]+",repository="(?:[^"\\]|\\.)*"\} -?\d+(\.\d+)?$/.exec(line);
    expect(m, line).not.toBeNull();
    expect(typed.has(m![1]!)).toBe(true);
  }
}

describe('--metrics-file', () => {
  it('after a snapshot: last run and success times, duration, bytes, files, errors; no secrets', async () => {
    const { repo, src, prom } = await setup();
    const before = Date.now() / 1000;
    const r = await cairn(['-r', repo, '--metrics-file', prom, 'snapshot', src], { env: ENV });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const text = await readFile(prom, 'utf8');
    expectWellFormed(text);
    expect(text).toContain(`cairn_run_success{command="snapshot",repository="${repo}"} 1`);
    expect(text).toContain('# TYPE cairn_errors_total counter');
    expect(text).toContain('# HELP cairn_last_success_timestamp_seconds ');
    const last = value(text, 'cairn_last_run_timestamp_seconds', 'snapshot')!;
    expect(last).toBeGreaterThanOrEqual(Math.floor(before));
    expect(last).toBeLessThanOrEqual(Date.now() / 1000 + 1);
    expect(value(text, 'cairn_last_success_timestamp_seconds', 'snapshot')).toBe(last);
    expect(value(text, 'cairn_run_duration_seconds', 'snapshot')).toBeGreaterThan(0);
    expect(value(text, 'cairn_run_exit_code', 'snapshot')).toBe(0);
    expect(value(text, 'cairn_bytes_processed', 'snapshot')).toBe(200_014);
    expect(value(text, 'cairn_files_processed', 'snapshot')).toBe(2);
    expect(value(text, 'cairn_bytes_added', 'snapshot')).toBeGreaterThanOrEqual(200_014);
    expect(value(text, 'cairn_bytes_stored', 'snapshot')).toBeGreaterThan(0);
    expect(value(text, 'cairn_run_errors', 'snapshot')).toBe(0);
    expect(value(text, 'cairn_errors_total', 'snapshot')).toBe(0);
    expect(text).not.toContain(PASSWORD);
    // node_exporter reads *.prom only: nothing else may be left beside the file.
    expect((await readdir(join(prom, '..'))).filter((n) => n !== 'repo' && n !== 'src')).toEqual(['cairn.prom']);
  });

  it('after a failed run: success 0 and its exit code, the last success time kept, the file replaced atomically', async () => {
    const { repo, src, prom } = await setup();
    expect((await cairn(['-r', repo, '--metrics-file', prom, 'snapshot', src], { env: ENV })).code).toBe(0);
    const first = await readFile(prom, 'utf8');
    const success = value(first, 'cairn_last_success_timestamp_seconds', 'snapshot')!;
    // A hard link to the old file keeps the old content if the new one arrives by rename.
    await link(prom, `${prom}.old`);
    const inode = (await stat(prom)).ino;
    await new Promise((r) => setTimeout(r, 20));

    const failed = await cairn(['-r', repo, '--metrics-file', prom, 'snapshot', src], { env: { ...ENV, CAIRN_PASSWORD: 'bad-pw-zq7' } });
    expect(failed.code).toBe(12);
    const text = await readFile(prom, 'utf8');
    expectWellFormed(text);
    expect(value(text, 'cairn_run_success', 'snapshot')).toBe(0);
    expect(value(text, 'cairn_run_exit_code', 'snapshot')).toBe(12);
    expect(value(text, 'cairn_last_success_timestamp_seconds', 'snapshot')).toBe(success);
    expect(value(text, 'cairn_last_run_timestamp_seconds', 'snapshot')).toBeGreaterThan(success);
    expect(value(text, 'cairn_bytes_processed', 'snapshot')).toBeUndefined(); // this run processed nothing
    expect((await stat(prom)).ino).not.toBe(inode);
    expect(await readFile(`${prom}.old`, 'utf8')).toBe(first);
    expect(text).not.toContain('bad-pw-zq7');
  });

  it('one file for several commands: each keeps its own series; prune reports the repository size', async () => {
    const { repo, src, prom, root } = await setup();
    expect((await cairn(['-r', repo, '--metrics-file', prom, 'snapshot', src], { env: ENV })).code).toBe(0);
    expect((await cairn(['-r', repo, '--metrics-file', prom, 'check', '--read-data'], { env: ENV })).code).toBe(0);
    const target = join(root, 'restored');
    expect((await cairn(['-r', repo, '--metrics-file', prom, 'restore', 'latest', '--target', target], { env: ENV })).code).toBe(0);
    expect((await cairn(['-r', repo, '--metrics-file', prom, 'forget', '--keep-last', '1'], { env: ENV })).code).toBe(0);
    expect((await cairn(['-r', repo, '--metrics-file', prom, 'prune'], { env: ENV })).code).toBe(0);
    const text = await readFile(prom, 'utf8');
    expectWellFormed(text);
    for (const command of ['snapshot', 'check', 'restore', 'forget', 'prune']) expect(value(text, 'cairn_run_success', command)).toBe(1);
    expect(text.match(/^# TYPE cairn_run_success /gm)).toHaveLength(1);
    expect(value(text, 'cairn_bytes_processed', 'snapshot')).toBe(200_014);
    expect(value(text, 'cairn_bytes_processed', 'restore')).toBe(200_014);
    expect(value(text, 'cairn_files_processed', 'restore')).toBe(2);
    expect(value(text, 'cairn_bytes_processed', 'check')).toBeGreaterThan(0); // --read-data read the packs
    expect(value(text, 'cairn_repository_size_bytes', 'prune')).toBeGreaterThan(0);
  });

  it('a file that cannot be written is a warning; the run and its exit code stand', async () => {
    const { repo, src, root } = await setup();
    const prom = join(root, 'no-such-dir', 'cairn.prom');
    const r = await cairn(['-r', repo, '--metrics-file', prom, 'snapshot', src], { env: ENV });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/snapshot [0-9a-f]{8} saved/);
    expect(r.err).toMatch(new RegExp(`^warning: ${prom.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot write the metrics file: .*ENOENT.*\\(the run itself is not affected\\)`, 'm'));
    const j = await cairn(['-r', repo, '--json', '--metrics-file', prom, 'snapshot', src], { env: ENV });
    expect(j.code).toBe(0);
    expect(JSON.parse(j.err.trim())).toMatchObject({ message_type: 'error', error: { code: 'ERR_FILE_WRITE' }, during: 'metrics', item: prom });
  });

  it('given to a command that does not write metrics: a warning, no file', async () => {
    const { repo, prom } = await setup();
    const r = await cairn(['-r', repo, '--metrics-file', prom, 'snapshots'], { env: ENV });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/--metrics-file is written after snapshot, restore, check, prune, forget; not after snapshots/);
    await expect(stat(prom)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('repository labels carry no credentials', () => {
    expect(repositoryLabel('rest:https://ann:s3cret@backup.example.com:8000/repo/')).toBe('rest:https://backup.example.com:8000/repo/');
    expect(repositoryLabel('s3:https://key:secret@s3.example.com/bucket/path?token=abc')).toBe('s3:https://s3.example.com/bucket/path');
    expect(repositoryLabel('https://u:p@host/x')).toBe('https://host/x');
    expect(repositoryLabel('sftp:ann@host:/srv/repo')).toBe('sftp:ann@host:/srv/repo');
    expect(repositoryLabel('/srv/backup')).toBe('/srv/backup');
  });

  it('errors accumulate in cairn_errors_total; a snapshot saved with unreadable files (exit 3) counts as a success', () => {
    const run = (exitCode: number, errors: number | undefined, endedMs: number) => ({ command: 'snapshot', repository: '/r', startedMs: endedMs - 1000, endedMs, exitCode, figures: errors === undefined ? {} : { errors } });
    const other = { name: 'cairn_run_success', labels: { command: 'check', repository: '/r' }, value: 1 };
    let file = formatMetrics([other]);
    file = formatMetrics(mergeRun(parseMetrics(file), run(3, 2, 1_000_000)));
    file = formatMetrics(mergeRun(parseMetrics(file), run(1, undefined, 2_000_000)));
    file = formatMetrics(mergeRun(parseMetrics(file), run(3, 5, 3_000_000)));
    expect(value(file, 'cairn_errors_total', 'snapshot')).toBe(7);
    expect(value(file, 'cairn_run_errors', 'snapshot')).toBe(5);
    expect(value(file, 'cairn_run_success', 'snapshot')).toBe(1);
    expect(value(file, 'cairn_last_success_timestamp_seconds', 'snapshot')).toBe(3000);
    expect(value(file, 'cairn_run_success', 'check')).toBe(1); // another command's series stays
    // Labels with quotes, backslashes and newlines survive the round trip.
    const odd = formatMetrics(mergeRun([], { ...run(0, 0, 1000), repository: 'a "b" \\c\nd' }));
    expect(parseMetrics(odd).find((x) => x.name === 'cairn_run_success')!.labels['repository']).toBe('a "b" \\c\nd');
  });
});
