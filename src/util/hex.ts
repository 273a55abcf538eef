const HEX = '0123456789abcdef';

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    s += HEX[b >>> 4]! + HEX[b & 15]!;
  }
  return s;
}

/** Bytes of a hex string; throws RangeError on odd length or a non-hex character. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RangeError(`hex string has odd length ${hex.length}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = parseInt(hex[2 * i]!, 16);
    const lo = parseInt(hex[2 * i + 1]!, 16);
    if (Number.isNaN(hi) || Number.isNaN(lo)) throw new RangeError(`not a hex digit at ${2 * i}`);
    out[i] = (hi << 4) | lo;
  }
  return out;
}
