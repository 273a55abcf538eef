/**
 * `cairn cat config|snapshot|index|key|blob|pack ID`: print a repository file or blob, decrypted.
 */
import { CairnError, hashId, messageOf, type Id, type Repository } from '../../index.js';
import type { CommandContext } from '../context.js';
import { withRepo } from '../repository.js';
import { KINDS } from '../commands/cat.js';

export type Kind = (typeof KINDS)[number];

/** The one ID of `type` starting with `prefix`. */
async function resolveFile(repo: Repository, type: 'snapshot' | 'index' | 'key' | 'pack', prefix: string): Promise<Id> {
  const p = prefix.toLowerCase();
  const found: Id[] = [];
  for await (const id of repo.list(type)) if (id.startsWith(p)) found.push(id);
  if (found.length === 1) return found[0]!;
  if (found.length === 0) {
    throw new CairnError(type === 'snapshot' ? 'ERR_SNAPSHOT_NOT_FOUND' : 'ERR_NOT_FOUND', `no ${type} file with an ID starting with "${prefix}"`, { data: { type, prefix } });
  }
  throw new CairnError('ERR_AMBIGUOUS_ID', `"${prefix}" matches ${found.length} ${type} files; give more digits`, { data: { type, prefix } });
}

/** Stored JSON, indented; ERR_CORRUPT naming `what` when it is not JSON (or too deep to print). */
function pretty(json: Uint8Array, what: string): string {
  try {
    return JSON.stringify(JSON.parse(new TextDecoder().decode(json)), null, 2) + '\n';
  } catch (e) {
    throw new CairnError('ERR_CORRUPT', `${what} is not JSON that can be printed (${messageOf(e)}); the file is damaged: run \`cairn check\` to see what else is`, { cause: e });
  }
}

/**
 * `bytes`, if they hash to `name` (as every stored file but the config must); else ERR_CORRUPT
 * naming the file, and nothing is printed (snapshot and index files are checked the same way).
 */
function verified(bytes: Uint8Array, name: string, what: string): Uint8Array {
  const actual = hashId(bytes);
  if (actual !== name) {
    throw new CairnError('ERR_CORRUPT', `${what}: its content hashes to ${actual}, not to its name; the file is damaged: run \`cairn check --read-data\` to see what it affects`, {
      data: { expected: name, actual },
    });
  }
  return bytes;
}

/** The action of `cairn cat` (its options: ../commands/cat.ts). */
export async function catAction(ctx: CommandContext, kind: string, id: string | undefined): Promise<void> {
  if (!(KINDS as readonly string[]).includes(kind)) throw new CairnError('ERR_USAGE', `cat: unknown kind "${kind}"; use one of ${KINDS.join(', ')}`);
  const k = kind as Kind;
  if (k !== 'config' && id === undefined) throw new CairnError('ERR_USAGE', `cat ${k} needs an ID`);
  await withRepo(ctx, async (repo) => {
    const out = ctx.io.stdout;
    switch (k) {
      case 'config':
        out.write(pretty(await repo.loadConfigJson(), 'the config'));
        return;
      case 'snapshot':
      case 'index': {
        const name = await resolveFile(repo, k, id!);
        out.write(pretty(await repo.loadUnpacked(k, name), `${k} ${name}`));
        return;
      }
      case 'key': {
        const name = await resolveFile(repo, 'key', id!);
        out.write(pretty(verified(await repo.backend.load({ type: 'key', name }), name, `keys/${name}`), `key ${name}`));
        return;
      }
      case 'pack': {
        const name = await resolveFile(repo, 'pack', id!);
        out.write(verified(await repo.backend.load({ type: 'pack', name }), name, `pack ${name}`));
        return;
      }
      case 'blob': {
        const blob = id!.toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(blob)) throw new CairnError('ERR_INVALID_ARGUMENT', `cat blob needs a full 64-hex-digit blob ID, got "${id}"`);
        await repo.loadIndex();
        for (const type of ['data', 'tree'] as const) {
          if (repo.index.has(blob as Id, type)) {
            out.write(await repo.loadBlob(type, blob as Id));
            return;
          }
        }
        throw new CairnError('ERR_NOT_FOUND', `blob ${blob} is not in the repository's index`, { data: { blob } });
      }
    }
  });
}
