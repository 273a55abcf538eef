/**
 * The product's benchmark (`cairn bench`): cairn against restic and borg on the same data, each
 * run as a child process and measured from outside (wall time, peak RSS from /proc, repository
 * size), phase by phase: init, first snapshot, unchanged second snapshot, restore, check.
 * Invariants: every tool gets the same source (warm in the page cache), the same compression
 * (zstd level 3) and cheap key derivation where it allows it; every restore is verified against
 * the source (types, sizes, SHA-256, link targets) before its time counts; the scratch directory
 * is removed at the end, also on failure. The generated checkpoint dataset is deterministic by seed.
 * `cairn plan`'s arithmetic (plan.ts) predicts durations from the stored results; it is pure.
 * Level: with the public surface (index.ts), below the CLI — it runs the built CLI, never imports it.
 */
export { generateCheckpoints, changedRegions, buildManifest, compareManifests, REGION_SIZE, CHANGED_SHARE, CHECKPOINT_NAMES, type CheckpointOptions, type CheckpointSet, type Manifest, type ManifestEntry } from './dataset.js';
export { runMeasured, type Measured, type RunOptions } from './measure.js';
export { PHASES, TOOLS, cairnBinary, type Phase, type ToolName } from './tools.js';
export { runBenchmark, median, type BenchOptions, type BenchDatasetSpec, type BenchSummary, type DatasetResult, type ToolResult, type PhaseResult, type RatioResult } from './run.js';
export { formatBenchText, formatBenchSvg, benchResultsPath, saveBenchResults, loadBenchResults, cairnThroughput, benchResultsKey, type BenchResultsFile, type BenchResultsEntry, type BenchThroughput } from './report.js';
export {
  parsePlanSize, parsePlanRate, predict, benchRates, groupDigits, formatSeconds, approxDuration, formatBytesPerSecond,
  type Quantity, type PlanAmount, type PlanMachine, type PlanRate, type RateSource, type PerFileCost, type Prediction, type BenchRates,
} from './plan.js';
export { sourceTotals, type SourceTotals } from './source.js';
