/**
 * Loading every index file one by one, so that one bad file is reported and the others still
 * count (`Repository.loadIndex` stops at the first failure, as a normal command should). Used by
 * check and repair index.
 */
import { CairnError, isCairnError, messageOf, type ErrorCode } from '../errors.js';
import { addIndexFile, type MasterIndex } from '../index/index.js';
import type { Id, PackId } from '../model/index.js';
import type { Repository } from '../repository/index.js';
import { mapConcurrent } from '../util/index.js';

export type IndexFileRepository = Pick<Repository, 'list' | 'loadUnpacked' | 'version'>;

export interface BadIndexFile {
  readonly id: Id;
  readonly code: ErrorCode;
  /** Why it failed. */
  readonly message: string;
}

export interface LoadedIndexFiles {
  /** Every index file listed (loaded or not). */
  readonly all: readonly Id[];
  readonly bad: readonly BadIndexFile[];
  /** For each pack, the index files that name it (more than one is a duplicate). */
  readonly packFiles: ReadonlyMap<PackId, readonly Id[]>;
}

/** Why something failed, in few words: a MAC mismatch is said once, not with the object's name again. */
export function reason(e: unknown): string {
  return isCairnError(e, 'ERR_AUTH_FAILED') ? 'ciphertext verification failed (its MAC does not match: altered or damaged)' : messageOf(e);
}

/** Throws ERR_INTERRUPTED when `signal` is aborted. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new CairnError('ERR_INTERRUPTED', 'interrupted');
}

/** Loads every index file into `into`; a file that fails to load is returned in `bad`, not thrown. */
export async function loadIndexFiles(repo: IndexFileRepository, into: MasterIndex, concurrency: number, signal?: AbortSignal): Promise<LoadedIndexFiles> {
  const all: Id[] = [];
  for await (const id of repo.list('index')) all.push(id);
  all.sort();
  const bad: BadIndexFile[] = [];
  const packFiles = new Map<PackId, Id[]>();
  await mapConcurrent(all, concurrency, async (id) => {
    checkAborted(signal);
    let bytes: Uint8Array;
    try {
      bytes = await repo.loadUnpacked('index', id);
    } catch (e) {
      if (isCairnError(e, 'ERR_INTERRUPTED')) throw e;
      bad.push({ id, code: isCairnError(e) ? e.code : 'ERR_CORRUPT', message: reason(e) });
      return;
    }
    let packs: PackId[];
    try {
      packs = addIndexFile(into, bytes, `index/${id}`, repo.version);
    } catch (e) {
      bad.push({ id, code: isCairnError(e) ? e.code : 'ERR_CORRUPT', message: reason(e) });
      return;
    }
    for (const p of packs) {
      const files = packFiles.get(p);
      if (files === undefined) packFiles.set(p, [id]);
      else if (!files.includes(id)) files.push(id);
    }
  });
  bad.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { all, bad, packFiles };
}
