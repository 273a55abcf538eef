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

/** A path for messages: UTF-8 where valid, `\xNN` for other bytes. */
export function displayPath(p: Uint8Array | string): string {
  if (typeof p === 'string') return p;
  const text = Buffer.from(p).toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  let out = '';
  for (const b of p) out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return out;
}
