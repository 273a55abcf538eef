/**
 * Reading key files as Go's encoding/json does: an object whose keys match fields
 * case-insensitively (Go's folding), unknown keys ignored. (Writing uses util's Go JSON
 * escaping and base64.)
 */
import { CairnError } from '../errors.js';
import { foldKey } from '../util/index.js';

/**
 * The canonical field a JSON object key selects among `fields`, as Go's decoder matches it: an
 * exact match first, else a case-insensitive one (ASCII letters, plus Go's two special folds:
 * U+017F long s ~ `s` and U+212A Kelvin sign ~ `k`). Undefined for an unknown key (ignored).
 */
export function goFieldFor<F extends string>(key: string, fields: readonly F[]): F | undefined {
  for (const f of fields) if (f === key) return f;
  const folded = foldKey(key);
  for (const f of fields) if (foldKey(f) === folded) return f;
  return undefined;
}

/** Parses JSON that must be an object; ERR_CORRUPT naming `what` otherwise. */
export function parseJsonObject(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CairnError('ERR_CORRUPT', `${what} is not valid JSON (${(e as Error).message}); the file is damaged`, {
      cause: e,
    });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CairnError('ERR_CORRUPT', `${what} is not a JSON object; the file is damaged`);
  }
  return v as Record<string, unknown>;
}

/** RFC 3339 date-time text as Go's `time.Time` decoder accepts it (syntax only). */
export const RFC3339_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;
