/**
 * FastCDC with the WebAssembly hot loop (wasm/fastcdc.wat): the gear table lives at address 0 of
 * the linear memory and input bytes are scanned in place from address 4096. Where to scan is
 * decided by `fastCdcCut`, as for the TypeScript engine, so both share one definition of the
 * semantics; the scan runs in segments of 64 KiB so that V8's optimizing tier takes over after the
 * first few segments (a wasm call in progress never switches tiers).
 *
 * Two builds of one module: private memory for one thread (copies into it run at memcpy speed) and
 * shared memory for worker threads (parallel.ts).
 */
import { CairnError } from '../errors.js';
import type { Chunker } from './types.js';
import type { GearTable } from './gear.js';
import { fastCdcChunker, type FastCdcParams, type GearScan } from './fastcdc-params.js';
import { FASTCDC_WASM_PRIVATE_BASE64, FASTCDC_WASM_SHARED_BASE64 } from './wasm/fastcdc-wasm.js';

/** First address of input data in the linear memory; below it: the gear table. */
export const WASM_DATA_BASE = 4096;
const PAGE = 65536;
/** The module's declared maximum (2 GiB): addresses stay below 2^31. */
export const WASM_MAX_PAGES = 32768;
/** Bytes scanned per wasm call. */
const SEGMENT = 65536;

export type ScanFn = (p: number, end: number, mask: bigint, reset: number) => number;

const modules: { shared?: WebAssembly.Module; private?: WebAssembly.Module } = {};

/** The compiled module, once per thread. A Module can be posted to workers. */
export function fastCdcWasmModule(shared: boolean): WebAssembly.Module {
  if (shared) return (modules.shared ??= new WebAssembly.Module(Buffer.from(FASTCDC_WASM_SHARED_BASE64, 'base64')));
  return (modules.private ??= new WebAssembly.Module(Buffer.from(FASTCDC_WASM_PRIVATE_BASE64, 'base64')));
}

function pagesFor(dataBytes: number): number {
  const pages = Math.ceil((WASM_DATA_BASE + dataBytes) / PAGE);
  if (pages > WASM_MAX_PAGES) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `chunker workspace of ${dataBytes} bytes exceeds the 2 GiB the wasm engine can address; use a smaller buffer`, { data: { dataBytes } });
  }
  return pages;
}

/** A memory big enough for `dataBytes` of input after the table. */
export function createWasmMemory(dataBytes: number, shared: boolean): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: pagesFor(dataBytes), maximum: WASM_MAX_PAGES, shared });
}

/** Writes `gear` as little-endian u64s at address 0 of `memory`. */
export function writeGearTable(memory: WebAssembly.Memory, gear: GearTable): void {
  const view = new DataView(memory.buffer, 0, 2048);
  for (let i = 0; i < 256; i++) view.setBigUint64(i * 8, gear.values[i]!, true);
}

/** Instantiates the scan on `memory` (whose table must already be written). */
export function instantiateScan(memory: WebAssembly.Memory, module: WebAssembly.Module): ScanFn {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports['scan'] as ScanFn;
}

/** The wasm scan as a `GearScan` over addresses, in segments of 64 KiB. */
export function wasmGearScan(scan: ScanFn, params: FastCdcParams): GearScan {
  return (from, to, small, reset) => {
    const mask = small ? params.maskS : params.maskL;
    for (let p = from; p < to; p += SEGMENT) {
      const q = Math.min(to, p + SEGMENT);
      const hit = scan(p, q, mask, reset && p === from ? 1 : 0);
      if (hit >= 0) return hit;
    }
    return -1;
  };
}

export function createWasmFastCdc(params: FastCdcParams, gear: GearTable): Chunker {
  const memory = createWasmMemory(0, false);
  writeGearTable(memory, gear);
  const scan = wasmGearScan(instantiateScan(memory, fastCdcWasmModule(false)), params);
  let space = new Uint8Array(memory.buffer, WASM_DATA_BASE, 0);
  return fastCdcChunker(params, gear.values, scan, (buf) => {
    if (buf.buffer !== space.buffer || buf.byteOffset < WASM_DATA_BASE) {
      throw new CairnError('ERR_INTERNAL', 'wasm fastcdc was given a buffer outside its workspace; fill the view workspace() returns');
    }
    return buf.byteOffset;
  }, (size) => {
    if (space.length < size) {
      const need = pagesFor(size);
      const have = memory.buffer.byteLength / PAGE;
      if (need > have) memory.grow(need - have);
      space = new Uint8Array(memory.buffer, WASM_DATA_BASE, size);
    }
    return space;
  });
}
