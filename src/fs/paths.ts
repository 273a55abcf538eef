/**
 * Paths as bytes. File names may be any bytes but `/` and NUL, so everything below the paths the
 * user typed is handled as Buffers (Node's fs accepts Buffer paths) and never decoded.
 */
export const SLASH = 0x2f;

/** `dir/name` as bytes. */
export function joinPath(dir: Uint8Array, name: Uint8Array): Buffer {
  const needsSlash = dir.length > 0 && dir[dir.length - 1] !== SLASH;
  const out = Buffer.allocUnsafe(dir.length + (needsSlash ? 1 : 0) + name.length);
  out.set(dir, 0);
  if (needsSlash) out[dir.length] = SLASH;
  out.set(name, dir.length + (needsSlash ? 1 : 0));
  return out;
}

/** A name's bytes as a string, one character per byte: a key for a set or map of names (no copy). */
export function nameKey(name: Uint8Array): string {
  return Buffer.from(name.buffer, name.byteOffset, name.byteLength).toString('latin1');
}

/** C0 and C1 control characters and DEL: never printed raw (a name could carry terminal escapes). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * A path for messages: UTF-8 text as is when it is valid and free of control characters;
 * otherwise printable ASCII and valid non-ASCII UTF-8 as is, `\` doubled, and every other byte
 * (invalid UTF-8, controls such as newline or ESC) as `\xNN`.
 */
export function displayPath(p: Uint8Array | string): string {
  if (typeof p === 'string') return p;
  const bytes = Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  const text = bytes.toString('utf8');
  if (!text.includes('\uFFFD') && !CONTROL.test(text)) return text;
  const hex = (b: number): string => `\\x${b.toString(16).padStart(2, '0')}`;
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      out += b < 0x20 || b === 0x7f ? hex(b) : b === 0x5c ? '\\\\' : String.fromCharCode(b);
      i++;
      continue;
    }
    // A non-ASCII run: each valid sequence decoded, unless it is a C1 control or U+FFFD.
    const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    const seq = bytes.subarray(i, i + len);
    const ch = len > 1 && seq.length === len ? seq.toString('utf8') : '';
    if (ch.length > 0 && !ch.includes('\uFFFD') && !CONTROL.test(ch) && Buffer.from(ch, 'utf8').equals(seq)) {
      out += ch;
      i += len;
    } else {
      out += hex(b);
      i++;
    }
  }
  return out;
}
