/**
 * Loading cairn's own N-API addon (native/cairn_native.c, built by `npm run build:native`): the
 * file-system calls Node lacks (fs/native.ts) and restic's seal in one call through Node's
 * OpenSSL (crypto/seal.ts). Loading never throws: callers check `addon` and fall back, or report
 * `addonLoadError` with the advice to build it.
 */
import { createRequire } from 'node:module';

/** Relative to this file, which is src/util/ under vitest and dist/util/ once built. */
export const ADDON_PATH = '../../native/build/Release/cairn_native.node';

let loaded: unknown;
let failure: unknown;
try {
  loaded = createRequire(import.meta.url)(ADDON_PATH);
} catch (e) {
  failure = e;
}

/** The addon's exports (typed by each user for the part it calls), or undefined when missing. */
export function nativeAddon<T>(): T | undefined {
  return loaded as T | undefined;
}

/** Why the addon did not load (undefined when it did). */
export function addonLoadError(): unknown {
  return failure;
}
