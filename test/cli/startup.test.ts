/**
 * Startup stays cheap (spec/performance.md, "Startup"): building the program for one run loads the
 * command definitions only, never a command's action or a library module. `--version`, `--help`
 * and a usage error therefore cost commander and a few CLI files, and a command loads what its
 * action imports when it runs. These checks read the sources: a value import in the wrong place
 * would still work, only slower, so nothing else would notice it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STATS_MODES } from '../../src/index.js';
import { run } from '../../src/cli/main.js';
import { makeIo } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli/', import.meta.url));

/** The static imports of a file that load a module at run time (not `import type`). */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
    if (m[1] === undefined) out.push(m[2]!);
  }
  return out;
}

/** The files run() and bin.ts load before any action: main's own imports, followed. */
const STARTUP = ['bin.ts', 'main.ts', 'audit.ts', 'context.ts', 'output.ts', 'version.ts', 'commands/index.ts'];
const DEFINITIONS = readdirSync(join(CLI, 'commands')).filter((f) => f.endsWith('.ts')).map((f) => `commands/${f}`);

describe('startup', () => {
  it('the command definitions import nothing at run time but other definitions', () => {
    const bad = DEFINITIONS.flatMap((f) => valueImports(join(CLI, f)).filter((s) => !/^\.\/[a-z-]+\.js$/.test(s)).map((s) => `${f} -> ${s}`));
    expect(bad).toEqual([]);
  });

  it('what runs before an action imports no library module and no action', () => {
    const bad = STARTUP.flatMap((f) =>
      valueImports(join(CLI, f))
        .filter((s) => s.startsWith('.'))
        .filter((s) => s === '../index.js' || s.startsWith('./actions/') || s.startsWith('../actions/'))
        .map((s) => `${f} -> ${s}`),
    );
    expect(bad).toEqual([]);
    // ...and everything it imports from the CLI is itself in the list (or a definition).
    const reached = STARTUP.flatMap((f) =>
      valueImports(join(CLI, f))
        .filter((s) => s.startsWith('./'))
        .map((s) => join(f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : '', s).replace(/\.js$/, '.ts')),
    );
    expect(reached.filter((f) => !STARTUP.includes(f) && !DEFINITIONS.includes(f))).toEqual([]);
  });

  it('stats --help lists the library\'s counting modes, in its order', async () => {
    const io = makeIo();
    expect(await run(['help', 'stats'], io)).toBe(0);
    expect(io.out().replace(/\s+/g, ' ')).toContain(`counting mode: ${STATS_MODES.join(', ')}`);
  });
});
