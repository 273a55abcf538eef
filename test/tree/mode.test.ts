import { describe, expect, it } from 'vitest';
import { fileModeFromUnix, nodeTypeFromMode, nodeTypeFromUnixMode, unixModeFromFileMode } from '../../src/tree/index.js';

describe('Go os.FileMode <-> Unix st_mode', () => {
  // Values restic 0.14 stored for real files (reference §5, verified).
  it.each<[string, number, number, string]>([
    ['directory 0755', 0o040755, 2147484141, 'dir'],
    ['symlink', 0o120777, 134218239, 'symlink'],
    ['fifo 0644', 0o010644, 33554852, 'fifo'],
    ['setuid file 0755', 0o104755, 8389101, 'file'],
    ['/tmp 1777', 0o041777, 2148532735, 'dir'],
    ['regular file 0644', 0o100644, 420, 'file'],
    ['setgid directory 2775', 0o042775, 2151678461, 'dir'],
    ['block device 0660', 0o060660, (1 << 26) + 0o660, 'dev'],
    ['char device 0666', 0o020666, (1 << 26) + (1 << 21) + 0o666, 'chardev'],
    ['socket 0755', 0o140755, (1 << 24) + 0o755, 'socket'],
  ])('%s', (_label, stMode, fileMode, type) => {
    expect(fileModeFromUnix(stMode)).toBe(fileMode);
    expect(unixModeFromFileMode(fileMode)).toBe(stMode);
    expect(nodeTypeFromMode(fileMode)).toBe(type);
    expect(nodeTypeFromUnixMode(stMode)).toBe(type);
  });

  it('round-trips every permission and special bit for every file type', () => {
    for (const fmt of [0o010000, 0o020000, 0o040000, 0o060000, 0o100000, 0o120000, 0o140000]) {
      for (let perm = 0; perm < 0o10000; perm++) {
        expect(unixModeFromFileMode(fileModeFromUnix(fmt | perm))).toBe(fmt | perm);
      }
    }
  });

  it('has no node type for irregular files or several type bits', () => {
    expect(nodeTypeFromMode(1 << 19)).toBeUndefined();
    expect(nodeTypeFromMode(2 ** 31 + (1 << 27))).toBeUndefined();
    expect(nodeTypeFromMode((1 << 25) + (1 << 24))).toBeUndefined();
  });
});
