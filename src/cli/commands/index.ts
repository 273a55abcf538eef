/**
 * The command registry: every command cairn offers, in the order `cairn --help` lists them.
 * Each command lives in its own file in this folder and exports one `RegisterCommand`
 * (see ../main.ts for the pattern). To add a command, write `./<name>.ts` and add its
 * register function to `COMMANDS` below.
 */
import type { RegisterCommand } from '../context.js';
import { registerChunk } from './chunk.js';

export const COMMANDS: readonly RegisterCommand[] = [registerChunk];
