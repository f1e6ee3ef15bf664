/**
 * Request processing: what PrepRequestProcessor checks (in its order, which decides which error wins),
 * what DataTree applies, and which watches fire. Paths here are the server's (chroot included).
 *
 * Every write takes the next zxid before it is checked: a failed write is logged as an error txn and
 * uses up its zxid, as on the server.
 */
import { Code, errorFromCode } from '../../errors.js';
import { isEphemeral, isSequential, isTtl, OPEN_ACL_UNSAFE, Perms } from '../../types.js';
import type { Acl, CreateMode, Stat } from '../../types.js';
import { addId, authenticate, checkAcl, fixupAcl, maskedAcl } from './acl.js';
import { parentOf, pathProblem } from './paths.js';
import type { ServerSession } from './sessions.js';
import { CONTAINER_OWNER, DataTree, kindOf, MAX_TTL, ttlOwner, type Znode } from './tree.js';
import { WatchManager, type EventType, type WatchTable } from './watches.js';

export interface EngineOptions {
  now(): number;
  readonly extendedTypes: boolean;
  /** A watch of `sessionId` fired. */
  notify(sessionId: string, type: EventType, path: string): void;
  /** Whether the session may READ a node with `acl`: the server sends a watch event only then. */
  readable(sessionId: string, acl: readonly Acl[]): boolean;
}

/** The client's watches, re-sent on reconnect (SetWatches). */
export interface WatchLists {
  readonly data: readonly string[];
  readonly exist: readonly string[];
  readonly child: readonly string[];
}

const SPECIAL_PATHS = new Set(['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']);

export class Engine {
  readonly tree = new DataTree();
  readonly watches = new WatchManager();
  /** The last zxid handed out (lastProcessedZxid). */
  zxid = 0;

  constructor(private readonly options: EngineOptions) {}

  private nextZxid(): number {
    return ++this.zxid;
  }

  private node(path: string): Znode {
    const n = this.tree.get(path);
    if (!n) throw errorFromCode(Code.NoNode, { path });
    return n;
  }

  createSession(): void {
    this.nextZxid();
  }

  create(
    session: ServerSession,
    requested: string,
    data: Uint8Array,
    mode: CreateMode,
    ttl: number | undefined,
    requestedAcl: readonly Acl[] = OPEN_ACL_UNSAFE,
  ): { path: string; stat: Stat } {
    const zxid = this.nextZxid();
    if (isTtl(mode) && !this.options.extendedTypes)
      throw errorFromCode(Code.Unimplemented, { path: requested });
    const validTtl = ttl !== undefined && Number.isInteger(ttl) && ttl > 0 && ttl <= MAX_TTL;
    if (isTtl(mode) ? !validTtl : ttl !== undefined && ttl >= 0) {
      throw errorFromCode(Code.BadArguments, { path: requested });
    }
    const acl = fixupAcl(requestedAcl, session.authIds, requested);
    const parent = this.node(parentOf(requested));
    checkAcl(parent.acl, Perms.Create, session.authIds, requested);
    const path = isSequential(mode) ? requested + sequenceSuffix(parent.cversion) : requested;
    if (pathProblem(path) !== undefined) throw errorFromCode(Code.BadArguments, { path });
    if (this.tree.get(path)) throw errorFromCode(Code.NodeExists, { path });
    if (kindOf(parent.owner) === 'ephemeral') throw errorFromCode(Code.NoChildrenForEphemerals, { path });
    const owner =
      mode === 'container'
        ? CONTAINER_OWNER
        : isTtl(mode)
          ? ttlOwner(ttl ?? 0)
          : isEphemeral(mode)
            ? session.id
            : 0n;
    const created = this.tree.create(path, copy(data), acl, owner, zxid, this.options.now());
    this.fire('data', path, 'created', created.acl);
    this.fire('child', parentOf(path), 'children', parent.acl);
    return { path, stat: this.tree.stat(created) };
  }

  delete(session: ServerSession, path: string, version: number): void {
    const zxid = this.nextZxid();
    if (SPECIAL_PATHS.has(path)) throw errorFromCode(Code.BadArguments, { path });
    const parent = this.node(parentOf(path));
    checkAcl(parent.acl, Perms.Delete, session.authIds, path);
    const n = this.node(path);
    checkVersion(n.version, version, path);
    if (n.children.size > 0) throw errorFromCode(Code.NotEmpty, { path });
    this.remove(path, zxid);
  }

  setData(session: ServerSession, path: string, data: Uint8Array, version: number): Stat {
    const zxid = this.nextZxid();
    const n = this.node(path);
    checkAcl(n.acl, Perms.Write, session.authIds, path);
    n.version = checkVersion(n.version, version, path);
    n.data = copy(data);
    n.mzxid = zxid;
    n.mtime = this.options.now();
    this.fire('data', path, 'changed', n.acl);
    return this.tree.stat(n);
  }

  setACL(session: ServerSession, path: string, acl: readonly Acl[], version: number): Stat {
    this.nextZxid();
    const fixed = fixupAcl(acl, session.authIds, path);
    const n = this.node(path);
    checkAcl(n.acl, Perms.Admin, session.authIds, path);
    n.aversion = checkVersion(n.aversion, version, path);
    n.acl = fixed;
    return this.tree.stat(n);
  }

  getData(session: ServerSession, path: string, watch: boolean): { data: Buffer; stat: Stat } {
    const n = this.node(path);
    checkAcl(n.acl, Perms.Read, session.authIds, path);
    if (watch) this.watches.add('data', path, session.hex);
    return { data: Buffer.from(n.data), stat: this.tree.stat(n) };
  }

  /** No permission needed; the watch is set even on a missing node (it fires on create). */
  exists(session: ServerSession, path: string, watch: boolean): Stat | null {
    if (watch) this.watches.add('data', path, session.hex);
    const n = this.tree.get(path);
    return n ? this.tree.stat(n) : null;
  }

  getChildren(session: ServerSession, path: string, watch: boolean): { children: string[]; stat: Stat } {
    const n = this.node(path);
    checkAcl(n.acl, Perms.Read, session.authIds, path);
    if (watch) this.watches.add('child', path, session.hex);
    return { children: this.tree.children(n), stat: this.tree.stat(n) };
  }

  getACL(session: ServerSession, path: string): { acl: Acl[]; stat: Stat } {
    const n = this.node(path);
    checkAcl(n.acl, Perms.Read | Perms.Admin, session.authIds, path);
    return { acl: maskedAcl(n.acl, session.authIds, path), stat: this.tree.stat(n) };
  }

  addAuth(session: ServerSession, scheme: string, credentials: string): void {
    addId(session.authIds, authenticate(scheme, credentials));
  }

  /**
   * addWatch in mode PERSISTENT_RECURSIVE. No permission needed and the node need not exist: events are
   * filtered by each node's ACL when they fire. 3.8 registers it in both tables (measured: mntr counts it
   * twice), which shows when one half goes: a one-shot exists/getData watch on `path` turns the data half
   * back into a one-shot (creates and changes below stop), a getChildren watch the child half (nothing
   * visible: that half only ever fires deletes, which the data half reports too).
   */
  addWatch(session: ServerSession, path: string): void {
    this.watches.add('data', path, session.hex, 'recursive');
    this.watches.add('child', path, session.hex, 'recursive');
  }

  /** false when the session had no such watch (NoWatcher). `any` removes both kinds, recursive ones too. */
  removeWatches(session: ServerSession, path: string, kind: 'data' | 'children' | 'any'): boolean {
    const child = kind !== 'data' && this.watches.remove('child', path, session.hex);
    const data = kind !== 'children' && this.watches.remove('data', path, session.hex);
    return child || data;
  }

  /** DataTree.setWatches: re-arms what did not change since `relativeZxid`, fires for what did. */
  setWatches(session: ServerSession, relativeZxid: number, lists: WatchLists): void {
    const notify = (type: EventType, path: string) => this.options.notify(session.hex, type, path);
    for (const path of lists.data) {
      const n = this.tree.get(path);
      if (!n) notify('deleted', path);
      else if (n.mzxid > relativeZxid) notify('changed', path);
      else this.watches.add('data', path, session.hex);
    }
    for (const path of lists.exist) {
      // A node created and deleted meanwhile is missing again: the watch is re-armed, nothing fires.
      if (this.tree.get(path)) notify('created', path);
      else this.watches.add('data', path, session.hex);
    }
    for (const path of lists.child) {
      const n = this.tree.get(path);
      if (!n) notify('deleted', path);
      else if (n.pzxid > relativeZxid) notify('children', path);
      else this.watches.add('child', path, session.hex);
    }
  }

  /** closeSession (by the client or by expiry): one txn; every ephemeral goes with its zxid. */
  closeSession(session: ServerSession): void {
    const zxid = this.nextZxid();
    this.watches.removeSession(session.hex);
    for (const path of this.tree.ephemerals(session.id)) this.remove(path, zxid);
  }

  /** deleteContainer, the server's own request for a container or TTL node found empty. */
  deleteContainer(path: string): void {
    const zxid = this.nextZxid();
    const n = this.tree.get(path);
    if (!n || n.children.size > 0 || kindOf(n.owner) === 'ephemeral') return;
    this.remove(path, zxid);
  }

  private remove(path: string, zxid: number): void {
    const acl = this.node(path).acl;
    this.tree.delete(path, zxid);
    // One NodeDeleted per session for both tables, then the parent's children change.
    const told = this.fire('data', path, 'deleted', acl);
    this.fire('child', path, 'deleted', acl, told);
    this.fire('child', parentOf(path), 'children', this.node(parentOf(path)).acl);
  }

  /**
   * Triggers the watches of `table` on `path` (and the recursive ones above it). As the 3.8 server does,
   * a session that may not READ the node is not told: it loses a one-shot watch without an event (so
   * watching a node you cannot read tells you nothing), and its recursive watch skips that node's events.
   */
  private fire(
    table: WatchTable,
    path: string,
    type: EventType,
    acl: readonly Acl[],
    skip?: ReadonlySet<string>,
  ): Set<string> {
    const fired = this.watches.trigger(table, path, type, skip);
    for (const session of fired) {
      if (this.options.readable(session, acl)) this.options.notify(session, type, path);
    }
    return fired;
  }
}

/** PrepRequestProcessor: `String.format("%010d", parentCVersion)`. */
export function sequenceSuffix(cversion: number): string {
  return cversion < 0 ? `-${String(-cversion).padStart(9, '0')}` : String(cversion).padStart(10, '0');
}

/** checkAndIncVersion: -1 matches any; the next version skips -1 after wrapping (ZOOKEEPER-4743). */
function checkVersion(current: number, expected: number, path: string): number {
  if (expected !== -1 && expected !== current) throw errorFromCode(Code.BadVersion, { path });
  const next = (current + 1) | 0;
  return next === -1 ? 0 : next;
}

function copy(data: Uint8Array): Uint8Array {
  return new Uint8Array(data);
}
