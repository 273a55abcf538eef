/**
 * `cairn dump [--archive tar|zip] SNAPSHOT PATH`: write one file of a snapshot to stdout, or a
 * directory (`/` for the whole snapshot) as a tar archive, as restic 0.14's dump does.
 */
import { CairnError, dumpFile } from '../../index.js';
import type { CommandContext } from '../context.js';
import { withRepo } from '../repository.js';
import { filterFrom } from './snapshots.js';

/** The action of `cairn dump` (its options: ../commands/dump.ts). */
export async function dumpAction(ctx: CommandContext, ref: string, path: string, opts: { host: string[]; tag: string[]; path: string[]; archive: string }): Promise<void> {
  if (opts.archive !== 'tar' && opts.archive !== 'zip') {
    throw new CairnError('ERR_INVALID_ARGUMENT', `unknown archive format "${opts.archive}": use "tar"`, { data: { archive: opts.archive } });
  }
  const archive = opts.archive;
  await withRepo(ctx, async (repo) => {
    const stdout = ctx.io.stdout;
    await dumpFile(
      repo,
      ref,
      path,
      async (chunk) => {
        stdout.write(chunk);
        if (stdout.drain !== undefined) await stdout.drain();
      },
      filterFrom(opts),
      { archive, allowArchive: !ctx.io.isTTY.stdout },
    );
  });
}
