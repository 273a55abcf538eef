/**
 * `cairn repo init`: creates a repository (restic format version 2) with cairn's chunker choice.
 */
import { CairnError, FASTCDC_DEFAULTS, parseSize, redactLocation, Repository, type ChunkerConfig } from '../../index.js';
import type { CommandContext } from '../context.js';
import { printJson, printText } from '../output.js';
import { resolvePassword, resolveRepository } from '../password.js';
import { kdfFromEnv, openRepoBackend } from '../repository.js';

export interface InitOptions {
  chunker: string;
  min?: string;
  avg?: string;
  max?: string;
  normalization?: string;
}

/** The action of `cairn repo init` (its options: ../commands/repo.ts). */
export async function repoInitAction(ctx: CommandContext, opts: InitOptions): Promise<void> {
  const g = ctx.globals();
  const location = resolveRepository(g, ctx.io);
  let chunker: ChunkerConfig;
  if (opts.chunker === 'rabin') {
    if (opts.min ?? opts.avg ?? opts.max ?? opts.normalization) throw new CairnError('ERR_USAGE', '--min/--avg/--max/--normalization apply to --chunker fastcdc only (restic\'s Rabin chunker has fixed sizes)');
    chunker = { algorithm: 'rabin' };
  } else if (opts.chunker === 'fastcdc') {
    const size = (v: string | undefined, d: number, name: string): number => (v === undefined ? d : parseSize(v, `--${name}`));
    const normalization = opts.normalization === undefined ? FASTCDC_DEFAULTS.normalization : Number(opts.normalization);
    chunker = {
      algorithm: 'fastcdc',
      min: size(opts.min, FASTCDC_DEFAULTS.min, 'min'),
      avg: size(opts.avg, FASTCDC_DEFAULTS.avg, 'avg'),
      max: size(opts.max, FASTCDC_DEFAULTS.max, 'max'),
      normalization,
    };
    if (chunker.min > chunker.avg) throw new CairnError('ERR_CHUNKER_PARAMS', `--min ${chunker.min} is larger than --avg ${chunker.avg}; a repository needs min <= avg <= max`);
  } else {
    throw new CairnError('ERR_INVALID_ARGUMENT', `--chunker must be fastcdc or rabin, got "${opts.chunker}"`);
  }
  const password = await resolvePassword(g, ctx.io, { question: 'enter password for new repository: ', confirm: true });
  const kdf = kdfFromEnv(ctx);
  const backend = await openRepoBackend(ctx, location);
  let created: Repository;
  try {
    created = await Repository.init(backend, password, { chunker, ...(kdf ? { kdf } : {}) });
  } catch (e) {
    await backend.close();
    throw e;
  }
  try {
    if (g.json) {
      printJson(ctx, { message_type: 'initialized', id: created.config.id, repository: redactLocation(location), chunker: created.config.chunker });
    } else {
      const c = created.config.chunker;
      printText(ctx, `created cairn repository ${created.config.id.slice(0, 10)} at ${redactLocation(location)} (restic format version 2, ${c.algorithm === 'fastcdc' ? `fastcdc ${c.min}/${c.avg}/${c.max}, normalization ${c.normalization}` : 'restic\'s rabin chunker'})

Please note that knowledge of your password is required to access
the repository. Losing your password means that your data is
irrecoverably lost.`);
    }
  } finally {
    // audited: run() appends the record, then closes it (audit.ts)
    if (ctx.audit?.adopt(created) !== true) await created.close();
  }
}
