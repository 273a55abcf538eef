/**
 * Go's `path/filepath` pieces that restic's patterns are built on, on UTF-8 bytes as Go sees a
 * string (restic 0.14 is built with Go 1.19):
 *
 * - `goMatch`: filepath.Match for one name. `*` is any run of bytes without `/`, `?` one rune
 *   (an invalid byte counts as one rune), `[...]` / `[^...]` a class of runes with `lo-hi` ranges
 *   and `\` escapes, `\c` the byte c. A class never starts with `]` and there is no `[!...]`
 *   negation: `!` is an ordinary member. The star tries every byte position, as Go does.
 * - `goPatternError`: Go 1.19's ErrBadPattern check. It depends on the pattern only (Go 1.16+
 *   parses the rest of the pattern even after a mismatch), so patterns are checked once, up front.
 * - `goClean`: filepath.Clean (`//`, `.`, `..` and trailing slashes resolved lexically).
 * - `goToLower` / `goToLowerBytes`: strings.ToLower, rune by rune with simple case mapping
 *   (U+0130 becomes `i`, not `i̇`; no final-sigma rule); an invalid byte becomes U+FFFD, as
 *   strings.Map writes it.
 */
import { encodeUtf8, runeAt } from '../util/index.js';
import { BACKSLASH, CARET, CLOSE, DASH, OPEN, QUESTION, SLASH, STAR } from './chars.js';

/** The rune at `b[i]` as Go's DecodeRune reads it: `(rune << 3) | width`; invalid → U+FFFD, width 1. */
function rune(b: Uint8Array, i: number): number {
  const r = runeAt(b, i);
  return r < 0 ? (0xfffd << 3) | 1 : r;
}

// scanChunk's results, in module state so the hot loop allocates nothing.
let chunkStar = false;
let chunkStart = 0;
let chunkEnd = 0;

/**
 * The next chunk of pattern `p` from `i`: leading stars are skipped (chunkStar), then the chunk
 * runs to the next `*` outside a class: p[chunkStart..chunkEnd).
 */
function scanChunk(p: Uint8Array, i: number, end: number): void {
  let star = false;
  while (i < end && p[i] === STAR) {
    i++;
    star = true;
  }
  const start = i;
  let inRange = false;
  for (; i < end; i++) {
    const c = p[i]!;
    if (c === BACKSLASH) {
      if (i + 1 < end) i++;
    } else if (c === OPEN) inRange = true;
    else if (c === CLOSE) inRange = false;
    else if (c === STAR && !inRange) break;
  }
  chunkStar = star;
  chunkStart = start;
  chunkEnd = i;
}

/** One class member (`\c` or c), for a pattern known to be valid: [rune, next index]. */
function classChar(p: Uint8Array, k: number): [number, number] {
  if (p[k] === BACKSLASH) k++;
  const r = rune(p, k);
  return [r >> 3, k + (r & 7)];
}

/**
 * Matches chunk p[cs..ce) (literals, `?`, classes; no star) at the start of s[si..]: the index
 * after the match, or -1. The pattern must be valid.
 */
function matchChunk(p: Uint8Array, cs: number, ce: number, s: Uint8Array, si: number): number {
  let k = cs;
  const n = s.length;
  while (k < ce) {
    if (si >= n) return -1;
    const c = p[k]!;
    if (c === OPEN) {
      const r = rune(s, si);
      si += r & 7;
      const ch = r >> 3;
      k++;
      let negated = false;
      if (k < ce && p[k] === CARET) {
        negated = true;
        k++;
      }
      let matched = false;
      let ranges = 0;
      for (;;) {
        if (k < ce && p[k] === CLOSE && ranges > 0) {
          k++;
          break;
        }
        let lo: number;
        let hi: number;
        [lo, k] = classChar(p, k);
        hi = lo;
        if (p[k] === DASH) [hi, k] = classChar(p, k + 1);
        if (lo <= ch && ch <= hi) matched = true;
        ranges++;
      }
      if (matched === negated) return -1;
    } else if (c === QUESTION) {
      if (s[si] === SLASH) return -1;
      si += rune(s, si) & 7;
      k++;
    } else {
      if (c === BACKSLASH) k++;
      if (p[k] !== s[si]) return -1;
      si++;
      k++;
    }
  }
  return si;
}

function indexOfSlash(s: Uint8Array, from: number): number {
  for (let i = from; i < s.length; i++) if (s[i] === SLASH) return i;
  return -1;
}

/** filepath.Match(pattern, name) for a pattern `goPatternError` accepts. */
export function goMatchBytes(p: Uint8Array, name: Uint8Array): boolean {
  const pe = p.length;
  const n = name.length;
  let pi = 0;
  let ni = 0;
  outer: while (pi < pe) {
    scanChunk(p, pi, pe);
    const star = chunkStar;
    const cs = chunkStart;
    const ce = chunkEnd;
    pi = ce;
    if (star && cs === ce) return indexOfSlash(name, ni) < 0;
    const t = matchChunk(p, cs, ce, name, ni);
    if (t >= 0 && (t === n || pi < pe)) {
      ni = t;
      continue;
    }
    if (star) {
      for (let i = ni; i < n && name[i] !== SLASH; i++) {
        const t2 = matchChunk(p, cs, ce, name, i + 1);
        if (t2 >= 0) {
          if (pi === pe && t2 < n) continue;
          ni = t2;
          continue outer;
        }
      }
    }
    return false;
  }
  return ni === n;
}

/**
 * Why Go 1.19's filepath.Match would return ErrBadPattern for `p`, or undefined if it would not:
 * a `\` at the end, an unclosed or empty class, a class member that is `-`/`]` where a character
 * is due, or an invalid UTF-8 byte inside a class.
 */
export function goPatternErrorBytes(p: Uint8Array): string | undefined {
  const pe = p.length;
  let pi = 0;
  while (pi < pe) {
    scanChunk(p, pi, pe);
    const cs = chunkStart;
    const ce = chunkEnd;
    pi = ce;
    let k = cs;
    while (k < ce) {
      const c = p[k]!;
      if (c === OPEN) {
        k++;
        if (k < ce && p[k] === CARET) k++;
        let ranges = 0;
        for (;;) {
          if (k < ce && p[k] === CLOSE && ranges > 0) {
            k++;
            break;
          }
          for (let side = 0; side < 2; side++) {
            if (k >= ce || p[k] === DASH || p[k] === CLOSE) return 'a character class is unclosed or has a missing member';
            if (p[k] === BACKSLASH) {
              k++;
              if (k >= ce) return 'a character class ends in "\\"';
            }
            if (runeAt(p, k) < 0) return 'a character class holds invalid UTF-8';
            k += runeAt(p, k) & 7;
            if (k >= ce) return 'a character class is unclosed';
            if (side === 0) {
              if (p[k] !== DASH) break;
              k++;
            }
          }
          ranges++;
        }
      } else if (c === BACKSLASH) {
        k++;
        if (k >= ce) return 'the pattern ends in "\\"';
        k++;
      } else {
        k++;
      }
    }
  }
  return undefined;
}

/** filepath.Match(pattern, name) on text; throws nothing, returns false for a bad pattern. */
export function goMatch(pattern: string, name: string): boolean {
  const p = encodeUtf8(pattern);
  if (goPatternErrorBytes(p) !== undefined) return false;
  return goMatchBytes(p, encodeUtf8(name));
}

/** filepath.Clean for `/`-separated paths: lexical, "" → ".", "/.." → "/". */
export function goClean(path: string): string {
  if (path === '') return '.';
  const rooted = path.charCodeAt(0) === SLASH;
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

const lowerCache = new Map<number, number>();

/** unicode.ToLower(r): the simple lowercase mapping (one code point to one). */
function lowerRune(r: number): number {
  if (r < 0x80) return r >= 0x41 && r <= 0x5a ? r + 32 : r;
  const hit = lowerCache.get(r);
  if (hit !== undefined) return hit;
  let out = r;
  if (r === 0x130) out = 0x69;
  else if (r < 0xd800 || r > 0xdfff) {
    const l = String.fromCodePoint(r).toLowerCase();
    const c = l.codePointAt(0)!;
    if (l.length === (c > 0xffff ? 2 : 1)) out = c;
  }
  lowerCache.set(r, out);
  return out;
}

/** strings.ToLower on text (JS strings are valid Unicode apart from lone surrogates). */
export function goToLower(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
  let out = '';
  for (const ch of s) out += String.fromCodePoint(lowerRune(ch.codePointAt(0)!));
  return out;
}

/** strings.ToLower on bytes: ASCII fast path, else rune by rune with invalid bytes → U+FFFD. */
export function goToLowerBytes(b: Uint8Array): Uint8Array {
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    let out: Uint8Array | undefined;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c >= 0x41 && c <= 0x5a) {
        out ??= Uint8Array.from(b);
        out[i] = c + 32;
      }
    }
    return out ?? b;
  }
  let s = '';
  for (let i = 0; i < b.length; ) {
    const r = rune(b, i);
    s += String.fromCodePoint(lowerRune(r >> 3));
    i += r & 7;
  }
  return encodeUtf8(s);
}
