/**
 * Tree blobs: `encodeTree` writes the bytes restic would write for the same nodes, `decodeTree`
 * reads what any restic writes.
 *
 * Encoding is Go's json.Marshal of `{"nodes":[…]}` plus "\n", fields in restic's struct order
 * (name, type, mode, mtime, atime, ctime, uid, gid, user, group, inode, device_id, size, links,
 * linktarget, linktarget_raw, extended_attributes, generic_attributes, device, content, subtree,
 * error), zero values omitted where Go's `omitempty` omits them, `content` always written. A name
 * is Go's strconv.Quote of its bytes without the outer quotes, then JSON-encoded. A symlink
 * target is written as restic 0.14 writes it (bytes that are not UTF-8 become U+FFFD) and, only
 * when it is not valid UTF-8, also as base64 in `linktarget_raw` (restic >= 0.16 reads that field,
 * 0.14 ignores it), so no byte is lost. Times go through restic's FixTime (year clamped to
 * 0..9999). Fields of newer restic versions that cairn does not model are kept as raw JSON in
 * `extra` and written back: `generic_attributes` at its Go position, any other after the known
 * fields, sorted by key.
 *
 * Decoding accepts Go's JSON (keys matched case-insensitively, unknown keys kept, `null` leaves a
 * field at its zero value), unquotes names, takes `linktarget_raw` over `linktarget` when present,
 * and reads inode, device_id and device as exact 64-bit integers. It checks what restic's
 * restore and check need: a known type, a name that is non-empty, not `.`/`..` and free of `/`,
 * valid IDs, a subtree for every directory, a content list (possibly empty) for every file.
 * Nodes must be sorted by name bytes and unique (unless `allowUnsorted`): restic always writes
 * them so and looks names up by binary search, although neither restic 0.14's reader nor its
 * `check` verifies it. Any failure is a CairnError ERR_CORRUPT naming `what`.
 *
 * Round trips: encodeTree(decodeTree(b)) = b for every tree restic writes, with one exception
 * restic shares: restic 0.14 wrote a non-UTF-8 symlink target with `\ufffd` escapes; decoded,
 * those are U+FFFD characters, which Go and cairn write back raw (restic's test repository
 * `copy-unstable-json` exists because of this). A `linktarget_raw` holding valid UTF-8 (restic
 * never writes one) is not written back.
 */
import { CairnError, isCairnError, messageOf } from '../errors.js';
import type { BlobId, TreeId } from '../model/index.js';
import { base64Decode, base64Encode, ByteWriter, compactJson, decodeUtf8, describeValue, encodeUtf8, foldKey, goQuote, goUnquote, isValidUtf8, JsonReader, sortedExtraKeys } from '../util/index.js';
import { checkTimestamp, fixTime, formatTime, tryParseTime, ZERO_TIME } from './go-time.js';
import type { ExtendedAttribute, Node, NodeType, Timestamp, Tree } from './types.js';

const NODE_TYPES: ReadonlySet<string> = new Set<NodeType>(['file', 'dir', 'symlink', 'dev', 'chardev', 'fifo', 'socket']);

/** The JSON keys of a restic node that cairn models (lower case, as Go matches them). */
const NODE_KEYS: ReadonlySet<string> = new Set([
  'name',
  'type',
  'mode',
  'mtime',
  'atime',
  'ctime',
  'uid',
  'gid',
  'user',
  'group',
  'inode',
  'device_id',
  'size',
  'links',
  'linktarget',
  'linktarget_raw',
  'extended_attributes',
  'device',
  'content',
  'subtree',
  'error',
]);

/** Newer restic's node field that cairn keeps in `extra` but writes at its Go position. */
const GENERIC_ATTRIBUTES = 'generic_attributes';

const UINT32_MAX = 0xffffffff;
const UINT64_MAX = (1n << 64n) - 1n;

export interface DecodeTreeOptions {
  /**
   * Accept nodes that are not sorted by name or not unique, returning them in stored order
   * (restic before 0.7.3 could store duplicate names). Such a tree cannot be encoded again.
   * @default false
   */
  readonly allowUnsorted?: boolean;
  /**
   * Keep nodes whose names are unsafe (empty, `.`, `..`, containing `/` or NUL) instead of failing
   * the whole tree, so that a restore can refuse just those nodes (check each with
   * `invalidNameReason`) and go on with the rest. Such a tree cannot be encoded again.
   * @default false
   */
  readonly allowUnsafeNames?: boolean;
}

/** Orders byte strings as Go orders strings (bytewise, a prefix first). */
export function compareNames(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** The nodes sorted by name bytes, as a tree must hold them (a new array; stable). */
export function sortNodes(nodes: readonly Node[]): Node[] {
  return [...nodes].sort((x, y) => compareNames(x.name, y.name));
}

/**
 * Why `name` cannot be a node name (empty, `.`, `..`, contains `/` — restic refuses these on
 * restore — or contains NUL, which no file name can), or undefined when it is fine.
 */
export function invalidNameReason(name: Uint8Array): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name.indexOf(0x2f) >= 0) return 'name contains "/"';
  if (name.indexOf(0) >= 0) return 'name contains a NUL byte';
  if (name[0] === 0x2e && (name.length === 1 || (name.length === 2 && name[1] === 0x2e))) return `name "${name.length === 1 ? '.' : '..'}"`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function internal(message: string, data: Record<string, unknown> = {}): never {
  throw new CairnError('ERR_INTERNAL', message, { data });
}

// One-entry cache: restic stores atime = mtime (and often ctime too), so consecutive times repeat.
let cachedSec = NaN;
let cachedNsec = NaN;
let cachedOffset = NaN;
let cachedTime = '';

function labelOf(name: Uint8Array): string {
  return JSON.stringify(goQuote(name));
}

function writeTime(w: ByteWriter, t: Timestamp, field: string, name: Uint8Array): void {
  if (t.sec !== cachedSec || t.nsec !== cachedNsec || t.offset !== cachedOffset) {
    let text: string;
    try {
      checkTimestamp(t, field);
      text = '"' + formatTime(fixTime(t)) + '"';
    } catch (e) {
      return internal(`node ${labelOf(name)}: ${field}: ${messageOf(e)}`);
    }
    cachedSec = t.sec;
    cachedNsec = t.nsec;
    cachedOffset = t.offset;
    cachedTime = text;
  }
  w.ascii(cachedTime);
}

function checkUint(v: number, max: number, field: string, name: Uint8Array): void {
  if (!Number.isInteger(v) || v < 0 || v > max) internal(`node ${labelOf(name)}: ${field} ${v} is not an integer in 0..${max}`);
}

function checkUint64(v: bigint, field: string, name: Uint8Array): void {
  if (typeof v !== 'bigint' || v < 0n || v > UINT64_MAX) internal(`node ${labelOf(name)}: ${field} ${String(v)} is not a 64-bit unsigned integer`);
}

/** True for a 64-character lower-case hex string (isId without a regular expression). */
function isHexId(s: unknown): boolean {
  if (typeof s !== 'string' || s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** The JSON of a node name: Go's Quote of the bytes, JSON-encoded (fast for plain ASCII names). */
function writeName(w: ByteWriter, b: Uint8Array): void {
  const n = b.length;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) {
      w.jsonString(goQuote(b));
      return;
    }
  }
  w.byte(0x22);
  w.bytes(b);
  w.byte(0x22);
}

function encodeNode(w: ByteWriter, node: Node): void {
  const nameBytes = node.name;
  if (!(nameBytes instanceof Uint8Array)) internal('node name is not a Uint8Array');
  const bad = invalidNameReason(nameBytes);
  const label = (): string => labelOf(nameBytes);
  if (bad !== undefined) internal(`node ${label()}: ${bad}`);
  if (!NODE_TYPES.has(node.type)) internal(`node ${label()}: unknown type ${JSON.stringify(node.type)}`);

  w.ascii('{"name":');
  writeName(w, nameBytes);
  w.ascii(',"type":"' + node.type + '"');
  const mode = node.mode ?? 0;
  checkUint(mode, UINT32_MAX, 'mode', nameBytes);
  if (mode !== 0) w.ascii(',"mode":' + mode);
  w.ascii(',"mtime":');
  writeTime(w, node.mtime, 'mtime', nameBytes);
  w.ascii(',"atime":');
  writeTime(w, node.atime, 'atime', nameBytes);
  w.ascii(',"ctime":');
  writeTime(w, node.ctime, 'ctime', nameBytes);
  checkUint(node.uid, UINT32_MAX, 'uid', nameBytes);
  checkUint(node.gid, UINT32_MAX, 'gid', nameBytes);
  w.ascii(',"uid":' + node.uid + ',"gid":' + node.gid);
  if (node.user !== undefined && node.user !== '') {
    w.ascii(',"user":');
    w.jsonString(node.user);
  }
  if (node.group !== undefined && node.group !== '') {
    w.ascii(',"group":');
    w.jsonString(node.group);
  }
  if (node.inode !== undefined) {
    checkUint64(node.inode, 'inode', nameBytes);
    if (node.inode !== 0n) w.ascii(',"inode":' + node.inode);
  }
  if (node.deviceId !== undefined) {
    checkUint64(node.deviceId, 'deviceId', nameBytes);
    if (node.deviceId !== 0n) w.ascii(',"device_id":' + node.deviceId);
  }
  const size = node.size ?? 0;
  checkUint(size, Number.MAX_SAFE_INTEGER, 'size', nameBytes);
  if (size !== 0) w.ascii(',"size":' + size);
  const links = node.links ?? 0;
  checkUint(links, Number.MAX_SAFE_INTEGER, 'links', nameBytes);
  if (links !== 0) w.ascii(',"links":' + links);
  const target = node.linktarget;
  if (target !== undefined && target.length > 0) {
    if (!(target instanceof Uint8Array)) internal(`node ${label()}: linktarget is not a Uint8Array`);
    w.ascii(',"linktarget":');
    w.jsonBytes(target);
    if (!isValidUtf8(target)) w.ascii(',"linktarget_raw":"' + base64Encode(target) + '"');
  }
  const xattrs = node.extendedAttributes;
  if (xattrs !== undefined && xattrs.length > 0) {
    w.ascii(',"extended_attributes":[');
    for (let i = 0; i < xattrs.length; i++) {
      const a = xattrs[i]!;
      if (typeof a.name !== 'string' || !(a.value instanceof Uint8Array)) internal(`node ${label()}: malformed extended attribute`);
      w.ascii(i > 0 ? ',{"name":' : '{"name":');
      w.jsonString(a.name);
      w.ascii(',"value":"' + base64Encode(a.value) + '"}');
    }
    w.byte(0x5d);
  }
  const extra = node.extra;
  const extraKeys = extra === undefined ? [] : sortedExtraKeys(extra, NODE_KEYS, `node ${label()}`);
  for (const k of extraKeys) {
    if (k !== GENERIC_ATTRIBUTES && foldKey(k) === GENERIC_ATTRIBUTES) internal(`node ${label()}: extra field ${JSON.stringify(k)} would be read as generic_attributes`);
  }
  if (extra !== undefined && extra[GENERIC_ATTRIBUTES] !== undefined) {
    w.ascii(',"generic_attributes":');
    w.text(compactJson(extra[GENERIC_ATTRIBUTES]));
  }
  if (node.device !== undefined) {
    checkUint64(node.device, 'device', nameBytes);
    if (node.device !== 0n) w.ascii(',"device":' + node.device);
  }
  const content = node.content;
  if (content === null) {
    if (node.type === 'file') internal(`node ${label()}: a file needs a content list (empty for an empty file), not null`);
    w.ascii(',"content":null');
  } else {
    if (!Array.isArray(content)) internal(`node ${label()}: content is neither an array nor null`);
    w.ascii(',"content":[');
    for (let i = 0; i < content.length; i++) {
      const id = content[i]!;
      if (!isHexId(id)) internal(`node ${label()}: content[${i}] is not an ID`, { value: String(id) });
      w.ascii(i > 0 ? ',"' : '"');
      w.ascii(id);
      w.byte(0x22);
    }
    w.byte(0x5d);
  }
  if (node.subtree !== undefined) {
    if (!isHexId(node.subtree)) internal(`node ${label()}: subtree is not an ID`);
    w.ascii(',"subtree":"' + node.subtree + '"');
  } else if (node.type === 'dir') {
    internal(`node ${label()}: a directory needs a subtree`);
  }
  if (node.error !== undefined && node.error !== '') {
    w.ascii(',"error":');
    w.jsonString(node.error);
  }
  for (const k of extraKeys) {
    if (k === GENERIC_ATTRIBUTES) continue;
    w.byte(0x2c);
    w.jsonString(k);
    w.byte(0x3a);
    w.text(compactJson(extra![k]!));
  }
  w.byte(0x7d);
}

/**
 * The tree blob restic would write for `tree`: Go JSON plus "\n". Throws ERR_INTERNAL when the
 * nodes are not sorted by name bytes and unique, or a node breaks an invariant of `Node`.
 */
export function encodeTree(tree: Tree): Uint8Array {
  const nodes = tree.nodes;
  const w = new ByteWriter(256 + nodes.length * 400);
  w.ascii('{"nodes":[');
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (i > 0) {
      if (compareNames(nodes[i - 1]!.name, node.name) >= 0) {
        internal(`tree nodes are not sorted by name or not unique at index ${i} (${JSON.stringify(goQuote(node.name))})`, { index: i });
      }
      w.byte(0x2c);
    }
    encodeNode(w, node);
  }
  w.ascii(']}\n');
  return w.result();
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Mutable view of a node while it is decoded. */
type Draft = { -readonly [K in keyof Node]?: Node[K] };

function readId(r: JsonReader, field: string): string {
  // restic's ID.UnmarshalJSON takes the raw token: exactly 64 hex digits between quotes.
  const t = r.text;
  const p = r.peek();
  const start = r.pos;
  if (p === 0x22 && t.charCodeAt(start + 65) === 0x22) {
    let upper = false;
    let ok = true;
    for (let i = start + 1; i <= start + 64; i++) {
      const c = t.charCodeAt(i);
      if ((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) continue;
      if (c >= 0x41 && c <= 0x46) upper = true;
      else {
        ok = false;
        break;
      }
    }
    if (ok) {
      r.pos = start + 66;
      // A copy, not a slice: V8 makes a slice of 13 or more characters a view that keeps the
      // whole tree text alive (6 MB for /usr/share/man/man1) as long as any of its IDs lives
      // (a parent's nodes during a snapshot, planned files during a restore).
      const id = (' ' + t.slice(start + 1, start + 65)).slice(1);
      return upper ? id.toLowerCase() : id;
    }
  }
  if (p === 0x22) r.rawString(); // a syntax error in the string wins, as in Go
  return r.fail(`${field} is not a 64-digit hex ID`, start);
}

// One-entry cache: mtime, atime and ctime are often the same text.
let lastTimeText = '\u0000'; // never a raw JSON string (control characters are not allowed)
let lastTime: Timestamp = ZERO_TIME;

function readTime(r: JsonReader, field: string): Timestamp | undefined {
  if (r.isNull()) return undefined;
  const start = r.pos;
  if (r.peek() !== 0x22) r.fail(`${field} is not a string`);
  const text = r.rawString();
  if (text === lastTimeText) return lastTime;
  const t = tryParseTime(text);
  if (t === undefined) r.fail(`${field} is not an RFC 3339 time`, start);
  lastTimeText = text;
  lastTime = Object.freeze(t);
  return lastTime;
}

function readStringOrNull(r: JsonReader): string | undefined {
  return r.isNull() ? undefined : r.string();
}

function readXattrs(r: JsonReader): ExtendedAttribute[] | undefined {
  if (r.isNull()) return undefined;
  const list: ExtendedAttribute[] = [];
  r.openArray();
  for (let first = true; r.nextItem(first); first = false) {
    if (r.isNull()) r.fail('extended attribute is null');
    let name = '';
    let value: Uint8Array = new Uint8Array(0);
    r.openObject();
    for (let f = true; ; f = false) {
      const key = r.nextKey(f);
      if (key === undefined) break;
      const k = key === 'name' || key === 'value' ? key : foldKey(key);
      if (k === 'name') name = readStringOrNull(r) ?? name;
      else if (k === 'value') {
        if (r.isNull()) value = new Uint8Array(0);
        else {
          const start = r.pos;
          const v = base64Decode(r.string());
          if (v === undefined) r.fail('extended attribute value is not base64', start);
          value = v;
        }
      } else r.skipValue();
    }
    list.push({ name, value });
  }
  return list;
}

function readContent(r: JsonReader): BlobId[] | null {
  if (r.isNull()) return null;
  const ids: BlobId[] = [];
  r.openArray();
  for (let first = true; r.nextItem(first); first = false) ids.push(readId(r, 'content ID') as BlobId);
  return ids;
}

function readNode(r: JsonReader, index: number, allowUnsafe = false): Node {
  if (r.isNull()) r.fail(`node ${index} is null`);
  const start = r.pos;
  r.openObject();
  const d: Draft = {};
  let quotedName = '';
  let type = '';
  let mtime: Timestamp = ZERO_TIME;
  let atime: Timestamp = ZERO_TIME;
  let ctime: Timestamp = ZERO_TIME;
  let uid = 0;
  let gid = 0;
  let target: string | undefined;
  let targetRaw: Uint8Array | undefined;
  let content: BlobId[] | null = null;
  let extra: Record<string, string> | undefined;
  for (let first = true; ; first = false) {
    const key = r.nextKey(first);
    if (key === undefined) break;
    const k = NODE_KEYS.has(key) ? key : foldKey(key);
    switch (k) {
      case 'name':
        quotedName = readStringOrNull(r) ?? quotedName;
        break;
      case 'type':
        type = readStringOrNull(r) ?? type;
        break;
      case 'mode':
        if (!r.isNull()) d.mode = r.uint(UINT32_MAX);
        break;
      case 'mtime':
        mtime = readTime(r, 'mtime') ?? mtime;
        break;
      case 'atime':
        atime = readTime(r, 'atime') ?? atime;
        break;
      case 'ctime':
        ctime = readTime(r, 'ctime') ?? ctime;
        break;
      case 'uid':
        if (!r.isNull()) uid = r.uint(UINT32_MAX);
        break;
      case 'gid':
        if (!r.isNull()) gid = r.uint(UINT32_MAX);
        break;
      case 'user':
        if (!r.isNull()) d.user = r.string();
        break;
      case 'group':
        if (!r.isNull()) d.group = r.string();
        break;
      case 'inode':
        if (!r.isNull()) d.inode = r.uint64();
        break;
      case 'device_id':
        if (!r.isNull()) d.deviceId = r.uint64();
        break;
      case 'size':
        if (!r.isNull()) d.size = r.uint(Number.MAX_SAFE_INTEGER);
        break;
      case 'links':
        if (!r.isNull()) d.links = r.uint(Number.MAX_SAFE_INTEGER);
        break;
      case 'linktarget':
        target = readStringOrNull(r) ?? target;
        break;
      case 'linktarget_raw':
        if (r.isNull()) targetRaw = undefined;
        else {
          const at = r.pos;
          const v = base64Decode(r.string());
          if (v === undefined) r.fail('linktarget_raw is not base64', at);
          targetRaw = v;
        }
        break;
      case 'extended_attributes': {
        const list = readXattrs(r);
        if (list === undefined) delete d.extendedAttributes;
        else d.extendedAttributes = list;
        break;
      }
      case 'device':
        if (!r.isNull()) d.device = r.uint64();
        break;
      case 'content':
        content = readContent(r);
        break;
      case 'subtree':
        if (r.isNull()) delete d.subtree;
        else d.subtree = readId(r, 'subtree') as TreeId;
        break;
      case 'error':
        if (!r.isNull()) d.error = r.string();
        break;
      default: {
        const raw = r.skipValue();
        extra ??= Object.create(null) as Record<string, string>;
        if (k === GENERIC_ATTRIBUTES) {
          // Go decodes it into a map: null means none, anything but an object is an error.
          if (raw === 'null') delete extra[GENERIC_ATTRIBUTES];
          else if (raw.charCodeAt(0) !== 0x7b) r.fail('generic_attributes is not an object');
          else extra[GENERIC_ATTRIBUTES] = raw;
        } else {
          extra[key] = raw;
        }
      }
    }
  }

  // Built only for an error: a JSON-quoted copy of every name cost ~5 % of decoding.
  const label = (): string => `node ${index} (${describeValue(quotedName)})`;
  if (!NODE_TYPES.has(type)) r.fail(`${label()} has unknown type ${describeValue(type)}`, start);
  let name: Uint8Array;
  try {
    name = goUnquote(quotedName, r.what);
  } catch (e) {
    return r.fail(`${label()}: name is not a valid Go-quoted string (${messageOf(e)})`, start);
  }
  const bad = invalidNameReason(name);
  if (bad !== undefined && !allowUnsafe) r.fail(`${label()}: ${bad}`, start);
  if (type === 'dir' && d.subtree === undefined) r.fail(`${label()}: directory without subtree`, start);
  if (type === 'file' && content === null) r.fail(`${label()}: file with a null content list`, start);

  const node: Draft = { name, type: type as NodeType };
  if (d.mode !== undefined && d.mode !== 0) node.mode = d.mode;
  node.mtime = mtime;
  node.atime = atime;
  node.ctime = ctime;
  node.uid = uid;
  node.gid = gid;
  if (d.user !== undefined && d.user !== '') node.user = d.user;
  if (d.group !== undefined && d.group !== '') node.group = d.group;
  if (d.inode !== undefined && d.inode !== 0n) node.inode = d.inode;
  if (d.deviceId !== undefined && d.deviceId !== 0n) node.deviceId = d.deviceId;
  if (d.size !== undefined && d.size !== 0) node.size = d.size;
  if (d.links !== undefined && d.links !== 0) node.links = d.links;
  if (targetRaw !== undefined) {
    if (targetRaw.length > 0) node.linktarget = targetRaw;
  } else if (target !== undefined && target !== '') {
    node.linktarget = encodeUtf8(target);
  }
  if (d.extendedAttributes !== undefined && d.extendedAttributes.length > 0) node.extendedAttributes = d.extendedAttributes;
  if (d.device !== undefined && d.device !== 0n) node.device = d.device;
  node.content = content;
  if (d.subtree !== undefined) node.subtree = d.subtree;
  if (d.error !== undefined && d.error !== '') node.error = d.error;
  if (extra !== undefined && Object.keys(extra).length > 0) node.extra = extra;
  return node as Node;
}

/**
 * Decodes a tree blob (restic's JSON, with or without the trailing newline). Throws
 * CairnError ERR_CORRUPT, naming `what`, for anything restic could not read or would refuse on
 * restore or check (see the file comment), and for unsorted or duplicate names unless
 * `options.allowUnsorted`.
 */
export function decodeTree(bytes: Uint8Array, what = 'tree', options: DecodeTreeOptions = {}): Tree {
  const nodes: Node[] = [];
  visitTree(bytes, what, options, { node: (node) => nodes.push(node), restart: () => (nodes.length = 0) });
  return { nodes };
}

/** What `visitTree` passes the nodes to. */
export interface TreeVisitor {
  /** The next node, in stored order. */
  readonly node: (node: Node) => void;
  /** Forget the nodes passed so far: another "nodes" key follows, and the last one counts (as in Go). */
  readonly restart: () => void;
}

/**
 * `decodeTree` one node at a time: the visitor gets each node as it is read, and nothing keeps
 * it, so a tree of many thousand nodes need not be held whole. Checks and throws exactly as
 * `decodeTree` does (the same error for the same bytes), but only after the nodes before the
 * failure have been passed on: a caller must not act on them until this returns. An error the
 * visitor throws propagates unchanged. Returns the number of nodes.
 */
export function visitTree(bytes: Uint8Array, what: string, options: DecodeTreeOptions, visitor: TreeVisitor): number {
  let fromVisitor: unknown = undefined;
  try {
    const r: JsonReader = new JsonReader(decodeUtf8(bytes), what);
    let count: number | undefined;
    // The first node out of order, reported after the whole tree has been read (a syntax error
    // later in the tree wins, as when the nodes were sorted after reading).
    let unsorted: { index: number; name: Uint8Array } | undefined;
    r.openObject();
    for (let first = true; ; first = false) {
      const key = r.nextKey(first);
      if (key === undefined) break;
      if (key !== 'nodes' && foldKey(key) !== 'nodes') {
        r.skipValue();
        continue;
      }
      if (r.isNull()) r.fail('"nodes" is null');
      if (count !== undefined) visitor.restart();
      unsorted = undefined;
      let n = 0;
      let previous: Uint8Array | undefined;
      r.openArray();
      for (let f = true; r.nextItem(f); f = false) {
        const node = readNode(r, n, options.allowUnsafeNames === true);
        if (options.allowUnsorted !== true && unsorted === undefined && previous !== undefined && compareNames(previous, node.name) >= 0) unsorted = { index: n, name: node.name };
        previous = node.name;
        n++;
        try {
          visitor.node(node);
        } catch (e) {
          fromVisitor = e;
          throw e;
        }
      }
      count = n;
    }
    r.end();
    if (count === undefined) r.fail('no "nodes" array', 0);
    if (unsorted !== undefined) r.fail(`nodes are not sorted by name or not unique at node ${unsorted.index} (${describeValue(goQuote(unsorted.name))})`, 0);
    return count;
  } catch (e) {
    if (isCairnError(e, 'ERR_CORRUPT') || (e === fromVisitor && e !== undefined)) throw e;
    throw new CairnError('ERR_CORRUPT', `${what}: cannot decode tree: ${messageOf(e)}`, { cause: e, data: { what } });
  }
}
