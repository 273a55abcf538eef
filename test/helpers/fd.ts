import { fstatSync } from 'node:fs';

/** Whether descriptor `fd` is open in this process. */
export function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}
