/**
 * Output pieces the restic-shaped commands share (diff, find, stats, tag, repo info): restic's
 * byte formatting, and the warning-then-fail handling of snapshot files that do not load.
 */
import { CairnError } from '../index.js';
import type { CommandContext } from './context.js';
import { printWarning } from './output.js';

/** restic's formatBytes: "123 B", "1.500 KiB", "2.000 MiB"… (three decimals, binary units). */
export function formatBytes(n: number): string {
  const units: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [size, unit] of units) if (n > size) return `${(n / size).toFixed(3)} ${unit}`;
  return `${n} B`;
}

/** What a lenient snapshot listing reports about a file it left out. */
interface Unreadable {
  readonly code: string;
  readonly file: string;
  readonly message: string;
}

/**
 * For a command that works on every snapshot it can read: `onUnreadable` prints a warning per
 * snapshot file that does not load (restic's "could not load snapshot …"); `finish()`, called
 * once the command's output is complete, fails with ERR_INCOMPLETE (exit 1) naming them, so a
 * script notices that the result leaves snapshots out.
 */
export function unreadableSnapshots(ctx: CommandContext, during: string): { onUnreadable: (w: Unreadable) => void; finish: () => void } {
  const files: string[] = [];
  return {
    onUnreadable: (w) => {
      files.push(w.file);
      printWarning(ctx, { message: w.message, code: w.code, during, item: w.file });
    },
    finish: () => {
      if (files.length === 0) return;
      files.sort();
      const n = files.length;
      throw new CairnError('ERR_INCOMPLETE', `${n === 1 ? 'a snapshot file' : `${n} snapshot files`} could not be loaded and ${n === 1 ? 'was' : 'were'} left out (${files.slice(0, 3).join(', ')}${n > 3 ? ', …' : ''}); run \`cairn check\``, { data: { unreadable: files } });
    },
  };
}
