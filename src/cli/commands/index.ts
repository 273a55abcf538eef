/**
 * The command registry: every command cairn offers, in the order `cairn --help` lists them.
 * Each command's definition (arguments, options, help) lives in its own file in this folder and
 * exports one `RegisterCommand`; its action lives in ../actions/ and is imported only when the
 * command runs (see ../main.ts for the pattern). A definition imports nothing but types and other
 * definitions, so building the whole program for one command stays cheap. To add a command,
 * write `./<name>.ts` and `../actions/<name>.ts` and add its register function to `COMMANDS`.
 */
import type { RegisterCommand } from '../context.js';
import { registerBench } from './bench.js';
import { registerCompletion } from './completion.js';
import { registerCopy } from './copy.js';
import { registerCat } from './cat.js';
import { registerCheck } from './check.js';
import { registerChunk } from './chunk.js';
import { registerDiff } from './diff.js';
import { registerDump } from './dump.js';
import { registerFind } from './find.js';
import { registerForget } from './forget.js';
import { registerKey } from './key.js';
import { registerLog } from './log.js';
import { registerLs } from './ls.js';
import { registerPlan } from './plan.js';
import { registerPrune } from './prune.js';
import { registerRepair } from './repair.js';
import { registerRepo } from './repo.js';
import { registerRestore } from './restore.js';
import { registerSnapshot } from './snapshot.js';
import { registerSnapshots } from './snapshots.js';
import { registerStats } from './stats.js';
import { registerTag } from './tag.js';
import { registerUnlock } from './unlock.js';

export const COMMANDS: readonly RegisterCommand[] = [registerRepo, registerSnapshot, registerSnapshots, registerForget, registerPrune, registerLs, registerFind, registerDiff, registerStats, registerTag, registerCopy, registerRestore, registerDump, registerCat, registerCheck, registerRepair, registerKey, registerUnlock, registerLog, registerChunk, registerBench, registerPlan, registerCompletion];
