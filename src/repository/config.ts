/**
 * The repository `config` file (encrypted with the master key, never compressed):
 *
 *   {"version":2,"id":"<64 hex>","chunker_polynomial":"<hex>","cairn":{"chunker":{…}}}
 *
 * `version`, `id` and `chunker_polynomial` are restic's. `cairn` is cairn's own: the chunker the
 * repository's snapshots use. restic reads the config with Go's encoding/json, which ignores
 * fields it does not know, so it opens cairn repositories as usual; a config without `cairn`
 * (every restic-made repository) means restic's Rabin chunker with `chunker_polynomial`.
 */
import { randomBytes } from 'node:crypto';
import { CairnError, messageOf } from '../errors.js';
import { formatPolynomial, parsePolynomial, validatePolynomial, randomPolynomial, fastCdcParams } from '../chunker/index.js';
import { idFromBytes, isId, type Id } from '../model/index.js';
import { describeValue } from '../util/index.js';

export type ChunkerConfig =
  | { readonly algorithm: 'fastcdc'; readonly min: number; readonly avg: number; readonly max: number; readonly normalization: number }
  | { readonly algorithm: 'rabin' };

export interface RepoConfig {
  /** 1 or 2; cairn creates 2. */
  readonly version: 1 | 2;
  readonly id: Id;
  readonly chunkerPolynomial: bigint;
  /** cairn's chunker; absent in restic-made repositories (then: Rabin). */
  readonly chunker: ChunkerConfig;
}

export function newConfig(chunker: ChunkerConfig): RepoConfig {
  if (chunker.algorithm === 'fastcdc') fastCdcParams(chunker); // validates the sizes
  return { version: 2, id: idFromBytes(randomBytes(32)), chunkerPolynomial: randomPolynomial(), chunker };
}

export function encodeConfig(c: RepoConfig): Uint8Array {
  const doc: Record<string, unknown> = { version: c.version, id: c.id, chunker_polynomial: formatPolynomial(c.chunkerPolynomial) };
  if (c.chunker.algorithm === 'fastcdc') {
    const { min, avg, max, normalization } = c.chunker;
    doc['cairn'] = { chunker: { algorithm: 'fastcdc', min, avg, max, normalization } };
  }
  return new TextEncoder().encode(JSON.stringify(doc));
}

export function decodeConfig(bytes: Uint8Array, what = 'config'): RepoConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new CairnError('ERR_CORRUPT', `${what}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CairnError('ERR_CORRUPT', `${what}: not a JSON object`);
  const o = doc as Record<string, unknown>;
  const version = o['version'];
  if (version !== 1 && version !== 2) {
    throw new CairnError('ERR_UNSUPPORTED', `${what}: repository format version ${describeValue(version)} is not supported (cairn reads versions 1 and 2)`, {
      data: { version: typeof version === 'number' ? version : describeValue(version) },
    });
  }
  const id = o['id'];
  if (typeof id !== 'string' || !isId(id)) throw new CairnError('ERR_CORRUPT', `${what}: "id" is not 64 hex digits`);
  const pol = o['chunker_polynomial'];
  if (typeof pol !== 'string') throw new CairnError('ERR_CORRUPT', `${what}: "chunker_polynomial" is missing`);
  let polynomial: bigint;
  try {
    polynomial = validatePolynomial(parsePolynomial(pol));
  } catch (e) {
    throw new CairnError('ERR_CORRUPT', `${what}: invalid chunker polynomial ${describeValue(pol)}: ${messageOf(e)}`, { cause: e });
  }
  return { version, id, chunkerPolynomial: polynomial, chunker: decodeChunker(o['cairn'], what) };
}

function decodeChunker(cairn: unknown, what: string): ChunkerConfig {
  if (cairn === undefined) return { algorithm: 'rabin' };
  const c = (cairn as { chunker?: Record<string, unknown> } | null)?.chunker;
  if (typeof c !== 'object' || c === null) throw new CairnError('ERR_CORRUPT', `${what}: "cairn.chunker" is missing`);
  if (c['algorithm'] === 'rabin') return { algorithm: 'rabin' };
  if (c['algorithm'] !== 'fastcdc') throw new CairnError('ERR_UNSUPPORTED', `${what}: chunker ${describeValue(c['algorithm'])} is not one cairn knows (fastcdc, rabin); a newer cairn may`);
  const num = (k: string): number => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new CairnError('ERR_CORRUPT', `${what}: cairn.chunker.${k} is not an integer`);
    return v;
  };
  const chunker = { algorithm: 'fastcdc', min: num('min'), avg: num('avg'), max: num('max'), normalization: num('normalization') } as const;
  try {
    fastCdcParams(chunker);
  } catch (e) {
    throw new CairnError('ERR_CORRUPT', `${what}: cairn.chunker: ${messageOf(e)}`, { cause: e });
  }
  return chunker;
}
