/**
 * restic's exclude/include patterns (internal/filter of restic 0.14), matched on bytes.
 *
 * A pattern is an optional `!` (negation), then a path that is cleaned (filepath.Clean: trailing
 * `/`, `//`, `.` and `..` resolved) and split on `/`. A leading `/` becomes a root component that
 * anchors the pattern at the start of the path; `**` is a component that stands for any number of
 * path components; every other component is a filepath.Match pattern for exactly one component.
 *
 * A path is split the same way (not cleaned). A pattern matches a path when its components match a
 * run of consecutive path components: anywhere in the path for a relative pattern (never the root
 * component), at the start for an anchored one. The run need not reach the end of the path, so a
 * pattern that matches a directory matches everything below it.
 *
 * `**` is tried as 0, 1, 2, … plain `*` components, up to (path components − pattern components
 * + 1) of them, where the pattern components still count the `**` and any later `**` as one each.
 * That bound is restic's, and it is why `/**\/b/**` matches `/x/b/c` but neither `/x/b` nor `/b`:
 * kept, since restic's snapshots are what cairn's must equal. (Cleaning turns `/` and `/..` into
 * a root plus an empty component, which restic reads as `**`: those patterns match everything.)
 *
 * ChildMatch (restore's "could something below this directory match?") is always true for a
 * relative pattern; for an anchored one it matches the path against the pattern cut to the path's
 * length (and the path cut at the first `**`).
 *
 * A list of patterns is evaluated in order: a plain pattern that matches sets "matched" (and
 * "child may match" from ChildMatch); a negated one that matches clears both. So `!` re-includes
 * only what an earlier pattern of the same list matched, and cannot re-include anything below a
 * directory that was left out, since the walk never gets there.
 */
import { CairnError } from '../errors.js';
import { encodeUtf8 } from '../util/index.js';
import { goClean, goMatchBytes, goPatternErrorBytes, goToLower, goToLowerBytes } from './go-match.js';
import { SLASH } from './chars.js';

/** A path: text (encoded as UTF-8) or the raw bytes of a file name path, `/`-separated. */
export type PathLike = string | Uint8Array;

const STAR = encodeUtf8('*');
const ROOT = encodeUtf8('/');
const EMPTY = new Uint8Array(0);
const SPECIAL = /[\\[\]*?]/;

interface Part {
  /** Component bytes; empty for `**`, `/` for the root. */
  readonly bytes: Uint8Array;
  /** No wildcard: compare bytes. */
  readonly simple: boolean;
  readonly kind: 'root' | 'any' | 'name';
  /** `*literal` / `literal*` with a plain literal: compare that end (the common `*.o`). */
  readonly suffix?: Uint8Array;
  readonly prefix?: Uint8Array;
}

interface Compiled {
  readonly original: string;
  readonly negated: boolean;
  readonly parts: readonly Part[];
}

const STAR_PART: Part = { bytes: STAR, simple: false, kind: 'name' };

function part(text: string, index: number): Part {
  if (index === 0 && text === '') return { bytes: ROOT, simple: true, kind: 'root' };
  if (text === '**' || text === '') return { bytes: EMPTY, simple: true, kind: 'any' };
  const bytes = encodeUtf8(text);
  if (!SPECIAL.test(text)) return { bytes, simple: true, kind: 'name' };
  if (text.length > 1 && text.startsWith('*') && !SPECIAL.test(text.slice(1))) return { bytes, simple: false, kind: 'name', suffix: encodeUtf8(text.slice(1)) };
  if (text.length > 1 && text.endsWith('*') && !SPECIAL.test(text.slice(0, -1))) return { bytes, simple: false, kind: 'name', prefix: encodeUtf8(text.slice(0, -1)) };
  return { bytes, simple: false, kind: 'name' };
}

function endsWith(c: Uint8Array, s: Uint8Array): boolean {
  const off = c.length - s.length;
  if (off < 0) return false;
  for (let i = 0; i < s.length; i++) if (c[off + i] !== s[i]) return false;
  return true;
}

function startsWith(c: Uint8Array, s: Uint8Array): boolean {
  if (c.length < s.length) return false;
  for (let i = 0; i < s.length; i++) if (c[i] !== s[i]) return false;
  return true;
}

function compileOne(pattern: string): Compiled {
  const negated = pattern.startsWith('!');
  const body = negated ? pattern.slice(1) : pattern;
  const parts = goClean(body).split('/').map(part);
  return { original: pattern, negated, parts };
}

/** A path's components, as restic splits them: a leading `/` becomes the root component. */
function splitPath(path: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path[i] === SLASH) {
      out.push(out.length === 0 && i === 0 ? ROOT : path.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isRoot(c: Uint8Array): boolean {
  return c === ROOT || (c.length === 1 && c[0] === SLASH);
}

function partMatches(p: Part, c: Uint8Array): boolean {
  // A component never holds a slash; the root marker is the one that does, and `*` never matches it.
  if (p === STAR_PART) return !isRoot(c);
  if (p.suffix !== undefined) return endsWith(c, p.suffix) && !isRoot(c);
  if (p.prefix !== undefined) return startsWith(c, p.prefix) && !isRoot(c);
  return p.simple ? equalBytes(p.bytes, c) : goMatchBytes(p.bytes, c);
}

function firstAny(parts: readonly Part[]): number {
  for (let i = 0; i < parts.length; i++) if (parts[i]!.kind === 'any') return i;
  return -1;
}

function matchParts(parts: readonly Part[], comps: readonly Uint8Array[]): boolean {
  const any = firstAny(parts);
  if (any >= 0) {
    // `**` as k = 0, 1, … plain `*` components, k bounded as restic bounds it.
    const most = comps.length - parts.length + 1;
    const buf: Part[] = parts.slice(0, any);
    for (let k = 0; k <= most; k++) {
      buf.length = any + k;
      if (k > 0) buf[any + k - 1] = STAR_PART;
      for (let j = any + 1; j < parts.length; j++) buf.push(parts[j]!);
      if (matchParts(buf, comps)) return true;
    }
    return false;
  }
  if (parts.length === 0) return comps.length === 0;
  if (parts.length > comps.length) return false;
  let minOffset = 0;
  let maxOffset = comps.length - parts.length;
  if (parts[0]!.kind === 'root') maxOffset = 0;
  else if (isRoot(comps[0]!)) minOffset = 1;
  for (let offset = maxOffset; offset >= minOffset; offset--) {
    let ok = true;
    for (let i = parts.length - 1; i >= 0; i--) {
      if (!partMatches(parts[i]!, comps[offset + i]!)) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
  }
  return false;
}

function childMatchParts(parts: readonly Part[], comps: readonly Uint8Array[]): boolean {
  if (parts[0]!.kind !== 'root') return true;
  const any = firstAny(parts);
  const cut = any >= 0 && comps.length >= any ? comps.slice(0, any) : comps;
  const l = Math.min(cut.length, parts.length);
  return matchParts(parts.slice(0, l), cut);
}

/** What a pattern list says about one path (restic's filter.ListWithChild). */
export interface PatternVerdict {
  /** The path matches (after negations). */
  readonly matched: boolean;
  /** Something below the path could match (restic's childMayMatch). */
  readonly childMayMatch: boolean;
}

export interface PatternOptions {
  /**
   * Lower-case patterns and paths first (strings.ToLower), as restic's --iexclude/--iinclude do.
   * @default false
   */
  readonly caseInsensitive?: boolean;
}

/**
 * The patterns of `patterns` that restic rejects as malformed (filter.ValidatePatterns): some
 * component is not a valid filepath.Match pattern. Empty patterns are skipped, as restic skips them.
 */
export function invalidPatterns(patterns: readonly string[]): string[] {
  const bad: string[] = [];
  for (const p of patterns) {
    if (p === '') continue;
    if (compileOne(p).parts.some((x) => x.kind === 'name' && goPatternErrorBytes(x.bytes) !== undefined)) bad.push(p);
  }
  return bad;
}

/** A compiled list of restic patterns. Build it with `compilePatterns`. */
export class PatternSet {
  /** The patterns as given (empty ones dropped), before any lower-casing. */
  readonly patterns: readonly string[];
  readonly caseInsensitive: boolean;
  readonly #compiled: readonly Compiled[];
  readonly #hasNegated: boolean;

  /** @internal use compilePatterns */
  constructor(patterns: readonly string[], caseInsensitive: boolean) {
    this.patterns = patterns;
    this.caseInsensitive = caseInsensitive;
    this.#compiled = patterns.map((p) => compileOne(caseInsensitive ? goToLower(p) : p));
    this.#hasNegated = this.#compiled.some((c) => c.negated);
  }

  /** No patterns: nothing matches. */
  get isEmpty(): boolean {
    return this.#compiled.length === 0;
  }

  /** restic's filter.List: does the list match `path` (absolute, `/`-separated)? */
  matches(path: PathLike): boolean {
    return this.#list(path, false).matched;
  }

  /** restic's childMayMatch of filter.ListWithChild: could something below `path` match? */
  childMayMatch(path: PathLike): boolean {
    return this.#list(path, true).childMayMatch;
  }

  /** Both answers at once (restic's filter.ListWithChild). */
  verdict(path: PathLike): PatternVerdict {
    return this.#list(path, true);
  }

  #list(path: PathLike, withChild: boolean): PatternVerdict {
    if (this.#compiled.length === 0) return { matched: false, childMayMatch: false };
    let bytes = typeof path === 'string' ? encodeUtf8(path) : path;
    if (bytes.length === 0) return { matched: false, childMayMatch: false };
    if (this.caseInsensitive) bytes = goToLowerBytes(bytes);
    const comps = splitPath(bytes);
    let matched = false;
    let child = false;
    for (const c of this.#compiled) {
      const m = matchParts(c.parts, comps);
      if (c.negated) {
        matched = matched && !m;
        child = child && !m;
      } else {
        matched = matched || m;
        child = child || (withChild ? childMatchParts(c.parts, comps) : true);
        if (matched && child && !this.#hasNegated) break;
      }
    }
    return { matched, childMayMatch: child };
  }
}

/**
 * Compiles restic exclude/include patterns. Empty patterns are dropped (restic ignores them);
 * a malformed one throws ERR_INVALID_ARGUMENT naming every bad pattern, as restic refuses to run.
 */
export function compilePatterns(patterns: readonly string[], options: PatternOptions = {}): PatternSet {
  const kept = patterns.filter((p) => p !== '');
  assertValid(kept);
  return new PatternSet(kept, options.caseInsensitive ?? false);
}

function assertValid(patterns: readonly string[]): void {
  const bad = invalidPatterns(patterns);
  if (bad.length > 0) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `invalid pattern${bad.length > 1 ? 's' : ''}: ${bad.map((b) => JSON.stringify(b)).join(', ')} (see spec/patterns.md)`, {
      data: { patterns: bad },
    });
  }
}

/** restic's filter.Match for one pattern (an empty pattern matches everything). */
export function matchPattern(pattern: string, path: PathLike): boolean {
  if (pattern === '') return true;
  return compilePatterns([pattern]).matches(path);
}

/** restic's filter.ChildMatch for one pattern (an empty pattern matches everything). */
export function childMatchPattern(pattern: string, path: PathLike): boolean {
  if (pattern === '') return true;
  const bytes = typeof path === 'string' ? encodeUtf8(path) : path;
  if (bytes.length === 0) return false;
  assertValid([pattern]);
  return childMatchParts(compileOne(pattern).parts, splitPath(bytes));
}
