/**
 * Go encoding/json, the parts restic's documents need, byte for byte.
 *
 * Writing: strings are escaped as json.Marshal escapes them (`\"`, `\\`, `\n`, `\r`, `\t`,
 * `\u00XX` for other control characters, `\u003c` `\u003e` `\u0026` for `<` `>` `&`, `\u2028`
 * and `\u2029`; every byte that is not valid UTF-8 becomes `\ufffd`; DEL and all other runes stay
 * raw); `[]byte` is standard base64 with padding; raw values are compacted as json.Compact does.
 *
 * Reading: `JsonReader` is a small exact pull parser over text. It checks the full JSON grammar
 * (Go rejects any syntax error anywhere, also in values it ignores), reads unsigned integers
 * without going through doubles (so 64-bit inodes and devices stay exact), hands back unknown
 * values as their raw text, and never recurses (nesting is capped at Go's 10000). Every failure is
 * a CairnError ERR_CORRUPT naming what was being read and the offset.
 */
import { CairnError } from '../../errors.js';
import { hexByte } from '../hex.js';
import { runeAt } from './text.js';

// Characters json.Marshal escapes in a string (with HTML escaping on, as restic uses it).
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029]/;

function escapeChar(c: number): string {
  switch (c) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x2028:
      return '\\u2028';
    case 0x2029:
      return '\\u2029';
    default:
      return '\\u00' + hexByte(c);
  }
}

function needsEscape(c: number): boolean {
  return c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029;
}

/**
 * A JS string as Go's json.Marshal writes a string, quotes included. A lone surrogate is left as
 * is and becomes U+FFFD when the text is encoded to UTF-8 (Go holds no such string).
 */
export function goJsonString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"';
  let out = '"';
  let start = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!needsEscape(c)) continue;
    if (i > start) out += s.slice(start, i);
    out += escapeChar(c);
    start = i + 1;
  }
  if (n > start) out += s.slice(start);
  return out + '"';
}

/**
 * A byte string (a Go string that may hold any bytes) as json.Marshal writes it, quotes
 * included: valid UTF-8 as text with the usual escapes, each byte of an invalid sequence as
 * `\ufffd`. This is how restic 0.14 stores a symlink target.
 */
export function goJsonBytes(b: Uint8Array): string {
  let out = '"';
  const n = b.length;
  let i = 0;
  let run = '';
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      if (needsEscape(c)) {
        out += run + escapeChar(c);
        run = '';
      } else {
        run += String.fromCharCode(c);
      }
      i++;
      continue;
    }
    const r = runeAt(b, i);
    if (r < 0) {
      out += run + '\\ufffd';
      run = '';
      i++;
      continue;
    }
    const rune = r >>> 3;
    if (rune === 0x2028 || rune === 0x2029) {
      out += run + escapeChar(rune);
      run = '';
    } else {
      run += String.fromCodePoint(rune);
    }
    i += r & 7;
  }
  return out + run + '"';
}

/**
 * A growing byte buffer for writing Go JSON without building large intermediate strings. `ascii`
 * takes text known to be ASCII; `text`, `jsonString` and `jsonBytes` take anything.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  get length(): number {
    return this.len;
  }

  byte(c: number): void {
    this.reserve(1);
    this.buf[this.len++] = c;
  }

  /** ASCII text (every char code below 0x80). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    const b = this.buf;
    let w = this.len;
    for (let i = 0; i < n; i++) b[w++] = s.charCodeAt(i);
    this.len = w;
  }

  bytes(src: Uint8Array): void {
    this.reserve(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }

  /** One UTF-16 code unit sequence as UTF-8, starting at s[i]; returns the next index. */
  private char(s: string, i: number): number {
    let c = s.charCodeAt(i);
    this.reserve(4);
    const b = this.buf;
    let w = this.len;
    if (c < 0x80) b[w++] = c;
    else if (c < 0x800) {
      b[w++] = 0xc0 | (c >> 6);
      b[w++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const c2 = s.charCodeAt(i + 1);
        if (c <= 0xdbff && c2 >= 0xdc00 && c2 <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (c2 - 0xdc00);
          b[w++] = 0xf0 | (c >> 18);
          b[w++] = 0x80 | ((c >> 12) & 0x3f);
          b[w++] = 0x80 | ((c >> 6) & 0x3f);
          b[w++] = 0x80 | (c & 0x3f);
          this.len = w;
          return i + 2;
        }
        c = 0xfffd; // a lone surrogate
      }
      b[w++] = 0xe0 | (c >> 12);
      b[w++] = 0x80 | ((c >> 6) & 0x3f);
      b[w++] = 0x80 | (c & 0x3f);
    }
    this.len = w;
    return i + 1;
  }

  /** Any text as UTF-8 (a lone surrogate becomes U+FFFD). */
  text(s: string): void {
    const n = s.length;
    for (let i = 0; i < n; ) i = this.char(s, i);
  }

  /** `s` as json.Marshal writes a string, quotes included (see goJsonString). */
  jsonString(s: string): void {
    this.byte(0x22);
    const n = s.length;
    for (let i = 0; i < n; ) {
      const c = s.charCodeAt(i);
      if (c < 0x80 && !needsEscape(c)) {
        this.reserve(1);
        this.buf[this.len++] = c;
        i++;
      } else if (needsEscape(c)) {
        this.ascii(escapeChar(c));
        i++;
      } else {
        i = this.char(s, i);
      }
    }
    this.byte(0x22);
  }

  /** A byte string as json.Marshal writes it, quotes included (see goJsonBytes). */
  jsonBytes(src: Uint8Array): void {
    this.byte(0x22);
    const n = src.length;
    for (let i = 0; i < n; ) {
      const c = src[i]!;
      if (c < 0x80) {
        if (needsEscape(c)) this.ascii(escapeChar(c));
        else this.byte(c);
        i++;
        continue;
      }
      const r = runeAt(src, i);
      if (r < 0) {
        this.ascii('\\ufffd');
        i++;
        continue;
      }
      const size = r & 7;
      const rune = r >>> 3;
      if (rune === 0x2028 || rune === 0x2029) this.ascii(escapeChar(rune));
      else this.bytes(src.subarray(i, i + size));
      i += size;
    }
    this.byte(0x22);
  }

  /** A copy of what was written. */
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/** Standard base64 with padding (Go's base64.StdEncoding, how json.Marshal writes `[]byte`). */
export function base64Encode(b: Uint8Array): string {
  let out = '';
  const n = b.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + B64[v & 63]!;
  }
  if (i + 1 === n) {
    const v = b[i]! << 16;
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + '==';
  } else if (i + 2 === n) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8);
    out += B64[v >> 18]! + B64[(v >> 12) & 63]! + B64[(v >> 6) & 63]! + '=';
  }
  return out;
}

/**
 * Decodes standard base64 as Go's base64.StdEncoding does: padding required, `\r` and `\n`
 * ignored anywhere, unused low bits of the last quantum not checked. Returns undefined when the
 * text is not valid base64.
 */
export function base64Decode(s: string): Uint8Array | undefined {
  if (s.indexOf('\r') >= 0 || s.indexOf('\n') >= 0) s = s.replace(/[\r\n]/g, '');
  const n = s.length;
  if (n % 4 !== 0) return undefined;
  let pad = 0;
  if (n > 0 && s.charCodeAt(n - 1) === 0x3d) pad = s.charCodeAt(n - 2) === 0x3d ? 2 : 1;
  const out = new Uint8Array((n / 4) * 3 - pad);
  let w = 0;
  for (let i = 0; i < n; i += 4) {
    const last = i + 4 === n;
    const q = last ? 4 - pad : 4;
    let v = 0;
    for (let j = 0; j < 4; j++) {
      if (j < q) {
        const c = s.charCodeAt(i + j);
        const d = c < 128 ? B64_VALUE[c]! : -1;
        if (d < 0) return undefined;
        v = (v << 6) | d;
      } else {
        v <<= 6;
      }
    }
    out[w++] = (v >> 16) & 255;
    if (q > 2) out[w++] = (v >> 8) & 255;
    if (q > 3) out[w++] = v & 255;
  }
  return out;
}

/**
 * json.Compact with HTML escaping, as json.Marshal applies it to a json.RawMessage: drops the
 * whitespace between tokens and escapes `<`, `>`, `&`, U+2028 and U+2029. `raw` must be valid JSON.
 */
export function compactJson(raw: string): string {
  let out = '';
  let start = 0;
  let inString = false;
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      else if (c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
        out += raw.slice(start, i) + escapeChar(c);
        start = i + 1;
      }
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      out += raw.slice(start, i);
      start = i + 1;
    }
  }
  return out + raw.slice(start);
}

/**
 * The keys of `extra` (unknown fields kept as raw JSON) in the order cairn writes them: sorted by
 * UTF-8 bytes, as Go sorts map keys. Throws ERR_INTERNAL when a key would be read back as one of
 * the `known` (lower-case) fields or a value is not one JSON value.
 */
export function sortedExtraKeys(extra: Readonly<Record<string, string>>, known: ReadonlySet<string>, label: string): string[] {
  const keys = Object.keys(extra);
  for (const k of keys) {
    if (known.has(foldKey(k))) {
      throw new CairnError('ERR_INTERNAL', `${label}: extra field ${JSON.stringify(k)} would be read as a known field`);
    }
    const v = extra[k];
    if (typeof v !== 'string' || !isJsonValue(v)) {
      throw new CairnError('ERR_INTERNAL', `${label}: extra field ${JSON.stringify(k)} is not one JSON value`);
    }
  }
  if (keys.length > 1) {
    const enc = new Map(keys.map((k) => [k, utf8.encode(k)]));
    keys.sort((a, b) => {
      const x = enc.get(a)!;
      const y = enc.get(b)!;
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    });
  }
  return keys;
}

const utf8 = new TextEncoder();

/** Go's encoding/json nesting limit. */
const MAX_DEPTH = 10000;

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * An exact, non-recursive JSON pull parser over text with Go's decoding rules for the value
 * kinds restic uses. The caller drives it: `openObject`/`nextKey`, `openArray`/`nextItem`,
 * `string`, `rawString`, `uint`, `uint64`, `isNull`, `skipValue`, then `end`.
 */
export class JsonReader {
  readonly text: string;
  readonly what: string;
  pos = 0;

  constructor(text: string, what: string) {
    this.text = text;
    this.what = what;
  }

  /** Throws ERR_CORRUPT: `what: message at offset N`. */
  fail(message: string, at: number = this.pos): never {
    throw new CairnError('ERR_CORRUPT', `${this.what}: ${message} at offset ${at}`, {
      data: { what: this.what, offset: at },
    });
  }

  /** Skips whitespace; returns the next character code, or -1 at the end. */
  peek(): number {
    const t = this.text;
    let p = this.pos;
    const n = t.length;
    while (p < n) {
      const c = t.charCodeAt(p);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
        this.pos = p;
        return c;
      }
      p++;
    }
    this.pos = p;
    return -1;
  }

  /** Consumes `null` if it comes next. */
  isNull(): boolean {
    if (this.peek() !== 0x6e) return false;
    if (!this.text.startsWith('null', this.pos)) this.fail('invalid literal');
    this.pos += 4;
    return true;
  }

  /** Consumes `{`. */
  openObject(): void {
    if (this.peek() !== 0x7b) this.fail('expected an object');
    this.pos++;
  }

  /**
   * The next key of the object (after its `:`), or undefined after consuming the closing `}`.
   * `first` says whether this is the first call for this object.
   */
  nextKey(first: boolean): string | undefined {
    let c = this.peek();
    if (c === 0x7d) {
      this.pos++;
      return undefined;
    }
    if (!first) {
      if (c !== 0x2c) this.fail("expected ',' or '}' in object");
      this.pos++;
      c = this.peek();
    }
    if (c !== 0x22) this.fail('expected a string key');
    const key = this.string();
    if (this.peek() !== 0x3a) this.fail("expected ':' after object key");
    this.pos++;
    return key;
  }

  /** Consumes `[`. */
  openArray(): void {
    if (this.peek() !== 0x5b) this.fail('expected an array');
    this.pos++;
  }

  /** True if another item follows (its separator consumed); false after consuming `]`. */
  nextItem(first: boolean): boolean {
    const c = this.peek();
    if (c === 0x5d) {
      this.pos++;
      return false;
    }
    if (!first) {
      if (c !== 0x2c) this.fail("expected ',' or ']' in array");
      this.pos++;
    }
    return true;
  }

  /**
   * The raw text between the quotes of the next string, checked for JSON string syntax but not
   * unescaped (Go hands time.Time and restic's IDs their raw bytes).
   */
  rawString(): string {
    const start = this.skipString();
    return this.text.slice(start + 1, this.pos - 1);
  }

  /** Skips a string, checking its syntax; returns its start offset (the opening quote). */
  private skipString(): number {
    const t = this.text;
    if (this.peek() !== 0x22) this.fail('expected a string');
    const start = this.pos;
    let p = start + 1;
    const n = t.length;
    for (;;) {
      if (p >= n) this.fail('unterminated string', start);
      const c = t.charCodeAt(p);
      if (c === 0x22) break;
      if (c < 0x20) this.fail('control character in string', p);
      if (c === 0x5c) {
        const e = t.charCodeAt(p + 1);
        if (e === 0x75) {
          for (let j = 2; j < 6; j++) {
            if (!isHex(t.charCodeAt(p + j))) this.fail('bad \\u escape', p);
          }
          p += 6;
          continue;
        }
        if (!isSimpleEscape(e)) this.fail('bad escape', p);
        p += 2;
        continue;
      }
      p++;
    }
    this.pos = p + 1;
    return start;
  }

  /** The next string, unescaped as Go does (an unpaired surrogate escape becomes U+FFFD). */
  string(): string {
    const t = this.text;
    if (this.peek() !== 0x22) this.fail('expected a string');
    const start = this.pos + 1;
    let p = start;
    const n = t.length;
    for (;;) {
      if (p >= n) this.fail('unterminated string', start - 1);
      const c = t.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return t.slice(start, p);
      }
      if (c === 0x5c) break;
      if (c < 0x20) this.fail('control character in string', p);
      p++;
    }
    // Slow path: escapes.
    let out = t.slice(start, p);
    let seg = p;
    for (;;) {
      if (p >= n) this.fail('unterminated string', start - 1);
      const c = t.charCodeAt(p);
      if (c === 0x22) break;
      if (c < 0x20) this.fail('control character in string', p);
      if (c !== 0x5c) {
        p++;
        continue;
      }
      out += t.slice(seg, p);
      const e = t.charCodeAt(p + 1);
      switch (e) {
        case 0x22:
          out += '"';
          break;
        case 0x5c:
          out += '\\';
          break;
        case 0x2f:
          out += '/';
          break;
        case 0x62:
          out += '\b';
          break;
        case 0x66:
          out += '\f';
          break;
        case 0x6e:
          out += '\n';
          break;
        case 0x72:
          out += '\r';
          break;
        case 0x74:
          out += '\t';
          break;
        case 0x75: {
          const u = this.hex4(p + 2);
          if (u < 0) this.fail('bad \\u escape', p);
          if (u >= 0xd800 && u <= 0xdfff) {
            // A surrogate: valid only as a high one followed by an escaped low one.
            if (u <= 0xdbff && t.charCodeAt(p + 6) === 0x5c && t.charCodeAt(p + 7) === 0x75) {
              const u2 = this.hex4(p + 8);
              if (u2 >= 0xdc00 && u2 <= 0xdfff) {
                out += String.fromCharCode(u, u2);
                p += 12;
                seg = p;
                continue;
              }
            }
            out += '\ufffd';
          } else {
            out += String.fromCharCode(u);
          }
          p += 6;
          seg = p;
          continue;
        }
        default:
          this.fail('bad escape', p);
      }
      p += 2;
      seg = p;
    }
    out += t.slice(seg, p);
    this.pos = p + 1;
    return out;
  }

  private hex4(p: number): number {
    const t = this.text;
    let v = 0;
    for (let j = 0; j < 4; j++) {
      const c = t.charCodeAt(p + j);
      const h = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (h < 0) return -1;
      v = (v << 4) | h;
    }
    return v;
  }

  /** Skips a number token, checking JSON's grammar; returns its start offset. */
  private skipNumber(): number {
    const t = this.text;
    const start = this.pos;
    let p = start;
    if (t.charCodeAt(p) === 0x2d) p++;
    let c = t.charCodeAt(p);
    if (c === 0x30) p++;
    else if (c >= 0x31 && c <= 0x39) {
      do p++;
      while (isDigit(t.charCodeAt(p)));
    } else this.fail('bad number', start);
    c = t.charCodeAt(p);
    if (c === 0x2e) {
      p++;
      if (!isDigit(t.charCodeAt(p))) this.fail('bad number', start);
      do p++;
      while (isDigit(t.charCodeAt(p)));
      c = t.charCodeAt(p);
    }
    if (c === 0x65 || c === 0x45) {
      p++;
      c = t.charCodeAt(p);
      if (c === 0x2b || c === 0x2d) p++;
      if (!isDigit(t.charCodeAt(p))) this.fail('bad number', start);
      do p++;
      while (isDigit(t.charCodeAt(p)));
    }
    this.pos = p;
    return start;
  }

  /** The digits of an unsigned integer (Go decodes into uintN with ParseUint: digits only). */
  private uintDigits(): string {
    const c = this.peek();
    if (!(isDigit(c) || c === 0x2d)) this.fail('expected a number');
    const start = this.skipNumber();
    const digits = this.text.slice(start, this.pos);
    for (let i = 0; i < digits.length; i++) {
      if (!isDigit(digits.charCodeAt(i))) this.fail(`number ${shortNumber(digits)} is not an unsigned integer`, start);
    }
    return digits;
  }

  /**
   * The common case of `uint` and `uint64`, without a substring: a plain unsigned integer of at
   * most 15 digits (no sign, fraction, exponent or leading zero) at the cursor, consumed; -1
   * with nothing consumed for anything else (the slow path then reads or rejects it).
   */
  private plainUint(): number {
    const t = this.text;
    const start = this.pos;
    const c0 = this.peek();
    let p = this.pos;
    if (c0 === 0x30) {
      const c1 = t.charCodeAt(p + 1);
      if (isDigit(c1) || c1 === 0x2e || c1 === 0x65 || c1 === 0x45) {
        this.pos = start;
        return -1;
      }
      this.pos = p + 1;
      return 0;
    }
    if (c0 < 0x31 || c0 > 0x39) {
      this.pos = start;
      return -1;
    }
    const first = p;
    let v = 0;
    for (;;) {
      const c = t.charCodeAt(p);
      if (!isDigit(c)) {
        if (c === 0x2e || c === 0x65 || c === 0x45 || p - first > 15) {
          this.pos = start;
          return -1;
        }
        break;
      }
      v = v * 10 + (c - 0x30);
      p++;
    }
    this.pos = p;
    return v;
  }

  /** An unsigned integer no larger than `max` (at most 2^53-1) as a number. */
  uint(max: number): number {
    const start = this.pos;
    const plain = this.plainUint();
    if (plain >= 0 && plain <= max) return plain;
    this.pos = start;
    const digits = this.uintDigits();
    const v = digits.length <= 16 ? Number(digits) : Infinity;
    if (v > max) this.fail(`number ${shortNumber(digits)} is out of range (max ${max})`, start);
    return v;
  }

  /** An unsigned 64-bit integer, exactly. */
  uint64(): bigint {
    const start = this.pos;
    const plain = this.plainUint();
    if (plain >= 0) return BigInt(plain);
    const digits = this.uintDigits();
    if (digits.length <= 15) return BigInt(Number(digits));
    const v = digits.length <= 20 ? BigInt(digits) : UINT64_MAX + 1n;
    if (v > UINT64_MAX) this.fail(`number ${shortNumber(digits)} does not fit 64 bits`, start);
    return v;
  }

  /** Skips any JSON value, checking its syntax; returns its raw text. */
  skipValue(): string {
    const t = this.text;
    const stack: boolean[] = []; // true: object, false: array
    const start = this.peek() < 0 ? this.fail('expected a value') : this.pos;
    for (;;) {
      // A value starts here.
      const c = this.peek();
      if (c === 0x7b || c === 0x5b) {
        this.pos++;
        const obj = c === 0x7b;
        const close = obj ? 0x7d : 0x5d;
        if (this.peek() === close) {
          this.pos++;
        } else {
          if (stack.length >= MAX_DEPTH) this.fail('nesting too deep');
          stack.push(obj);
          if (obj) this.keyColon();
          continue;
        }
      } else if (c === 0x22) {
        this.skipString();
      } else if (c === 0x2d || isDigit(c)) {
        this.skipNumber();
      } else if (c === 0x74 && t.startsWith('true', this.pos)) {
        this.pos += 4;
      } else if (c === 0x66 && t.startsWith('false', this.pos)) {
        this.pos += 5;
      } else if (c === 0x6e && t.startsWith('null', this.pos)) {
        this.pos += 4;
      } else {
        this.fail(c < 0 ? 'unexpected end of input' : 'unexpected character');
      }
      // After a value: close finished containers, or move to the next item.
      for (;;) {
        if (stack.length === 0) return t.slice(start, this.pos);
        const obj = stack[stack.length - 1]!;
        const d = this.peek();
        if (d === 0x2c) {
          this.pos++;
          if (obj) this.keyColon();
          break;
        }
        if (d === (obj ? 0x7d : 0x5d)) {
          this.pos++;
          stack.pop();
          continue;
        }
        this.fail(obj ? "expected ',' or '}' in object" : "expected ',' or ']' in array");
      }
    }
  }

  private keyColon(): void {
    this.skipString();
    if (this.peek() !== 0x3a) this.fail("expected ':' after object key");
    this.pos++;
  }

  /** Checks that only whitespace is left. */
  end(): void {
    if (this.peek() !== -1) this.fail('unexpected data after the top-level value');
  }
}

/** A number's text for a message: at most 40 characters of it (stored numbers can be megabytes long). */
function shortNumber(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}… (${text.length} characters)` : text;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function isSimpleEscape(c: number): boolean {
  return c === 0x22 || c === 0x5c || c === 0x2f || c === 0x62 || c === 0x66 || c === 0x6e || c === 0x72 || c === 0x74;
}

/** A JSON object key folded the way Go matches keys to struct fields (ASCII case, ſ→s, K→k). */
export function foldKey(key: string): string {
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) out += String.fromCharCode(c + 32);
    else if (c === 0x17f) out += 's';
    else if (c === 0x212a) out += 'k';
    else out += key[i]!;
  }
  return out;
}

/** Checks that `raw` is one complete JSON value (for values kept as raw text). */
export function isJsonValue(raw: string): boolean {
  try {
    const r = new JsonReader(raw, 'raw JSON value');
    r.skipValue();
    r.end();
    return true;
  } catch {
    return false;
  }
}
