/**
 * The committed wasm modules are exactly what wabt (pinned in package-lock.json) builds from the
 * .wat sources today: the hot loop's binary is reproducible from the repository.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs build script without type declarations
import { compileSource, moduleText, WASM_SOURCES } from '../../scripts/wasm-lib.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Source { wat: string; ts: string }

describe('wasm build', () => {
  for (const src of WASM_SOURCES as Source[]) {
    it(`${src.ts} is up to date with ${src.wat} (run npm run build:wasm if not)`, async () => {
      const compiled = await compileSource(src, readFileSync(root + src.wat, 'utf8'));
      expect(readFileSync(root + src.ts, 'utf8')).toBe(moduleText(src, compiled));
    });
  }
});
