/**
 * Storing and listing audit records (spec/format.md, "Audit log"): each record is its own sealed
 * file `cairn-log/<id>`, saved like a snapshot file but without a lock or the write gate (records
 * are independent, append-only files). Listing never fails for one bad record: a record that is
 * gone, fails its hash or MAC, or is not a record is returned as unreadable, and the rest are
 * listed, oldest first.
 */
import { decodeAuditRecord, encodeAuditRecord, type AuditRecord } from '../audit/index.js';
import { CairnError, messageOf } from '../errors.js';
import type { Id } from '../model/index.js';
import type { Repository } from './repository.js';

/** A record and the file it came from. */
export interface AuditEntry {
  readonly id: Id;
  readonly record: AuditRecord;
}

/** A record file that could not be loaded, and why. */
export interface UnreadableAuditRecord {
  readonly id: Id;
  readonly error: CairnError;
}

export interface AuditListing {
  /** Oldest first: by time, then by file ID. */
  readonly records: readonly AuditEntry[];
  /** Sorted by ID. */
  readonly unreadable: readonly UnreadableAuditRecord[];
}

/** Seals `record` into a new file `cairn-log/<id>`; returns the ID. Takes no lock. */
export async function appendAuditRecord(repo: Pick<Repository, 'saveUnpacked'>, record: AuditRecord): Promise<Id> {
  return repo.saveUnpacked('audit', encodeAuditRecord(record));
}

/** Loads and decodes one record (ERR_NOT_FOUND, ERR_AUTH_FAILED, ERR_CORRUPT on failure). */
export async function loadAuditRecord(repo: Pick<Repository, 'loadUnpacked'>, id: Id): Promise<AuditRecord> {
  return decodeAuditRecord(await repo.loadUnpacked('audit', id), `cairn-log/${id}`);
}

/** Every record of the repository, oldest first; the ones that cannot be loaded apart. */
export async function listAuditRecords(repo: Pick<Repository, 'list' | 'loadUnpacked'>, options: { readonly concurrency?: number } = {}): Promise<AuditListing> {
  const ids: Id[] = [];
  for await (const id of repo.list('audit')) ids.push(id);
  ids.sort();
  const records: AuditEntry[] = [];
  const unreadable: UnreadableAuditRecord[] = [];
  const concurrency = Math.max(1, options.concurrency ?? 8);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        records.push({ id, record: await loadAuditRecord(repo, id) });
      } catch (e) {
        const error = e instanceof CairnError ? e : new CairnError('ERR_CORRUPT', `cairn-log/${id}: ${messageOf(e)}`, { cause: e });
        unreadable.push({ id, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  const ms = (r: AuditRecord): number => Date.parse(r.time);
  records.sort((a, b) => ms(a.record) - ms(b.record) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  unreadable.sort((a, b) => (a.id < b.id ? -1 : 1));
  return { records, unreadable };
}
