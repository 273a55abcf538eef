/**
 * Extended attributes as tree nodes hold them (names as text, values as bytes), read and written
 * without following symlinks, through the native module. Without the module (not built), reading
 * finds none and writing fails with ERR_UNSUPPORTED naming the fix.
 */
import type { ExtendedAttribute } from '../tree/index.js';
import { listXattrs, nativeAvailable, setXattr } from './native.js';

/** The entry's extended attributes, in the order the kernel lists them (as restic records them). */
export function readXattrs(path: Uint8Array): ExtendedAttribute[] {
  if (!nativeAvailable()) return [];
  return listXattrs(path).map((x) => ({ name: Buffer.from(x.name).toString('utf8'), value: x.value }));
}

export function writeXattrs(path: Uint8Array, xattrs: readonly ExtendedAttribute[]): void {
  for (const x of xattrs) setXattr(path, Buffer.from(x.name, 'utf8'), x.value);
}
