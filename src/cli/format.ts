/**
 * Formatting shared by commands: times as restic prints them in tables, durations.
 */
import type { Timestamp } from '../index.js';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** "2006-01-02 15:04:05" in this machine's time zone, as restic's tables show times. */
export function tableTime(t: Timestamp): string {
  const d = new Date(t.sec * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "0:07" or "1:02:03". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h > 0 ? `${h}:` : ''}${h > 0 ? pad(m) : String(m)}:${pad(s % 60)}`;
}
