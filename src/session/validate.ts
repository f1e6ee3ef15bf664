/**
 * Input validation, run before anything is sent. The path rules are ZooKeeper's own
 * (org.apache.zookeeper.common.PathUtils), so a path rejected here is one the server would reject too.
 */
import { DataTooLargeError, InvalidArgumentError, InvalidPathError } from '../errors.js';
import { isTtl, CreateMode, type Acl } from '../types.js';

/**
 * jute.maxbuffer's default. The server refuses (by dropping the connection) any request whose encoded
 * body is larger, so the data a znode can take is this minus the request's own bytes; `requestOverhead`.
 */
export const MAX_REQUEST_BYTES = 1_048_575;
/** Upper bound for any data argument; the exact bound per request is checked by `validateRequestSize`. */
export const MAX_DATA_BYTES = MAX_REQUEST_BYTES;
/** The server's largest TTL: its ephemeralOwner encoding keeps 40 bits for it (EphemeralType.TTL). */
export const MAX_TTL_MS = 0xff_ffff_ffff;

/**
 * The longest path (UTF-8 bytes) a request can carry: ZooKeeper has no path length rule of its own, but
 * drops the connection on any request above jute.maxbuffer, and a read would then be retried forever.
 * 1 KiB is left for the request's header, data length, ACL and flags, and a chroot.
 */
export const MAX_PATH_BYTES = MAX_REQUEST_BYTES - 1024;

/** The rule a path breaks, or `undefined` when ZooKeeper accepts it. */
export function pathProblem(path: unknown, sequential = false): string | undefined {
  if (typeof path !== 'string') return 'must be a string';
  if (path.length === 0) return 'must not be empty';
  if (path[0] !== '/') return "must start with '/'";
  if (path.length === 1) return undefined;
  // A sequential create appends the counter, so a trailing '/' (or '.') is fine there (the server
  // validates path + "1" in that case).
  const full = sequential ? `${path}1` : path;
  if (full.endsWith('/')) return "must not end with '/'";
  // One pass, no allocation: every stream and operation validates its path.
  let segmentStart = 1;
  for (let i = 1; i <= full.length; i++) {
    if (i < full.length && full.charCodeAt(i) !== 0x2f) continue;
    const length = i - segmentStart;
    if (length === 0) return 'must not contain an empty segment (//)';
    if (
      full.charCodeAt(segmentStart) === 0x2e &&
      (length === 1 || (length === 2 && full.charCodeAt(i - 1) === 0x2e))
    ) {
      return `must not contain a relative segment ('${full.slice(segmentStart, i)}')`;
    }
    segmentStart = i + 1;
  }
  for (let i = 0; i < full.length; i++) {
    const c = full.charCodeAt(i);
    if (c === 0) return `must not contain a null character (at ${i})`;
    if (
      (c > 0x00 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `must not contain the character U+${c.toString(16).toUpperCase().padStart(4, '0')} (at ${i})`;
    }
  }
  // Valid path characters take at most 3 UTF-8 bytes: only a long path is measured.
  if (full.length * 3 > MAX_PATH_BYTES && Buffer.byteLength(full, 'utf8') > MAX_PATH_BYTES) {
    return `must be at most ${MAX_PATH_BYTES} bytes in UTF-8 (the server drops larger requests)`;
  }
  return undefined;
}

/** Throws `InvalidPathError` naming the argument and the rule. */
export function validatePath(path: unknown, argument = 'path', sequential = false): string {
  const problem = pathProblem(path, sequential);
  if (problem !== undefined) throw new InvalidPathError(argument, problem, path);
  return path as string;
}

/** Accepts bytes or a string (encoded as UTF-8); throws for anything else or for too much data. */
export function validateData(data: unknown, argument = 'data'): Uint8Array {
  let bytes: Uint8Array;
  if (data === undefined || data === null) bytes = new Uint8Array(0);
  else if (typeof data === 'string') bytes = Buffer.from(data, 'utf8');
  else if (data instanceof Uint8Array) bytes = data;
  else throw new InvalidArgumentError(argument, 'must be a Uint8Array, a Buffer or a string', typeof data);
  if (bytes.byteLength > MAX_DATA_BYTES) {
    throw new DataTooLargeError(
      argument,
      `must be at most ${MAX_DATA_BYTES} bytes`,
      `${bytes.byteLength} bytes`,
    );
  }
  return bytes;
}

/**
 * Bytes a create or set request takes besides its data, as the client encodes it: xid + type, the
 * length-prefixed path (with the chroot, which the client prepends), the data's length prefix, then
 * for create the ACL (the open one, world:anyone, is 27 bytes) and flags, plus 8 for a TTL; for set the
 * version.
 */
export function requestOverhead(
  kind: 'create' | 'set',
  serverPath: string,
  ttl = false,
  acl?: readonly Acl[],
): number {
  const path = 4 + Buffer.byteLength(serverPath, 'utf8');
  return kind === 'create'
    ? 4 + 4 + path + 4 + (acl ? aclBytes(acl) : OPEN_ACL_BYTES) + 4 + (ttl ? 8 : 0)
    : 4 + 4 + path + 4 + 4;
}

/** world:anyone with all permissions, as the request encodes it. */
const OPEN_ACL_BYTES = 27;

/** An ACL list as a request encodes it: a count, then per entry the perms and two length-prefixed strings. */
export function aclBytes(acl: readonly Acl[]): number {
  let bytes = 4;
  for (const a of acl)
    bytes += 4 + 4 + Buffer.byteLength(a.scheme, 'utf8') + 4 + Buffer.byteLength(a.id, 'utf8');
  return bytes;
}

/** Throws DataTooLargeError when data plus the request's own bytes passes jute.maxbuffer. */
export function validateRequestSize(data: Uint8Array, overhead: number, argument = 'data'): void {
  const limit = MAX_REQUEST_BYTES - overhead;
  if (data.byteLength > limit) {
    throw new DataTooLargeError(
      argument,
      `must be at most ${limit} bytes for this request (jute.maxbuffer ${MAX_REQUEST_BYTES} less ${overhead} bytes of path and header)`,
      `${data.byteLength} bytes`,
    );
  }
}

/** A znode version: -1 (any) or a non-negative int32. */
export function validateVersion(version: unknown, argument = 'version'): number {
  if (version === undefined) return -1;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < -1 || version > 0x7fff_ffff) {
    throw new InvalidArgumentError(
      argument,
      'must be -1 (any version) or an integer from 0 to 2^31-1',
      version,
    );
  }
  return version;
}

export function validateMode(mode: unknown, argument = 'mode'): CreateMode {
  const modes = Object.values(CreateMode) as unknown[];
  if (!modes.includes(mode)) {
    throw new InvalidArgumentError(argument, `must be one of ${modes.join(', ')}`, mode);
  }
  return mode as CreateMode;
}

/** TTL is required for TTL modes (1 ms .. MAX_TTL_MS) and refused for the others. */
export function validateTtl(mode: CreateMode, ttl: unknown, argument = 'ttl'): number | undefined {
  if (!isTtl(mode)) {
    if (ttl !== undefined)
      throw new InvalidArgumentError(argument, `only applies to TTL modes, not '${mode}'`);
    return undefined;
  }
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_MS) {
    throw new InvalidArgumentError(argument, `must be an integer number of ms from 1 to ${MAX_TTL_MS}`, ttl);
  }
  return ttl;
}

/** A positive integer option, e.g. a timeout in ms. */
export function validatePositiveInt(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(argument, 'must be a positive integer', value);
  }
  return value;
}

/** An options object (`undefined`: the defaults). Bad input from JavaScript callers is named, not a TypeError. */
export function validateOptions<T extends object>(options: T | undefined, argument = 'options'): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(argument, 'must be an object', options);
  }
  return options;
}

/** A callback; `undefined` is allowed only when it is `optional`. */
export function validateFunction(value: unknown, argument: string, optional = false): void {
  if (optional && value === undefined) return;
  if (typeof value !== 'function') throw new InvalidArgumentError(argument, 'must be a function', value);
}

/** An optional boolean flag. */
export function validateBoolean(value: unknown, argument: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(argument, 'must be true or false', value);
  }
}

/** An ACL list: a non-empty array of `{ perms, scheme, id }`, each checked (the server's own rules follow). */
export function validateAclList(acl: unknown, argument = 'acl'): readonly Acl[] {
  if (!Array.isArray(acl) || acl.length === 0) {
    throw new InvalidArgumentError(argument, 'must be a non-empty array of { perms, scheme, id }', acl);
  }
  acl.forEach((a: unknown, i) => validateAcl(a, `${argument}[${i}]`));
  return acl as readonly Acl[];
}

/** An optional `acl` option of a recipe: undefined (the open ACL) or a valid ACL list. */
export function validateAclOption(acl: unknown, argument = 'options.acl'): readonly Acl[] | undefined {
  return acl === undefined ? undefined : validateAclList(acl, argument);
}

function validateAcl(acl: unknown, argument: string): void {
  if (typeof acl !== 'object' || acl === null)
    throw new InvalidArgumentError(argument, 'must be an object', acl);
  const { perms, scheme, id } = acl as Record<string, unknown>;
  if (!Number.isInteger(perms) || (perms as number) < 0 || (perms as number) > 31) {
    throw new InvalidArgumentError(`${argument}.perms`, 'must be a bit set of Perms (0..31)', perms);
  }
  if (typeof scheme !== 'string' || scheme.length === 0) {
    throw new InvalidArgumentError(`${argument}.scheme`, 'must be a non-empty string', scheme);
  }
  if (typeof id !== 'string') throw new InvalidArgumentError(`${argument}.id`, 'must be a string', id);
}

/**
 * A client argument: what connect() returns. Checked by shape (its state and the internal reads every
 * stream and recipe uses), so that a second copy of the package still passes; anything else would fail
 * later with a TypeError, far from the call.
 */
export function validateClient(client: unknown, argument = 'client'): void {
  const c = client as { state$?: unknown; streamRead?: unknown; create2?: unknown } | null;
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.streamRead !== 'function' ||
    typeof c.create2 !== 'function' ||
    typeof c.state$ !== 'object'
  ) {
    throw new InvalidArgumentError(argument, 'must be a client made by connect()', client);
  }
}
