/**
 * git's wildmatch on bytes (the matcher behind .gitignore), without case folding.
 *
 * `?` is one byte and `*` any bytes, except `/` when `pathname` is set (git's WM_PATHNAME, used
 * for patterns that contain a slash). With `pathname`, `**` between slashes (or at either end) is
 * any number of whole directories: `**\/x` matches `x` and `a/b/x`, `a/**` everything inside `a`,
 * `a/**\/b` `a/b` and `a/x/y/b`; any other `**` is a plain `*`. `[...]` is one byte from a set,
 * negated by a leading `!` or `^`, with `a-z` ranges, `\` escapes, a `]` first is a member,
 * and the POSIX classes `[:alpha:]` etc. (ASCII only). `\c` is the byte c. A pattern ending in `\`
 * or with an unclosed `[` matches nothing.
 *
 * The result codes mirror git's so the same early exits happen: ABORT_ALL (the text ran out, no
 * later start can help) and ABORT_TO_STARSTAR (a single `*` met a `/`: only an outer `**` can
 * carry on).
 */
import { BACKSLASH, BANG, CARET, CLOSE, COLON, DASH, OPEN, QUESTION, SLASH, STAR } from './chars.js';

const MATCH = 1;
const NOMATCH = 0;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;

const isGlobSpecial = (c: number): boolean => c === STAR || c === QUESTION || c === OPEN || c === BACKSLASH;

const isUpper = (c: number): boolean => c >= 0x41 && c <= 0x5a;
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => isUpper(c) || isLower(c);
const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;
const isPunct = (c: number): boolean => isPrint(c) && c !== 0x20 && !isAlpha(c) && !isDigit(c);

/** POSIX class by name; undefined for an unknown name (the pattern then matches nothing). */
function inClass(name: string, c: number): boolean | undefined {
  switch (name) {
    case 'alnum': return isAlpha(c) || isDigit(c);
    case 'alpha': return isAlpha(c);
    case 'blank': return c === 0x20 || c === 0x09;
    case 'cntrl': return c < 0x20 || c === 0x7f;
    case 'digit': return isDigit(c);
    case 'graph': return isPrint(c) && c !== 0x20;
    case 'lower': return isLower(c);
    case 'print': return isPrint(c);
    case 'punct': return isPunct(c);
    case 'space': return isSpace(c);
    case 'upper': return isUpper(c);
    case 'xdigit': return isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    default: return undefined;
  }
}

function indexOf(t: Uint8Array, c: number, from: number, end: number): number {
  for (let i = from; i < end; i++) if (t[i] === c) return i;
  return -1;
}

function dowild(p: Uint8Array, pi: number, t: Uint8Array, ti: number, pathname: boolean): number {
  const pe = p.length;
  const te = t.length;
  const start = pi;
  const at = (i: number): number => (i < pe ? p[i]! : 0);
  for (; pi < pe; ti++, pi++) {
    let pc = p[pi]!;
    if (ti >= te && pc !== STAR) return ABORT_ALL;
    const tc = ti < te ? t[ti]! : 0;
    switch (pc) {
      case BACKSLASH:
        pc = at(++pi);
        if (tc !== pc) return NOMATCH;
        continue;
      case QUESTION:
        if (pathname && tc === SLASH) return NOMATCH;
        continue;
      case STAR: {
        let matchSlash: boolean;
        if (at(++pi) === STAR) {
          const prev = pi - 2;
          while (at(++pi) === STAR) {
            /* a run of stars is one `**` */
          }
          if (!pathname) matchSlash = true;
          else if ((prev < start || p[prev] === SLASH) && (pi >= pe || p[pi] === SLASH || (p[pi] === BACKSLASH && at(pi + 1) === SLASH))) {
            if (p[pi] === SLASH && dowild(p, pi + 1, t, ti, pathname) === MATCH) return MATCH;
            matchSlash = true;
          } else matchSlash = false;
        } else matchSlash = !pathname;
        if (pi >= pe) {
          if (!matchSlash && indexOf(t, SLASH, ti, te) >= 0) return NOMATCH;
          return MATCH;
        }
        if (!matchSlash && p[pi] === SLASH) {
          const slash = indexOf(t, SLASH, ti, te);
          if (slash < 0) return NOMATCH;
          ti = slash; // the loop's increment consumes the slash in both
          continue;
        }
        for (;;) {
          if (ti >= te) break;
          const next = p[pi]!;
          if (!isGlobSpecial(next)) {
            while (ti < te && (matchSlash || t[ti] !== SLASH) && t[ti] !== next) ti++;
            if (ti >= te || t[ti] !== next) return NOMATCH;
          }
          const m = dowild(p, pi, t, ti, pathname);
          if (m !== NOMATCH) {
            if (!matchSlash || m !== ABORT_TO_STARSTAR) return m;
          } else if (!matchSlash && t[ti] === SLASH) return ABORT_TO_STARSTAR;
          ti++;
        }
        return ABORT_ALL;
      }
      case OPEN: {
        pc = at(++pi);
        if (pc === CARET) pc = BANG;
        const negated = pc === BANG;
        if (negated) pc = at(++pi);
        let prev = 0;
        let matched = false;
        do {
          if (pc === 0) return ABORT_ALL;
          if (pc === BACKSLASH) {
            pc = at(++pi);
            if (pc === 0) return ABORT_ALL;
            if (tc === pc) matched = true;
          } else if (pc === DASH && prev !== 0 && at(pi + 1) !== 0 && at(pi + 1) !== CLOSE) {
            pc = at(++pi);
            if (pc === BACKSLASH) {
              pc = at(++pi);
              if (pc === 0) return ABORT_ALL;
            }
            if (tc <= pc && tc >= prev) matched = true;
            pc = 0;
          } else if (pc === OPEN && at(pi + 1) === COLON) {
            const s = pi + 2;
            let j = s;
            while (at(j) !== 0 && at(j) !== CLOSE) j++;
            if (at(j) === 0) return ABORT_ALL;
            const len = j - s - 1;
            if (len < 0 || p[j - 1] !== COLON) {
              // No ":]": the `[` is an ordinary member.
              pi = s - 2;
              pc = OPEN;
              if (tc === pc) matched = true;
              continue;
            }
            const m = inClass(String.fromCharCode(...p.subarray(s, s + len)), tc);
            if (m === undefined) return ABORT_ALL;
            if (m) matched = true;
            pi = j;
            pc = 0;
          } else if (tc === pc) matched = true;
        } while (((prev = pc), (pc = at(++pi))) !== CLOSE);
        if (matched === negated || (pathname && tc === SLASH)) return NOMATCH;
        continue;
      }
      default:
        if (tc !== pc) return NOMATCH;
        continue;
    }
  }
  return ti >= te ? MATCH : NOMATCH;
}

/** git's wildmatch(pattern, text, pathname ? WM_PATHNAME : 0) === WM_MATCH, on bytes. */
export function wildmatch(pattern: Uint8Array, text: Uint8Array, pathname: boolean): boolean {
  return dowild(pattern, 0, text, 0, pathname) === MATCH;
}
