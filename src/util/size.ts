import { CairnError } from '../errors.js';

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kb: 1000, kib: 1024,
  m: 1024 ** 2, mb: 1000 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1000 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1000 ** 4, tib: 1024 ** 4,
};

/**
 * Parses a byte size: `1048576`, `512K`, `1M`, `1MiB`, `1MB` (decimal), `8g`. Single-letter
 * suffixes are binary, as in restic (`--exclude-larger-than 1M` = 1 MiB).
 */
export function parseSize(text: string, what = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${what}: cannot read "${text}" as a size; use a number of bytes or a suffix such as 512K, 1M, 1MiB, 2G`, { data: { value: text } });
  }
  const n = Number(m[1]) * unit;
  if (!Number.isSafeInteger(Math.round(n))) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `${what}: ${text} is too large`, { data: { value: text } });
  }
  return Math.round(n);
}

/** Human-readable binary size: 1.50 MiB. */
export function formatSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(2)} ${units[i]}`;
}
