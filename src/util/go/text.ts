/**
 * Go's view of text, as restic's tree names need it: UTF-8 decoding rune by rune with Go's rules
 * (an invalid or truncated sequence is one bad byte, surrogates and overlong forms are invalid),
 * strconv.IsPrint (Unicode 13.0, the tables of Go 1.19 that restic 0.14 was built with), and
 * strconv.Quote / strconv.Unquote for byte strings.
 *
 * Quote keeps printable runes, writes `\"` and `\\`, the C escapes `\a\b\f\n\r\t\v`, `\xNN` for
 * other bytes below 0x20, for DEL and for every byte that is not part of valid UTF-8, and
 * `\uXXXX` / `\UXXXXXXXX` for the remaining valid but unprintable runes. Unquote reverses it and
 * also accepts Go's other forms (`\ooo` octal, upper-case hex, escaped printable runes, raw
 * control characters except newline).
 */
import { CairnError } from '../../errors.js';
import { describeValue } from '../describe.js';
import { hexByte } from '../hex.js';
import { GO_PRINT_RANGES } from './isprint.js';

/**
 * Decodes the rune starting at `b[i]` with Go's utf8.DecodeRune rules. Returns `(rune << 3) | size`
 * for a valid sequence, or -1 when the byte at `i` does not start one (Go's RuneError of width 1).
 */
export function runeAt(b: Uint8Array, i: number): number {
  const c0 = b[i]!;
  if (c0 < 0x80) return (c0 << 3) | 1;
  const n = b.length;
  if (c0 < 0xc2) return -1;
  if (c0 < 0xe0) {
    if (i + 1 >= n) return -1;
    const c1 = b[i + 1]!;
    if ((c1 & 0xc0) !== 0x80) return -1;
    return ((((c0 & 0x1f) << 6) | (c1 & 0x3f)) << 3) | 2;
  }
  if (c0 < 0xf0) {
    if (i + 2 >= n) return -1;
    const c1 = b[i + 1]!;
    const c2 = b[i + 2]!;
    const lo = c0 === 0xe0 ? 0xa0 : 0x80;
    const hi = c0 === 0xed ? 0x9f : 0xbf;
    if (c1 < lo || c1 > hi || (c2 & 0xc0) !== 0x80) return -1;
    return ((((c0 & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f)) << 3) | 3;
  }
  if (c0 < 0xf5) {
    if (i + 3 >= n) return -1;
    const c1 = b[i + 1]!;
    const c2 = b[i + 2]!;
    const c3 = b[i + 3]!;
    const lo = c0 === 0xf0 ? 0x90 : 0x80;
    const hi = c0 === 0xf4 ? 0x8f : 0xbf;
    if (c1 < lo || c1 > hi || (c2 & 0xc0) !== 0x80 || (c3 & 0xc0) !== 0x80) return -1;
    return ((((c0 & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f)) << 3) | 4;
  }
  return -1;
}

/** True when `b` is valid UTF-8 by Go's rules (utf8.Valid). */
export function isValidUtf8(b: Uint8Array): boolean {
  const n = b.length;
  let i = 0;
  while (i < n) {
    if (b[i]! < 0x80) {
      i++;
      continue;
    }
    const r = runeAt(b, i);
    if (r < 0) return false;
    i += r & 7;
  }
  return true;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Bytes to text the way Go's JSON decoder sees them: valid UTF-8 as is, and each byte that does
 * not start a valid sequence as one U+FFFD (TextDecoder would fold a truncated sequence into a
 * single U+FFFD; Go does not). A leading BOM is kept, so a JSON parser rejects it as Go does.
 */
export function decodeUtf8(b: Uint8Array): string {
  try {
    return utf8Fatal.decode(b);
  } catch {
    // Invalid UTF-8 somewhere: rebuild rune by rune (rare, so simplicity beats speed here).
    const parts: string[] = [];
    let start = 0;
    let i = 0;
    const n = b.length;
    while (i < n) {
      if (b[i]! < 0x80) {
        i++;
        continue;
      }
      const r = runeAt(b, i);
      if (r >= 0) {
        i += r & 7;
        continue;
      }
      if (i > start) parts.push(utf8Fatal.decode(b.subarray(start, i)));
      parts.push('\ufffd');
      i++;
      start = i;
    }
    if (n > start) parts.push(utf8Fatal.decode(b.subarray(start, n)));
    return parts.join('');
  }
}

const utf8Encoder = new TextEncoder();

/** Text to UTF-8 bytes (a lone surrogate becomes U+FFFD, as Go's JSON decoder makes it). */
export function encodeUtf8(s: string): Uint8Array {
  return utf8Encoder.encode(s);
}

/** Go 1.19's strconv.IsPrint: letters, marks, numbers, punctuation, symbols (Unicode 13.0) and U+0020. */
export function isGoPrint(r: number): boolean {
  if (r < 0x7f) return r >= 0x20;
  if (r < 0xa1) return false;
  const t = GO_PRINT_RANGES;
  // Binary search for the last range start <= r.
  let lo = 0;
  let hi = (t.length >> 1) - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (t[2 * mid]! <= r) lo = mid;
    else hi = mid - 1;
  }
  return t[2 * lo]! <= r && r <= t[2 * lo + 1]!;
}

/** The escape Go's Quote writes for a valid rune it does not keep (not `"`/`\`, not printable). */
function escapeRune(r: number): string {
  switch (r) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + hexByte(r);
  if (r < 0x10000) return '\\u' + hexByte(r >> 8) + hexByte(r);
  return '\\U' + hexByte(r >> 24) + hexByte(r >> 16) + hexByte(r >> 8) + hexByte(r);
}

/**
 * Go's strconv.Quote of a byte string, without the surrounding double quotes. The result is
 * printable text; restic stores a node's name this way (then JSON-encodes it).
 */
export function goQuote(b: Uint8Array): string {
  const n = b.length;
  // Fast path: printable ASCII without `"` and `\`.
  let i = 0;
  for (; i < n; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
  }
  if (i === n) return utf8Fatal.decode(b);
  let out = i > 0 ? utf8Fatal.decode(b.subarray(0, i)) : '';
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      if (c === 0x22) out += '\\"';
      else if (c === 0x5c) out += '\\\\';
      else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
      else out += escapeRune(c);
      i++;
      continue;
    }
    const r = runeAt(b, i);
    if (r < 0) {
      out += '\\x' + hexByte(c);
      i++;
      continue;
    }
    const rune = r >>> 3;
    out += isGoPrint(rune) ? String.fromCodePoint(rune) : escapeRune(rune);
    i += r & 7;
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

function putRune(out: Uint8Array, w: number, r: number): number {
  if (r < 0x80) {
    out[w] = r;
    return w + 1;
  }
  if (r < 0x800) {
    out[w] = 0xc0 | (r >> 6);
    out[w + 1] = 0x80 | (r & 0x3f);
    return w + 2;
  }
  if (r < 0x10000) {
    out[w] = 0xe0 | (r >> 12);
    out[w + 1] = 0x80 | ((r >> 6) & 0x3f);
    out[w + 2] = 0x80 | (r & 0x3f);
    return w + 3;
  }
  out[w] = 0xf0 | (r >> 18);
  out[w + 1] = 0x80 | ((r >> 12) & 0x3f);
  out[w + 2] = 0x80 | ((r >> 6) & 0x3f);
  out[w + 3] = 0x80 | (r & 0x3f);
  return w + 4;
}

/**
 * Go's strconv.Unquote of `"` + s + `"`: the bytes that `s` (a Quote result without its outer
 * quotes) stands for. Accepts everything Go accepts: the escapes `\a \b \f \n \r \t \v \\ \"`,
 * `\xNN`, `\ooo` (octal, at most 255), `\uXXXX`, `\UXXXXXXXX` (valid runes only), and any raw
 * character except `"` and newline. Throws ERR_CORRUPT (naming `what`) otherwise.
 */
export function goUnquote(s: string, what = 'quoted string'): Uint8Array {
  const n = s.length;
  // Fast path: printable ASCII without quote or backslash stands for itself.
  let k = 0;
  for (; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
  }
  if (k === n) {
    const plain = new Uint8Array(n);
    for (let j = 0; j < n; j++) plain[j] = s.charCodeAt(j);
    return plain;
  }
  const out = new Uint8Array(n * 3);
  let w = 0;
  const bad = (msg: string): never => {
    throw new CairnError('ERR_CORRUPT', `${what}: ${msg} in Go-quoted string ${describeValue(s)}`, {
      data: { what },
    });
  };
  let i = 0;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c !== 0x5c) {
      if (c === 0x22) bad('unescaped double quote');
      if (c === 0x0a) bad('unescaped newline');
      if (c >= 0xd800 && c <= 0xdfff) {
        const c2 = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && c2 >= 0xdc00 && c2 <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
          i++;
        } else {
          c = 0xfffd;
        }
      }
      w = putRune(out, w, c);
      i++;
      continue;
    }
    if (i + 1 >= n) bad('backslash at the end');
    const e = s.charCodeAt(i + 1);
    i += 2;
    switch (e) {
      case 0x61: // a
        out[w++] = 0x07;
        break;
      case 0x62: // b
        out[w++] = 0x08;
        break;
      case 0x66: // f
        out[w++] = 0x0c;
        break;
      case 0x6e: // n
        out[w++] = 0x0a;
        break;
      case 0x72: // r
        out[w++] = 0x0d;
        break;
      case 0x74: // t
        out[w++] = 0x09;
        break;
      case 0x76: // v
        out[w++] = 0x0b;
        break;
      case 0x5c: // backslash
        out[w++] = 0x5c;
        break;
      case 0x22: // double quote
        out[w++] = 0x22;
        break;
      case 0x78: // x
      case 0x75: // u
      case 0x55: {
        // U
        const digits = e === 0x78 ? 2 : e === 0x75 ? 4 : 8;
        if (i + digits > n) bad('truncated escape');
        let v = 0;
        for (let j = 0; j < digits; j++) {
          const h = hexValue(s.charCodeAt(i + j));
          if (h < 0) bad('bad hex digit in escape');
          v = v * 16 + h;
        }
        i += digits;
        if (e === 0x78) {
          out[w++] = v;
        } else {
          if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) bad('escape of an invalid rune');
          w = putRune(out, w, v);
        }
        break;
      }
      case 0x30:
      case 0x31:
      case 0x32:
      case 0x33:
      case 0x34:
      case 0x35:
      case 0x36:
      case 0x37: {
        if (i + 2 > n) bad('truncated octal escape');
        const d1 = s.charCodeAt(i) - 0x30;
        const d2 = s.charCodeAt(i + 1) - 0x30;
        if (d1 < 0 || d1 > 7 || d2 < 0 || d2 > 7) bad('bad octal digit');
        const v = ((e - 0x30) << 6) | (d1 << 3) | d2;
        if (v > 255) bad('octal escape above 255');
        out[w++] = v;
        i += 2;
        break;
      }
      default:
        bad('unknown escape');
    }
  }
  return out.slice(0, w);
}
