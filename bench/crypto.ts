/**
 * Crypto and compression throughput on 64 MiB: seal and open (AES-256-CTR from node:crypto plus
 * Poly1305 from libsodium, as cairn runs them), the same with @noble/ciphers' Poly1305 (the JS
 * alternative), AES-CTR and each Poly1305 alone, SHA-256 as the yardstick, and zstd level 3 both
 * ways on random and on text-like data. Each figure is the median of a few runs after a warm-up.
 */
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { ecb } from '@noble/ciphers/aes.js';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { compress, decompress } from '../src/compress/index.js';
import { clampR, newMasterKey, open, seal, type MasterKey } from '../src/crypto/index.js';

interface Sodium {
  crypto_onetimeauth(out: Uint8Array, input: Uint8Array, key: Uint8Array): void;
}
const sodium = createRequire(import.meta.url)('sodium-native') as Sodium;

const SIZE = 64 << 20;
const RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** MB/s (10^6 bytes per second) of `f` over `bytes`, median of RUNS after one warm-up. */
function measure(bytes: number, f: () => unknown): number {
  f();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    f();
    times.push(performance.now() - t0);
  }
  return bytes / 1e6 / (median(times) / 1000);
}

/** Log-like text: lines of words and numbers drawn from a small vocabulary (zstd 3: ratio ~4–6). */
function textLike(bytes: number): Uint8Array {
  const words = ['the', 'repository', 'snapshot', 'index', 'pack', 'blob', 'tree', 'restic', 'cairn', 'saved', 'error', 'file',
    'directory', 'size', 'mtime', 'user', 'group', 'data', 'chunk', 'lock', 'key', 'config', 'prune', 'forget'];
  const out = new Uint8Array(bytes);
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 16;
  };
  let line = '';
  let o = 0;
  while (o < bytes) {
    line = `${next() % 100000}\t`;
    const n = 4 + (next() % 8);
    for (let i = 0; i < n; i++) line += (next() & 3) === 0 ? `${next()} ` : `${words[next() % words.length]!} `;
    const b = Buffer.from(line + '\n');
    out.set(b.subarray(0, bytes - o), o);
    o += b.length;
  }
  return out;
}

/** seal() with @noble/ciphers' Poly1305 in place of libsodium's, for comparison. */
function sealNoble(key: MasterKey, pt: Uint8Array): Uint8Array {
  const out = new Uint8Array(pt.length + 32);
  const iv = randomBytes(16);
  out.set(iv);
  const c = createCipheriv('aes-256-ctr', key.encrypt, iv);
  for (let i = 0; i < pt.length; i += 1 << 15) out.set(c.update(pt.subarray(i, i + (1 << 15))), 16 + i);
  const otk = new Uint8Array(32);
  otk.set(clampR(key.macR));
  otk.set(ecb(key.macK, { disablePadding: true }).encrypt(iv), 16);
  out.set(poly1305(out.subarray(16, 16 + pt.length), otk), 16 + pt.length);
  return out;
}

export async function cryptoBench(log: (s: string) => void): Promise<Array<{ name: string; mbPerSecond: number }>> {
  const results: Array<{ name: string; mbPerSecond: number }> = [];
  const record = (name: string, mbPerSecond: number): void => {
    results.push({ name, mbPerSecond });
    log(`  ${name.padEnd(44)} ${mbPerSecond.toFixed(0).padStart(6)} MB/s`);
  };
  const random = new Uint8Array(randomBytes(SIZE));
  const text = textLike(SIZE);
  const key = newMasterKey();
  const otk = new Uint8Array(randomBytes(32));
  const tag = new Uint8Array(16);

  record('SHA-256 (node:crypto)', measure(SIZE, () => createHash('sha256').update(random).digest()));
  record('AES-256-CTR alone (node:crypto, 32 KiB slices)', measure(SIZE, () => {
    const c = createCipheriv('aes-256-ctr', key.encrypt, otk.subarray(0, 16));
    for (let i = 0; i < SIZE; i += 1 << 15) c.update(random.subarray(i, i + (1 << 15)));
  }));
  record('AES-256-CTR alone (node:crypto, one update)', measure(SIZE, () => createCipheriv('aes-256-ctr', key.encrypt, otk.subarray(0, 16)).update(random)));
  record('Poly1305 alone (sodium-native)', measure(SIZE, () => sodium.crypto_onetimeauth(tag, random, otk)));
  record('Poly1305 alone (@noble/ciphers)', measure(SIZE, () => poly1305(random, otk)));

  const sealed = seal(key, random);
  record('seal, 1 × 64 MiB (sodium Poly1305)', measure(SIZE, () => seal(key, random)));
  record('open, 1 × 64 MiB (sodium Poly1305)', measure(SIZE, () => open(key, sealed)));
  record('seal, 1 × 64 MiB (noble Poly1305)', measure(SIZE, () => sealNoble(key, random)));
  const blobs = Array.from({ length: SIZE / (16 << 10) }, (_, i) => random.subarray(i * (16 << 10), (i + 1) * (16 << 10)));
  const sealedBlobs = blobs.map((b) => seal(key, b));
  record('seal, 4096 × 16 KiB', measure(SIZE, () => blobs.forEach((b) => seal(key, b))));
  record('open, 4096 × 16 KiB', measure(SIZE, () => sealedBlobs.forEach((b) => open(key, b))));

  for (const [name, data] of [['random', random], ['text-like', text]] as const) {
    const part = data.subarray(0, 16 << 20); // zstd is slower: 16 MiB keeps this short
    const z = compress(part, 3);
    log(`  (zstd 3 on ${name}: ratio ${(part.length / z.length).toFixed(2)})`);
    record(`zstd 3 compress, ${name}`, measure(part.length, () => compress(part, 3)));
    record(`zstd 3 decompress, ${name}`, measure(part.length, () => decompress(z, part.length)));
  }
  return results;
}

// Run directly: node .bench-build/bench/crypto.js
if (import.meta.url === `file://${process.argv[1]}`) {
  await cryptoBench((s) => console.log(s));
}
