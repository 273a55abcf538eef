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

/**
 * How much free memory at the top of the C heap the process keeps before returning it to the
 * system (glibc's M_TRIM_THRESHOLD, 1 MiB here). Setting it also stops glibc from raising its mmap
 * threshold (128 KiB) as large buffers are freed, which otherwise moves every buffer up to 32 MiB
 * into the heap, where freed ones stay resident: a first snapshot of /usr/share peaked at
 * 279–296 MB, 246–265 MB with this, in the same time. Process-wide, so only the CLI asks for it
 * (when a command opens a repository); a program that embeds the library decides for itself.
 * False when nothing changed (no addon, or a C library other than glibc).
 */
export function trimRetainedMemory(): boolean {
  const addon = loaded as { trimMalloc?: (bytes: number) => boolean } | undefined;
  return addon?.trimMalloc?.(TRIM_THRESHOLD) ?? false;
}

const TRIM_THRESHOLD = 1 << 20;
