// Builds src/chunker/wasm/*.wat into TypeScript modules holding the binary as base64, with wabt
// (the npm package, pinned in package-lock.json). `npm run build:wasm` rewrites them; the test
// test/chunker/wasm-build.test.ts rebuilds in memory and fails if a committed module is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileSource, WASM_SOURCES, moduleText } from './wasm-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
for (const src of WASM_SOURCES) {
  const compiled = await compileSource(src, readFileSync(root + src.wat, 'utf8'));
  writeFileSync(root + src.ts, moduleText(src, compiled));
  console.log(`${src.wat} -> ${src.ts} (${compiled.map((c) => c.bytes.length).join(' + ')} bytes)`);
}
