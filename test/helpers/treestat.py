#!/usr/bin/env python3
"""treestat.py DIR -- print one JSON line per entry of the tree at DIR (DIR itself first).

An independent witness for cairn's tests: it shares no code with cairn and reads the file system
only through Python's standard library. Paths are bytes throughout and no symlink is ever
followed. Entries come depth-first, names sorted by their raw bytes.

Each line is a JSON object:
  path        injective display of the path relative to DIR ("" for DIR itself): the UTF-8 text,
              with "\\" written "\\\\", undecodable bytes and C0/DEL controls written "\\xNN", C1
              controls written "\\u00NN". Two paths share a display only if their bytes are equal,
              so it is the key the TypeScript side uses.
  path_b64    base64 of the raw path bytes
  type        file | dir | symlink | fifo | socket | chardev | blockdev | unknown
  mode        st_mode & 0o7777 (permission bits with setuid, setgid, sticky)
  uid, gid, nlink                       integers
  mtime_ns, atime_ns, ctime_ns, dev, ino   decimal strings (64-bit values do not fit a double)
  xattrs      [[name display, base64 value], ...] sorted by raw name bytes (all namespaces)
  size, sha256, extents, allocated, blksize      regular files only: st_size, SHA-256 hex of the
              content, the data extents [[start, end), ...] found with SEEK_DATA/SEEK_HOLE
              (one extent [0, size) where the file system cannot tell), st_blocks * 512, st_blksize
  target, target_b64                    symlinks only: display and base64 of the raw target bytes
  rdev (decimal string), rdev_major, rdev_minor   character and block devices only
  errors      only when something could not be read: list of messages

Reading does not disturb access times: directories and files are opened with O_NOATIME where the
kernel allows it (owner or root); readlink(2) always updates a symlink's atime, so when it moved,
the original atime (and mtime) are put back with utimensat(AT_SYMLINK_NOFOLLOW) -- which touches
only the ctime, never compared.
"""
import base64
import errno
import hashlib
import json
import os
import stat
import sys

O_NOATIME = getattr(os, 'O_NOATIME', 0)
CHUNK = 1 << 20


def display(raw: bytes) -> str:
    """An injective, readable rendering of raw bytes (see the module docstring)."""
    out = []
    for ch in raw.decode('utf-8', 'surrogateescape'):
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append('\\x%02x' % (o - 0xDC00))
        elif ch == '\\':
            out.append('\\\\')
        elif o < 0x20 or o == 0x7F:
            out.append('\\x%02x' % o)
        elif 0x80 <= o <= 0x9F:
            out.append('\\u%04x' % o)
        else:
            out.append(ch)
    return ''.join(out)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode('ascii')


def kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return 'file'
    if stat.S_ISDIR(mode):
        return 'dir'
    if stat.S_ISLNK(mode):
        return 'symlink'
    if stat.S_ISFIFO(mode):
        return 'fifo'
    if stat.S_ISSOCK(mode):
        return 'socket'
    if stat.S_ISCHR(mode):
        return 'chardev'
    if stat.S_ISBLK(mode):
        return 'blockdev'
    return 'unknown'


def open_noatime(path: bytes, flags: int) -> int:
    flags |= os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)
    if O_NOATIME:
        try:
            return os.open(path, flags | O_NOATIME)
        except PermissionError:
            pass  # O_NOATIME needs ownership or CAP_FOWNER
    return os.open(path, flags)


def xattrs(path: bytes, errors: list) -> list:
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
            return []
        errors.append('listxattr: %s' % e.strerror)
        return []
    out = []
    for name in names:
        raw = os.fsencode(name)
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
        except OSError as e:
            if e.errno == errno.ENODATA:
                continue  # removed meanwhile
            errors.append('getxattr %s: %s' % (display(raw), e.strerror))
            continue
        out.append((raw, [display(raw), b64(value)]))
    out.sort(key=lambda t: t[0])
    return [pair for _, pair in out]


def data_extents(fd: int, size: int) -> list:
    extents = []
    off = 0
    while off < size:
        try:
            start = os.lseek(fd, off, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                break  # only a hole remains
            if e.errno in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
                return [[0, size]]  # the file system cannot tell: all data
            raise
        if start >= size:
            break
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        extents.append([start, end])
        off = end
    return extents


def file_facts(path: bytes, st: os.stat_result, rec: dict, errors: list, cache: dict) -> None:
    rec['size'] = st.st_size
    rec['allocated'] = st.st_blocks * 512
    rec['blksize'] = st.st_blksize
    key = (st.st_dev, st.st_ino)
    if key in cache:  # another name of an inode already read
        rec['sha256'], rec['extents'] = cache[key]
        return
    try:
        fd = open_noatime(path, os.O_RDONLY)
    except OSError as e:
        errors.append('open: %s' % e.strerror)
        return
    try:
        extents = data_extents(fd, st.st_size)
        h = hashlib.sha256()
        os.lseek(fd, 0, os.SEEK_SET)
        while True:
            buf = os.read(fd, CHUNK)
            if not buf:
                break
            h.update(buf)
        rec['sha256'] = h.hexdigest()
        rec['extents'] = extents
        cache[key] = (rec['sha256'], extents)
    except OSError as e:
        errors.append('read: %s' % e.strerror)
    finally:
        os.close(fd)


def describe(root: bytes, rel: bytes, cache: dict) -> tuple:
    """(record, is_dir) for the entry at root/rel."""
    path = os.path.join(root, rel) if rel else root
    st = os.lstat(path)
    errors: list = []
    t = kind(st.st_mode)
    rec = {
        'path': display(rel),
        'path_b64': b64(rel),
        'type': t,
        'mode': stat.S_IMODE(st.st_mode),
        'uid': st.st_uid,
        'gid': st.st_gid,
        'nlink': st.st_nlink,
        'mtime_ns': str(st.st_mtime_ns),
        'atime_ns': str(st.st_atime_ns),
        'ctime_ns': str(st.st_ctime_ns),
        'dev': str(st.st_dev),
        'ino': str(st.st_ino),
    }
    if t == 'file':
        file_facts(path, st, rec, errors, cache)
    elif t == 'symlink':
        try:
            target = os.readlink(path)
            rec['target'] = display(target)
            rec['target_b64'] = b64(target)
        except OSError as e:
            errors.append('readlink: %s' % e.strerror)
        try:
            after = os.lstat(path)
            if after.st_atime_ns != st.st_atime_ns:
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
        except OSError:
            pass  # best effort: the value reported is the one from before the readlink
    elif t in ('chardev', 'blockdev'):
        rec['rdev'] = str(st.st_rdev)
        rec['rdev_major'] = os.major(st.st_rdev)
        rec['rdev_minor'] = os.minor(st.st_rdev)
    rec['xattrs'] = xattrs(path, errors)
    if errors:
        rec['errors'] = errors
    return rec, t == 'dir'


def list_dir(path: bytes) -> list:
    """Raw names in a directory, sorted by bytes, read without touching its atime.

    os.listdir on a descriptor yields str; os.fsencode undoes the surrogateescape decoding
    exactly, so no byte of a name is lost (checked below).
    """
    fd = open_noatime(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        names = [os.fsencode(n) for n in os.listdir(fd)]
    finally:
        os.close(fd)
    names.sort()
    return names


def walk(root: bytes, out) -> None:
    cache: dict = {}
    stack = [b'']
    while stack:
        rel = stack.pop()
        try:
            rec, is_dir = describe(root, rel, cache)
        except OSError as e:
            out.write(json.dumps({'path': display(rel), 'path_b64': b64(rel), 'type': 'unknown',
                                  'errors': ['lstat: %s' % e.strerror]}) + '\n')
            continue
        children = []
        if is_dir:
            try:
                children = list_dir(os.path.join(root, rel) if rel else root)
            except OSError as e:
                rec.setdefault('errors', []).append('readdir: %s' % e.strerror)
        out.write(json.dumps(rec, ensure_ascii=True) + '\n')
        # reversed, so that popping yields the children in byte order (depth-first)
        for name in reversed(children):
            stack.append(os.path.join(rel, name) if rel else name)


def main(argv: list) -> int:
    if len(argv) != 2:
        sys.stderr.write('usage: treestat.py DIR\n')
        return 2
    if sys.getfilesystemencodeerrors() != 'surrogateescape':
        sys.stderr.write('treestat.py: file system encoding errors must be surrogateescape\n')
        return 2
    root = os.fsencode(argv[1])
    try:
        os.lstat(root)
    except OSError as e:
        sys.stderr.write('treestat.py: %s: %s\n' % (argv[1], e.strerror))
        return 1
    out = sys.stdout
    walk(root, out)
    out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
