/**
 * `cairn plan`'s arithmetic, pure (no I/O): strict units for sizes and rates, the choice of
 * measured rates from the benchmark results file, and the prediction with the arithmetic spelt out.
 *
 * The model: seconds = bytes ÷ rate + files × per-file time, where
 * - rate is a given `--rate`, or cairn's measured MB/s on the stored dataset with the most bytes
 *   per file (large files: the per-file cost there is negligible), capped by `--bandwidth`
 *   (effective = min(rate, bandwidth));
 * - the per-file time comes from the stored dataset with the fewest bytes per file (many small
 *   files): 1 ÷ its files/s, minus the part its bytes already explain at the large-file rate
 *   (never below 0). With only one dataset, or with `--rate`, there is no per-file term.
 * Units: B, kB/MB/GB/TB/PB (powers of 1000), KiB/MiB/GiB/TiB/PiB (powers of 1024), case-sensitive;
 * rates are a size per second (`100MB/s`) or bits per second (`1Gbit`, `1Gbit/s`, `100Mbps`;
 * 1 Gbit = 10^9 bits = 125,000,000 B).
 */
import { CairnError } from '../errors.js';
import { cairnThroughput, type BenchResultsEntry } from './report.js';

const BYTE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, PB: 1e15,
  KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40, PiB: 2 ** 50,
};

/** Bits per second per unit (the `/s` or `ps` is separate). */
const BIT_UNITS: Readonly<Record<string, number>> = {
  bit: 1, kbit: 1e3, Mbit: 1e6, Gbit: 1e9, Tbit: 1e12,
  Kibit: 2 ** 10, Mibit: 2 ** 20, Gibit: 2 ** 30,
};
const BPS_UNITS: Readonly<Record<string, number>> = { bps: 1, kbps: 1e3, Mbps: 1e6, Gbps: 1e9, Tbps: 1e12 };

const SIZE_HELP = 'use a number with B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. 1TiB or 500GB';
const RATE_HELP = 'use a size per second (100MB/s, 1.5GiB/s) or bits per second (1Gbit, 100Mbit/s, 100Mbps)';

/** A parsed quantity: its value and how it is written back (`1 TiB`, `1 Gbit/s`). */
export interface Quantity {
  readonly value: number;
  readonly text: string;
}

/** Why a unit is not accepted, when it is a common near miss. */
function unitHint(unit: string): string | undefined {
  const upper = unit.toUpperCase();
  if (unit === 'KB') return 'KB is ambiguous: write kB (1,000 B) or KiB (1,024 B)';
  if (/^[KMGTP]$/i.test(unit)) return `a bare ${unit} is ambiguous: write ${upper === 'K' ? 'kB' : `${upper}B`} (powers of 1000) or ${upper}iB (powers of 1024)`;
  if (/^([kmgtp]i?b)$/i.test(unit) && !(unit in BYTE_UNITS)) {
    const fixed = Object.keys(BYTE_UNITS).find((u) => u.toLowerCase() === unit.toLowerCase());
    return `units are case-sensitive: did you mean ${fixed ?? 'MB or MiB'}? (b is a bit, B a byte)`;
  }
  return undefined;
}

function splitNumber(text: string): { number: number; digits: string; unit: string } | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z/]*)\s*$/.exec(text);
  if (m === null) return undefined;
  return { number: Number(m[1]), digits: String(Number(m[1])), unit: m[2]! };
}

function bad(flag: string, text: string, why: string): CairnError {
  return new CairnError('ERR_INVALID_ARGUMENT', `${flag} ${JSON.stringify(text)}: ${why}`, { data: { option: flag, value: text } });
}

/** A size in bytes (`1TiB`, `500 GB`, `1234`), strictly: see the module comment. */
export function parsePlanSize(text: string, flag = '--size'): Quantity {
  const p = splitNumber(text);
  if (p === undefined) throw bad(flag, text, `not a size; ${SIZE_HELP}`);
  const unit = p.unit === '' ? 'B' : p.unit;
  const scale = BYTE_UNITS[unit];
  if (scale === undefined) {
    if (unit in BIT_UNITS || unit in BPS_UNITS || unit.includes('/')) throw bad(flag, text, `${unit} is a rate, not a size; ${SIZE_HELP}`);
    throw bad(flag, text, `${unitHint(unit) ?? `unknown unit ${unit}`}; ${SIZE_HELP}`);
  }
  const value = Math.round(p.number * scale);
  if (!Number.isSafeInteger(value)) throw bad(flag, text, 'too large');
  return { value, text: `${p.digits} ${unit}` };
}

/** A rate in bytes per second (`100MB/s`, `1Gbit`, `1Gbit/s`, `100Mbps`), strictly; it must be above 0. */
export function parsePlanRate(text: string, flag = '--rate'): Quantity {
  const p = splitNumber(text);
  if (p === undefined) throw bad(flag, text, `not a rate; ${RATE_HELP}`);
  let bytesPerSecond: number;
  let written: string;
  if (p.unit in BPS_UNITS) {
    bytesPerSecond = (p.number * BPS_UNITS[p.unit]!) / 8;
    written = `${p.digits} ${p.unit.replace(/ps$/, 'it/s')}`;
  } else {
    const perSecond = p.unit.endsWith('/s');
    const unit = perSecond ? p.unit.slice(0, -2) : p.unit;
    if (unit in BIT_UNITS) {
      bytesPerSecond = (p.number * BIT_UNITS[unit]!) / 8;
      written = `${p.digits} ${unit}/s`;
    } else if (unit in BYTE_UNITS) {
      if (!perSecond) throw bad(flag, text, `${unit} is a size; a rate needs /s (${p.digits}${unit}/s)`);
      bytesPerSecond = p.number * BYTE_UNITS[unit]!;
      written = `${p.digits} ${unit}/s`;
    } else if (unit === '') {
      throw bad(flag, text, `a rate needs a unit; ${RATE_HELP}`);
    } else {
      const hint = /^[kKMGT]b$/.test(unit) ? `${unit} is ambiguous: write ${unit[0]!.replace('K', 'k')}bit/s (bits) or ${unit[0]!.replace('K', 'k')}B/s (bytes)` : unit === 'Kbit' ? 'write kbit (1,000 bits)' : unit === 'MBps' || unit === 'GBps' ? `write ${unit.slice(0, 2)}/s (bytes) or ${unit[0]}bps (bits)` : unitHint(unit) ?? `unknown unit ${p.unit}`;
      throw bad(flag, text, `${hint}; ${RATE_HELP}`);
    }
  }
  if (!(bytesPerSecond > 0)) throw bad(flag, text, 'a rate must be above 0');
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond > Number.MAX_SAFE_INTEGER) throw bad(flag, text, 'too large');
  return { value: bytesPerSecond, text: written };
}

/** `1099511627776` → `1,099,511,627,776`; `decimals` digits after the point. */
export function groupDigits(n: number, decimals = 0): string {
  const fixed = Math.abs(n).toFixed(decimals);
  const [int, frac] = fixed.split('.') as [string, string | undefined];
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${frac === undefined ? '' : `.${frac}`}`;
}

/** Seconds as the arithmetic shows them: `10,995.1 s`, `5.37 s`, `0.042 s`. */
export function formatSeconds(s: number): string {
  return `${groupDigits(s, s >= 100 ? 1 : s >= 1 ? 2 : 3)} s`;
}

/** `≈`-style duration: `42.0 s`, `12.5 min`, `3.05 h (3 h 3 min)`, `2.50 d (2 d 12 h)`. */
export function approxDuration(s: number): string {
  if (s < 90) return `${s.toFixed(1)} s`;
  if (s < 2 * 3600) return `${(s / 60).toFixed(1)} min`;
  const m = Math.round(s / 60);
  if (s < 48 * 3600) return `${(s / 3600).toFixed(2)} h (${Math.floor(m / 60)} h ${m % 60} min)`;
  const h = Math.round(s / 3600);
  return `${(s / 86400).toFixed(2)} d (${Math.floor(h / 24)} d ${h % 24} h)`;
}

/** `125,000,000 B/s` (rounded to whole bytes for display; the arithmetic keeps the exact value). */
export function formatBytesPerSecond(b: number): string {
  return `${groupDigits(b, b < 10 ? 2 : 0)} B/s`;
}

/** `1.18 MiB` for a measured byte count. */
function binarySize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(2)} ${units[i]}`;
}

/** What is being planned: a size (given or measured) and maybe a file count. */
export interface PlanAmount {
  readonly bytes: number;
  /** Regular files, when known. */
  readonly files?: number;
  /** The size as the user wrote it (`1 TiB`), when given. */
  readonly sizeText?: string;
}

/** The machine a benchmark ran on (or this one). */
export interface PlanMachine {
  readonly cpu: string;
  readonly cores: number;
}

/** Where a rate comes from. */
export type RateSource =
  | { readonly kind: 'flag'; readonly flag: '--rate'; readonly text: string }
  | {
      readonly kind: 'bench';
      readonly dataset: string;
      readonly phase: 'snapshot_first' | 'restore';
      readonly mb_per_second: number;
      readonly date: string;
      readonly machine: PlanMachine;
      readonly this_machine: boolean;
    };

/** The per-file time and how it was derived. */
export interface PerFileCost {
  readonly seconds: number;
  readonly dataset: string;
  readonly files_per_second: number;
  readonly bytes_per_file: number;
  readonly date: string;
  /** The derivation as text: `1 ÷ 2,345 files/s − 5,432 B ÷ 412,300,000 B/s = 0.413 ms`. */
  readonly arithmetic: string;
}

export interface PlanRate {
  readonly bytesPerSecond: number;
  /** The rate as text: `100 MB/s` or `412.3 MB/s`. */
  readonly text: string;
  readonly source: RateSource;
  readonly perFile?: PerFileCost;
}

/** One prediction (also the `--json` object's `predictions[]` entries; spec/cli.md). */
export interface Prediction {
  readonly operation: 'transfer' | 'snapshot' | 'restore';
  readonly bytes: number;
  readonly files: number | null;
  /** The rate before the bandwidth cap (given with --rate, or measured). */
  readonly machine_rate_bytes_per_second: number;
  readonly bandwidth_bytes_per_second: number | null;
  /** min(machine rate, bandwidth): what the byte term divides by. */
  readonly rate_bytes_per_second: number;
  readonly limited_by: 'rate' | 'bandwidth';
  readonly rate_source: RateSource;
  readonly transfer_seconds: number;
  readonly per_file_seconds: number | null;
  readonly per_file_source: Omit<PerFileCost, 'seconds' | 'arithmetic'> | null;
  readonly file_seconds: number;
  readonly seconds: number;
  /** `3.05 h (3 h 3 min)`. */
  readonly approx: string;
  /** The arithmetic, one step per line. */
  readonly arithmetic: readonly string[];
}

/** The size as the arithmetic writes it: `1 TiB = 1,099,511,627,776 B`, or `1,234,567 B (1.18 MiB)`. */
function sizeTerm(a: PlanAmount): string {
  return a.sizeText !== undefined && a.sizeText !== `${a.bytes} B` ? `${a.sizeText} = ${groupDigits(a.bytes)} B` : `${groupDigits(a.bytes)} B${a.bytes >= 1024 ? ` (${binarySize(a.bytes)})` : ''}`;
}

/** Predicts one operation: seconds = bytes ÷ min(rate, bandwidth) + files × per-file time. */
export function predict(operation: Prediction['operation'], amount: PlanAmount, rate: PlanRate, bandwidth?: Quantity): Prediction {
  if (!(rate.bytesPerSecond > 0)) throw new CairnError('ERR_INVALID_ARGUMENT', `a rate must be above 0, got ${rate.bytesPerSecond}`, {});
  const capped = bandwidth !== undefined && bandwidth.value < rate.bytesPerSecond;
  const effective = capped ? bandwidth.value : rate.bytesPerSecond;
  const transfer = amount.bytes / effective;
  const lines: string[] = [];
  const rateTerm = `${rate.text} (${formatBytesPerSecond(rate.bytesPerSecond)})`;
  let divisor = rateTerm;
  if (bandwidth !== undefined) {
    const bw = `${bandwidth.text} (${formatBytesPerSecond(bandwidth.value)})`;
    lines.push(`rate: min(${rateTerm}, bandwidth ${bw}) = ${formatBytesPerSecond(effective)}`);
    divisor = formatBytesPerSecond(effective);
  }
  lines.push(`${sizeTerm(amount)} ÷ ${divisor} = ${formatSeconds(transfer)}`);
  const perFile = amount.files !== undefined && amount.files > 0 ? rate.perFile : undefined;
  const fileSeconds = perFile === undefined ? 0 : amount.files! * perFile.seconds;
  if (perFile !== undefined) {
    lines.push(`per file: ${perFile.arithmetic}`);
    lines.push(`${groupDigits(amount.files!)} files × ${(perFile.seconds * 1000).toFixed(3)} ms = ${formatSeconds(fileSeconds)}`);
  }
  const seconds = transfer + fileSeconds;
  const approx = approxDuration(seconds);
  if (perFile !== undefined) lines.push(`${formatSeconds(transfer)} + ${formatSeconds(fileSeconds)} = ${formatSeconds(seconds)} ≈ ${approx}`);
  else lines[lines.length - 1] += ` ≈ ${approx}`;
  return {
    operation,
    bytes: amount.bytes,
    files: amount.files ?? null,
    machine_rate_bytes_per_second: rate.bytesPerSecond,
    bandwidth_bytes_per_second: bandwidth?.value ?? null,
    rate_bytes_per_second: effective,
    limited_by: capped ? 'bandwidth' : 'rate',
    rate_source: rate.source,
    transfer_seconds: transfer,
    per_file_seconds: perFile?.seconds ?? null,
    per_file_source: perFile === undefined ? null : { dataset: perFile.dataset, files_per_second: perFile.files_per_second, bytes_per_file: perFile.bytes_per_file, date: perFile.date },
    file_seconds: fileSeconds,
    seconds,
    approx,
    arithmetic: lines,
  };
}

/** cairn's measured snapshot and restore rates, chosen from the results file. */
export interface BenchRates {
  readonly snapshot: PlanRate;
  readonly restore: PlanRate;
  /** What the choice rests on, for the reader (which datasets, which machine). */
  readonly notes: readonly string[];
}

interface Candidate {
  readonly key: string;
  readonly entry: BenchResultsEntry;
  readonly bytesPerFile: number;
  readonly thisMachine: boolean;
}

function sameMachine(a: PlanMachine, b: PlanMachine): boolean {
  return a.cpu === b.cpu && a.cores === b.cores;
}

function fixedRate(x: number): string {
  return x.toFixed(x >= 100 ? 1 : x >= 10 ? 2 : 3);
}

/**
 * Picks cairn's rates from the stored results (undefined when none has cairn's figures): entries
 * measured on `machine` when there are any, else all of them (a note says so). Large-file rate from
 * the entry with the most bytes per file; per-file time from the one with the fewest (see the
 * module comment), when that is another entry with at least 100 files.
 */
export function benchRates(datasets: Readonly<Record<string, BenchResultsEntry>>, machine: PlanMachine): BenchRates | undefined {
  const all: Candidate[] = [];
  // The file is local but hand-editable: anything that is not the numbers expected is skipped.
  const positive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;
  for (const [key, entry] of Object.entries(datasets)) {
    if (entry === null || typeof entry !== 'object' || !Array.isArray(entry.tools)) continue;
    let t: BenchResultsEntry['cairn'];
    try {
      t = entry.cairn ?? cairnThroughput(entry);
    } catch {
      continue; // tools of another shape
    }
    if (t === undefined || t === null || typeof t !== 'object') continue;
    if (![t.snapshot_mb_per_second, t.restore_mb_per_second, t.snapshot_files_per_second, t.restore_files_per_second, entry.files, entry.bytes].every(positive)) continue;
    const m = entry.machine !== null && typeof entry.machine === 'object' ? entry.machine : { cpu: 'unknown', cores: 0 };
    all.push({ key, entry: { ...entry, cairn: t }, bytesPerFile: entry.bytes / entry.files, thisMachine: sameMachine(m, machine) });
  }
  if (all.length === 0) return undefined;
  const mine = all.filter((c) => c.thisMachine);
  const pool = mine.length > 0 ? mine : all;
  const notes: string[] = [];
  const newest = (a: Candidate, b: Candidate): number => (b.entry.date ?? '').localeCompare(a.entry.date ?? '');
  const large = [...pool].sort((a, b) => b.bytesPerFile - a.bytesPerFile || newest(a, b))[0]!;
  const small = [...pool].sort((a, b) => a.bytesPerFile - b.bytesPerFile || newest(a, b))[0]!;
  const describe = (c: Candidate): string => `${c.key} (${groupDigits(c.entry.files)} files, ${binarySize(c.entry.bytes)}, ${c.entry.date?.slice(0, 10) ?? 'undated'})`;
  if (mine.length === 0) notes.push(`no benchmark of this machine (${machine.cpu}, ${machine.cores} cores) is stored: using ${large.entry.machine?.cpu ?? 'another machine'}'s; run \`cairn bench\` here`);
  notes.push(`large-file rate from ${describe(large)}`);
  const useSmall = small !== large && small.entry.files >= 100;
  if (useSmall) notes.push(`per-file time from ${describe(small)}`);
  else notes.push('no many-files benchmark stored: no per-file time counted (run `cairn bench --dataset usr-share`)');

  const rateOf = (phase: 'snapshot_first' | 'restore'): PlanRate => {
    const t = large.entry.cairn!;
    const mb = phase === 'snapshot_first' ? t.snapshot_mb_per_second : t.restore_mb_per_second;
    const bytesPerSecond = mb * 1e6;
    let perFile: PerFileCost | undefined;
    if (useSmall) {
      const s = small.entry.cairn!;
      const fps = phase === 'snapshot_first' ? s.snapshot_files_per_second : s.restore_files_per_second;
      if (fps > 0) {
        const seconds = Math.max(0, 1 / fps - small.bytesPerFile / bytesPerSecond);
        perFile = {
          seconds,
          dataset: small.key,
          files_per_second: fps,
          bytes_per_file: small.bytesPerFile,
          date: small.entry.date,
          arithmetic: `1 ÷ ${groupDigits(fps, 1)} files/s − ${groupDigits(small.bytesPerFile)} B ÷ ${formatBytesPerSecond(bytesPerSecond)} = ${(seconds * 1000).toFixed(3)} ms (${small.key}${seconds === 0 ? ', not below 0' : ''})`,
        };
      }
    }
    return {
      bytesPerSecond,
      text: `${fixedRate(mb)} MB/s`,
      source: { kind: 'bench', dataset: large.key, phase, mb_per_second: mb, date: large.entry.date, machine: { cpu: large.entry.machine?.cpu ?? 'unknown', cores: large.entry.machine?.cores ?? 0 }, this_machine: large.thisMachine },
      ...(perFile !== undefined ? { perFile } : {}),
    };
  };
  return { snapshot: rateOf('snapshot_first'), restore: rateOf('restore'), notes };
}
