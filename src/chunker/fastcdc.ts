/**
 * The FastCDC factory: parameters + gear table + engine → a `Chunker`.
 */
import type { Chunker } from './types.js';
import { publicGearTable, type GearTable } from './gear.js';
import { fastCdcParams, type FastCdcOptions } from './fastcdc-params.js';
import { createJsFastCdc } from './fastcdc-js.js';
import { createWasmFastCdc } from './fastcdc-wasm.js';

export type FastCdcEngine = 'wasm' | 'js';

export interface CreateFastCdcOptions extends FastCdcOptions {
  /** The gear table. @default the public table */
  readonly gear?: GearTable;
  /** Hot-loop engine; both give identical boundaries. @default 'wasm' */
  readonly engine?: FastCdcEngine;
}

export function createFastCdc(options: CreateFastCdcOptions = {}): Chunker {
  const params = fastCdcParams(options);
  const gear = options.gear ?? publicGearTable();
  return (options.engine ?? 'wasm') === 'wasm' ? createWasmFastCdc(params, gear) : createJsFastCdc(params, gear);
}
