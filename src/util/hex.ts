const HEX = '0123456789abcdef';

/** Two lowercase hex digits of a byte (the low 8 bits of `v`). */
export function hexByte(v: number): string {
  return HEX[(v >> 4) & 15]! + HEX[v & 15]!;
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += hexByte(bytes[i]!);
  return s;
}

/** Value of each hex digit's char code (either case); -1 for anything else. */
const DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  DIGIT[HEX.charCodeAt(i)] = i;
  DIGIT[HEX.toUpperCase().charCodeAt(i)] = i;
}

/** Bytes of a hex string; throws RangeError on odd length or a non-hex character. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RangeError(`hex string has odd length ${hex.length}`);
  return fromHexInto(hex, new Uint8Array(hex.length / 2));
}

/**
 * The bytes of a hex string of exactly 2 × `out.length` digits, written into `out` (returned);
 * throws RangeError on another length or a non-hex character.
 */
export function fromHexInto(hex: string, out: Uint8Array): Uint8Array {
  if (hex.length !== 2 * out.length) throw new RangeError(`hex string has length ${hex.length}, not ${2 * out.length}`);
  for (let i = 0; i < out.length; i++) {
    const a = hex.charCodeAt(2 * i);
    const b = hex.charCodeAt(2 * i + 1);
    const hi = a < 128 ? DIGIT[a]! : -1;
    const lo = b < 128 ? DIGIT[b]! : -1;
    if (hi < 0 || lo < 0) throw new RangeError(`not a hex digit at ${hi < 0 ? 2 * i : 2 * i + 1}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}
