#!/usr/bin/env python3
"""fscases.py ROOT [--devices|--no-devices] [--seed N] -- build a source tree full of the cases a
backup must carry through a restore, and print a JSON report on stdout:

  {"root": bool, "cases": {case name: path key of the entry that shows it}, "skipped": {case: why}}

Path keys are treestat.py's displays. The tree is deterministic for a given seed: two builds
compare equal in everything except inode numbers and ctimes (times are set, content is seeded).

Order matters and is: create everything; set xattrs; chown (which clears setuid/setgid); chmod
(the read-only directory last in effect: nothing is created after it); set atime/mtime with
nanoseconds deepest first and without following symlinks (so directory mtimes survive).
"""
import json
import os
import random
import socket
import stat
import sys

from treestat import display

MiB = 1 << 20


class Builder:
    def __init__(self, root: bytes, devices: bool, seed: int):
        self.root = root
        self.devices = devices
        self.rand = random.Random(seed)
        self.is_root = os.geteuid() == 0
        self.cases: dict = {}
        self.skipped: dict = {}
        self.entries: list = []  # relative paths (bytes) of everything created, root first
        self.modes: dict = {}  # rel -> mode to apply (symlinks excluded)
        self.owners: dict = {}  # rel -> (uid, gid)
        self.times: dict = {}  # rel -> (atime_ns, mtime_ns); the rest get generated times
        self.xattrs: dict = {}  # rel -> [(name, value)]

    def p(self, rel: bytes) -> bytes:
        return os.path.join(self.root, rel) if rel else self.root

    def case(self, name: str, rel: bytes) -> None:
        self.cases[name] = display(rel)

    def add(self, rel: bytes, mode=None) -> bytes:
        self.entries.append(rel)
        if mode is not None:
            self.modes[rel] = mode
        return rel

    def mkdir(self, rel: bytes, mode: int = 0o755) -> bytes:
        os.mkdir(self.p(rel), 0o700)
        return self.add(rel, mode)

    def write(self, rel: bytes, data: bytes, mode: int = 0o644) -> bytes:
        with open(self.p(rel), 'wb') as f:
            f.write(data)
        return self.add(rel, mode)

    def symlink(self, rel: bytes, target: bytes) -> bytes:
        os.symlink(target, self.p(rel))
        return self.add(rel)

    # ---- the cases -------------------------------------------------------------------------

    def build(self) -> None:
        self.add(b'', 0o755)
        self.directories()
        self.files()
        self.names()
        self.symlinks()
        self.hardlinks()
        self.specials()
        self.permissions()
        self.ownership()
        self.extended_attributes()
        self.timestamps()
        self.apply()

    def directories(self) -> None:
        rel = self.mkdir(b'deep')
        for i in range(1, 41):
            rel = self.mkdir(os.path.join(rel, b'd%02d' % i))
        self.write(os.path.join(rel, b'leaf.txt'), b'forty levels down\n')
        self.case('nested-40', rel)
        self.case('empty-dir', self.mkdir(b'empty-dir'))

    def files(self) -> None:
        self.mkdir(b'files')
        self.case('file-empty', self.write(b'files/empty', b''))
        self.case('file-small', self.write(b'files/small.txt', b'hello, cairn\n'))
        self.case('file-random-3mb', self.write(b'files/random.bin', self.rand.randbytes(3 * MiB + 17)))
        # 1 MiB of data, a hole to 20 MiB, 1 MiB of data, a hole to 30 MiB
        rel = self.add(b'files/sparse.bin', 0o644)
        with open(self.p(rel), 'wb') as f:
            f.write(self.rand.randbytes(MiB))
            f.seek(20 * MiB)
            f.write(self.rand.randbytes(MiB))
            f.truncate(30 * MiB)
        self.case('file-sparse', rel)
        rel = self.add(b'files/all-hole.bin', 0o644)
        with open(self.p(rel), 'wb') as f:
            f.truncate(8 * MiB)
        self.case('file-all-hole', rel)

    def names(self) -> None:
        self.mkdir(b'names')
        odd = {
            'name-non-utf8': b'\xff\xfe',
            'name-latin1': b'caf\xe9-latin1',
            'name-newline': b'new\nline',
            'name-carriage-return': b'carriage\rreturn',
            'name-tab': b'tab\there',
            'name-controls': b'ctl\x01\x1f\x7f',
            'name-double-quote': b'double"quote',
            'name-single-quote': b"single'quote",
            'name-backslash': b'back\\slash',
            'name-leading-dash': b'-leading-dash',
            'name-html': b'<>&',
            'name-unicode': 'ünïcødé ☃ 日本語 🎉'.encode(),
            'name-nfc': 'caf\u00e9'.encode(),
            'name-nfd': 'cafe\u0301'.encode(),
            'name-spaces': b' spaced out ',
            'name-hidden': b'.hidden',
            'name-dots': b'...',
            'name-glob': b'*?[glob]{a,b}$HOME%s',
            'name-255-ascii': b'n' * 255,
            'name-255-utf8': ('\u00e9' * 127 + 'x').encode(),
        }
        for case, name in odd.items():
            self.case(case, self.write(os.path.join(b'names', name), name + b'\n'))
        d = self.mkdir(b'names/dir-\xff\n')
        self.write(os.path.join(d, b'child'), b'inside an odd directory\n')
        self.case('name-odd-directory', d)

    def symlinks(self) -> None:
        self.mkdir(b'links')
        self.case('symlink-relative', self.symlink(b'links/relative', b'../files/small.txt'))
        self.case('symlink-absolute', self.symlink(b'links/absolute', b'/usr/bin/env'))
        self.case('symlink-dangling', self.symlink(b'links/dangling', b'does/not/exist'))
        self.case('symlink-to-dir', self.symlink(b'links/to-dir', b'../deep'))
        self.case('symlink-non-utf8-target', self.symlink(b'links/non-utf8', b'\xff\xfe-target\n'))
        self.case('symlink-long-target', self.symlink(b'links/long', b'x/' * 600 + b'end'))
        self.case('symlink-odd-name', self.symlink(b'links/odd-\xff', b'relative'))

    def hardlinks(self) -> None:
        self.mkdir(b'hard')
        self.mkdir(b'hard2')
        a = self.write(b'hard/a', b'one inode, three names\n', 0o640)
        os.link(self.p(a), self.p(b'hard/b'))
        os.link(self.p(a), self.p(b'hard2/c'))
        self.add(b'hard/b')
        self.add(b'hard2/c')
        self.case('hardlink-group-3', a)

    def specials(self) -> None:
        self.mkdir(b'special')
        rel = b'special/fifo'
        os.mkfifo(self.p(rel), 0o600)
        self.case('fifo', self.add(rel, 0o640))
        rel = b'special/socket'
        here = os.getcwd()
        os.chdir(self.p(b'special'))  # sun_path holds 108 bytes: bind a short relative name
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.bind(b'socket')
            finally:
                s.close()
        finally:
            os.chdir(here)
        self.case('socket', self.add(rel, 0o755))
        devices = [('chardev', b'special/null-like', stat.S_IFCHR, os.makedev(1, 3)),
                   ('chardev-big-numbers', b'special/big-chardev', stat.S_IFCHR, os.makedev(4095, 1048575)),
                   ('blockdev', b'special/loop-like', stat.S_IFBLK, os.makedev(7, 200))]
        for case, rel, kind, dev in devices:
            if not self.devices:
                self.skipped[case] = 'devices not requested (default: only as root)'
                continue
            try:
                os.mknod(self.p(rel), 0o600 | kind, dev)
            except OSError as e:
                self.skipped[case] = 'mknod: %s' % e.strerror
                continue
            self.case(case, self.add(rel, 0o660))

    def permissions(self) -> None:
        self.mkdir(b'perms')
        self.case('mode-setuid-file', self.write(b'perms/setuid', b'#!/bin/sh\n', 0o4755))
        self.case('mode-setgid-file', self.write(b'perms/setgid', b'#!/bin/sh\n', 0o2711))
        self.case('mode-sticky-file', self.write(b'perms/sticky', b'sticky\n', 0o1644))
        self.case('mode-all-bits-file', self.write(b'perms/all-bits', b'7777\n', 0o7777))
        self.case('mode-readonly-file', self.write(b'perms/readonly', b'read only\n', 0o444))
        self.case('mode-private-file', self.write(b'perms/private', b'private\n', 0o600))
        if self.is_root:
            self.case('mode-0000-file', self.write(b'perms/none', b'nobody may read this\n', 0o000))
        else:
            self.skipped['mode-0000-file'] = 'not root: the tree could not be read back'
        d = self.mkdir(b'perms/sticky-dir', 0o1777)
        self.write(os.path.join(d, b'child'), b'in a sticky directory\n')
        self.case('mode-sticky-dir', d)
        d = self.mkdir(b'perms/setgid-dir', 0o2775)
        self.write(os.path.join(d, b'child'), b'in a setgid directory\n')
        self.case('mode-setgid-dir', d)
        d = self.mkdir(b'perms/readonly-dir', 0o555)
        self.write(os.path.join(d, b'child-1'), b'written before the directory became read-only\n', 0o644)
        self.write(os.path.join(d, b'child-2'), b'another\n', 0o600)
        sub = self.mkdir(os.path.join(d, b'sub'), 0o555)
        self.write(os.path.join(sub, b'grandchild'), b'deeper\n')
        self.case('mode-readonly-dir-with-children', d)

    def ownership(self) -> None:
        self.mkdir(b'owners')
        wanted = [('owner-1234-5678', b'owners/u1234-g5678', 1234, 5678, 'file'),
                  ('owner-nobody', b'owners/nobody', 65534, 65534, 'file'),
                  ('owner-big-ids', b'owners/big-ids', 2147483650, 4294967294, 'file'),
                  ('owner-dir-4321-8765', b'owners/dir-4321-8765', 4321, 8765, 'dir'),
                  ('owner-symlink-2222-3333', b'owners/symlink-2222-3333', 2222, 3333, 'symlink')]
        for case, rel, uid, gid, kind in wanted:
            if kind == 'file':
                self.write(rel, case.encode() + b'\n', 0o644)
            elif kind == 'dir':
                self.mkdir(rel)
                self.write(os.path.join(rel, b'child'), b'owned too\n')
                self.owners[os.path.join(rel, b'child')] = (uid, gid)
            else:
                self.symlink(rel, b'../files/small.txt')
            if self.is_root:
                self.owners[rel] = (uid, gid)
                self.case(case, rel)
            else:
                self.skipped[case] = 'not root: cannot chown'
        if not self.is_root:
            self.owners = {}

    def extended_attributes(self) -> None:
        self.mkdir(b'xattrs')
        rel = self.write(b'xattrs/file', b'with extended attributes\n')
        self.xattrs[rel] = [(b'user.binary', bytes(range(256))),
                            (b'user.empty', b''),
                            (b'user.text', b'hello'),
                            (b'user.big', self.rand.randbytes(1000)),
                            (b'user.name-\xc3\xa9', b'\xff\x00\xfe')]
        self.case('xattr-user-file', rel)
        d = self.mkdir(b'xattrs/dir')
        self.xattrs[d] = [(b'user.on-a-directory', b'\x00dir\x00')]
        self.case('xattr-user-dir', d)
        rel = self.write(b'xattrs/hardlinked', b'xattrs shared by two names\n')
        os.link(self.p(rel), self.p(b'xattrs/hardlinked-2'))
        self.add(b'xattrs/hardlinked-2')
        self.xattrs[rel] = [(b'user.shared', b'by both names')]
        self.case('xattr-user-hardlinked', rel)
        if self.is_root:
            rel = self.write(b'xattrs/trusted', b'with a trusted attribute\n')
            self.xattrs[rel] = [(b'trusted.cairn', b'\x00\x01\x02'), (b'user.also', b'x')]
            self.case('xattr-trusted', rel)
        else:
            self.skipped['xattr-trusted'] = 'not root: trusted.* needs CAP_SYS_ADMIN'

    def timestamps(self) -> None:
        self.mkdir(b'times')
        wanted = [('time-nanoseconds', b'times/nanoseconds', 1_600_000_000_123_456_789, 1_500_000_000_987_654_321),
                  ('time-before-1970', b'times/before-1970', -1_000_000_000_123_456_789, -2_000_000_000_000_000_001),
                  ('time-one-ns-before-epoch', b'times/minus-one-ns', -1, -1_000_000_000),
                  ('time-epoch', b'times/epoch', 0, 0),
                  ('time-after-2038', b'times/after-2038', 4_102_444_800_999_999_999, 2_200_000_000_000_000_001),
                  ('time-whole-seconds', b'times/whole-seconds', 1_234_567_890_000_000_000, 1_234_567_890_000_000_000)]
        for case, rel, mtime, atime in wanted:
            self.write(rel, case.encode() + b'\n')
            self.times[rel] = (atime, mtime)
            self.case(case, rel)
        rel = self.symlink(b'times/symlink', b'nanoseconds')
        self.times[rel] = (1_400_000_000_111_111_111, 1_300_000_000_222_222_222)
        self.case('time-symlink', rel)
        d = self.mkdir(b'times/dir-before-1970')
        self.write(os.path.join(d, b'child'), b'child\n')
        self.times[d] = (-300_000_000_555_555_555, -400_000_000_444_444_444)
        self.case('time-dir-before-1970', d)

    # ---- metadata, in the order that keeps it ----------------------------------------------

    def apply(self) -> None:
        for rel, pairs in self.xattrs.items():
            for name, value in pairs:
                try:
                    os.setxattr(self.p(rel), name, value, follow_symlinks=False)
                except OSError as e:
                    self.skipped.setdefault('xattrs-unsupported', 'setxattr %s: %s' % (display(name), e.strerror))
                    for case, key in list(self.cases.items()):
                        if case.startswith('xattr-') and key == display(rel):
                            del self.cases[case]
                            self.skipped[case] = 'setxattr: %s' % e.strerror
        for rel, (uid, gid) in self.owners.items():
            os.chown(self.p(rel), uid, gid, follow_symlinks=False)
        for rel, mode in self.modes.items():
            os.chmod(self.p(rel), mode)
        # deepest first, so setting a child never moves a parent's times afterwards (it would
        # not anyway: only creating, renaming or removing names does)
        ordered = sorted(self.entries, key=lambda r: (-r.count(b'/') if r else 1, r))
        for i, rel in enumerate(ordered):
            default = (1_700_000_000_000_000_000 + i * 1_000_003_001 + 17,
                       1_650_000_000_000_000_000 + i * 999_999_937 + 123)
            atime, mtime = self.times.get(rel, default)
            os.utime(self.p(rel), ns=(atime, mtime), follow_symlinks=False)


def main(argv: list) -> int:
    args = argv[1:]
    devices = None
    seed = 1
    root = None
    while args:
        a = args.pop(0)
        if a == '--devices':
            devices = True
        elif a == '--no-devices':
            devices = False
        elif a == '--seed':
            seed = int(args.pop(0))
        elif root is None:
            root = a
        else:
            sys.stderr.write('usage: fscases.py ROOT [--devices|--no-devices] [--seed N]\n')
            return 2
    if root is None:
        sys.stderr.write('usage: fscases.py ROOT [--devices|--no-devices] [--seed N]\n')
        return 2
    rootb = os.fsencode(root)
    os.makedirs(rootb, exist_ok=True)
    if os.listdir(rootb):
        sys.stderr.write('fscases.py: %s is not empty\n' % root)
        return 1
    b = Builder(rootb, os.geteuid() == 0 if devices is None else devices, seed)
    b.build()
    json.dump({'root': b.is_root, 'cases': b.cases, 'skipped': b.skipped}, sys.stdout, ensure_ascii=True)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
