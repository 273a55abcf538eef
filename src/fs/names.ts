/**
 * User and group names for uids and gids, from /etc/passwd and /etc/group (read once). restic
 * records names alongside ids and omits them when they cannot be resolved; so do we.
 */
import { readFileSync } from 'node:fs';

function parse(path: string): Map<number, string> {
  const out = new Map<number, string>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out; // no such file (some containers): names stay unresolved, as restic leaves them
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    const id = Number(f[2]);
    if (f.length >= 3 && f[0] && Number.isInteger(id) && !out.has(id)) out.set(id, f[0]);
  }
  return out;
}

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

export function userName(uid: number): string | undefined {
  users ??= parse('/etc/passwd');
  return users.get(uid);
}

export function groupName(gid: number): string | undefined {
  groups ??= parse('/etc/group');
  return groups.get(gid);
}

/** The uid for a user name (restore as root maps names first, like restic). */
export function uidOf(name: string): number | undefined {
  users ??= parse('/etc/passwd');
  for (const [id, n] of users) if (n === name) return id;
  return undefined;
}

export function gidOf(name: string): number | undefined {
  groups ??= parse('/etc/group');
  for (const [id, n] of groups) if (n === name) return id;
  return undefined;
}
