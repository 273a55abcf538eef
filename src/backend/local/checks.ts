/**
 * Entry checks every backend runs before touching storage: a handle names a file the layout can
 * hold (never a path: `../x` or a stray name cannot reach the file system), and a load range is a
 * pair of non-negative integers that ends inside the file. Shared by the local and memory backends.
 */
import { CairnError } from '../../errors.js';
import { isId, type FileType } from '../../model/index.js';
import type { FileInfo, Handle } from '../types.js';

export const FILE_TYPES: readonly FileType[] = ['config', 'key', 'pack', 'index', 'snapshot', 'lock', 'audit'];

/** True when `name` is the name a file of `type` has: `config`, or 64 lowercase hex digits. */
export function isValidName(type: FileType, name: string): boolean {
  return type === 'config' ? name === 'config' : isId(name);
}

/** Throws ERR_INVALID_ARGUMENT unless `type` is a file type. */
export function checkType(type: FileType, location: string): void {
  if (!FILE_TYPES.includes(type)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${location}: "${String(type)}" is not a repository file type (one of ${FILE_TYPES.join(', ')}); this is a bug in the caller`, {
      data: { type },
    });
  }
}

/** Throws ERR_INVALID_ARGUMENT unless `h` names a file of its type. */
export function checkHandle(h: Handle, location: string): void {
  checkType(h.type, location);
  if (typeof h.name !== 'string' || !isValidName(h.type, h.name)) {
    const want = h.type === 'config' ? '"config"' : '64 lowercase hexadecimal digits';
    throw new CairnError('ERR_INVALID_ARGUMENT', `${location}: ${JSON.stringify(h.name)} is not a valid name for a ${h.type} file (want ${want}); this is a bug in the caller`, {
      data: { type: h.type, name: h.name },
    });
  }
}

/** Throws ERR_INVALID_ARGUMENT unless offset (and length, if given) are safe non-negative integers. */
export function checkRangeArgs(h: Handle, location: string, offset: number, length: number | undefined): void {
  const bad = (v: number): boolean => !Number.isSafeInteger(v) || v < 0;
  if (bad(offset) || (length !== undefined && bad(length))) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${location}: cannot read ${describe(h)} at offset ${offset} length ${String(length)}: offset and length must be non-negative integers; this is a bug in the caller`, {
      data: { type: h.type, name: h.name, offset, length },
    });
  }
}

/** The number of bytes to read, or ERR_INVALID_ARGUMENT when the range ends past `size`. */
export function rangeLength(h: Handle, location: string, offset: number, length: number | undefined, size: number): number {
  const end = length === undefined ? size : offset + length;
  if (offset > size || end > size) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${location}: cannot read bytes ${offset}..${end} of ${describe(h)}, which has ${size} bytes: the range ends past the end of the file; check the offset and length (a stale or damaged index can cause this)`, {
      data: { type: h.type, name: h.name, offset, length, size },
    });
  }
  return end - offset;
}

/** ERR_NOT_FOUND for a missing file, with `data: { type, name }`. */
export function notFound(h: Handle, where: string, cause?: unknown): CairnError {
  return new CairnError('ERR_NOT_FOUND', `${describe(h)} does not exist in ${where}; run \`cairn check\` to see what else is missing`, {
    data: { type: h.type, name: h.name },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** `pack 0123abcd…` or `the config file`, for messages. */
export function describe(h: Handle): string {
  return h.type === 'config' ? 'the config file' : `${h.type} file ${h.name}`;
}

/**
 * The listing of `config` on a store that has no directory for it: the one file, with its size
 * from `stat`, or nothing when it does not exist.
 */
export async function* listConfig(stat: (h: Handle) => Promise<FileInfo>): AsyncGenerator<FileInfo> {
  try {
    yield await stat({ type: 'config', name: 'config' });
  } catch (e) {
    if (!(e instanceof CairnError && e.code === 'ERR_NOT_FOUND')) throw e;
  }
}
