/**
 * `cairn log [--last N]`: the repository's audit log (spec/cli.md `log`), oldest first. A record
 * that cannot be loaded is a warning naming its file; the others are listed, then the command
 * fails with ERR_INCOMPLETE, as `snapshots` does. Takes no lock and writes nothing.
 */
import { CairnError, listAuditRecords, type AuditEntry } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText, printWarning } from '../output.js';
import { withRepo } from '../repository.js';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function localTime(time: string): string {
  const d = new Date(Date.parse(time));
  if (Number.isNaN(d.getTime())) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function quoteArg(a: string): string {
  return a === '' || /[\s"'\\$`]/.test(a) ? JSON.stringify(a) : a;
}

function counts(e: AuditEntry): string {
  const r = e.record;
  const parts: string[] = [];
  const add = (n: number, sign: string, one: string, many: string): void => {
    if (n > 0) parts.push(`${sign}${n} ${n === 1 ? one : many}`);
  };
  add(r.snapshots.added.length, '+', 'snapshot', 'snapshots');
  add(r.snapshots.removed.length, '-', 'snapshot', 'snapshots');
  add(r.keys?.added.length ?? 0, '+', 'key', 'keys');
  add(r.keys?.removed.length ?? 0, '-', 'key', 'keys');
  add(r.packs.added_count, '+', 'pack', 'packs');
  add(r.packs.removed_count, '-', 'pack', 'packs');
  add(r.locks?.removed_count ?? 0, '-', 'lock', 'locks');
  return parts.join(', ');
}

/** One text line for a record. */
export function formatAuditLine(e: AuditEntry): string {
  const r = e.record;
  const result = r.result.ok ? 'ok' : `failed (exit ${r.result.exit_code}${r.result.error_code === undefined ? '' : `, ${r.result.error_code}`})`;
  const c = counts(e);
  const who = `${r.username === '' ? '?' : r.username}@${r.hostname}`;
  return [localTime(r.time), who, `${r.command}: cairn ${r.args.map(quoteArg).join(' ')}`, result, ...(c === '' ? [] : [c])].join('  ');
}

/** The action of `cairn log` (its options: ../commands/log.ts). */
export async function logAction(ctx: CommandContext, opts: { last?: string }): Promise<void> {
  const g = ctx.globals();
  let last: number | undefined;
  if (opts.last !== undefined) {
    if (!/^\d+$/.test(opts.last.trim())) throw new CairnError('ERR_INVALID_ARGUMENT', `--last must be a whole number of records, 0 or more; got "${opts.last}"`, { data: { option: '--last', value: opts.last } });
    last = Number(opts.last.trim());
  }
  await withRepo(ctx, async (repo) => {
    const listing = await listAuditRecords(repo);
    for (const u of listing.unreadable) {
      printWarning(ctx, { message: `could not load audit record: ${u.error.message}`, code: 'AUDIT_RECORD_UNREADABLE', during: 'log', item: `cairn-log/${u.id}` });
    }
    const shown = last === undefined ? listing.records : listing.records.slice(Math.max(0, listing.records.length - last));
    for (const e of shown) {
      if (g.json) printJson(ctx, { message_type: 'audit_record', id: e.id, ...e.record });
      else printText(ctx, formatAuditLine(e));
    }
    const bad = listing.unreadable.map((u) => u.id);
    if (bad.length > 0) {
      throw new CairnError(
        'ERR_INCOMPLETE',
        `${bad.length === 1 ? 'an audit record' : `${bad.length} audit records`} could not be loaded and ${bad.length === 1 ? 'is' : 'are'} not listed (${bad.slice(0, 3).map((id) => `cairn-log/${id}`).join(', ')}${bad.length > 3 ? ', …' : ''})`,
        { data: { unreadable: bad } },
      );
    }
  });
}
