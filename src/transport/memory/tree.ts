/**
 * The znode tree (DataTree): nodes by full path, their Stat fields, and the indexes the server keeps
 * (ephemerals by session, containers, TTL nodes). It applies changes; checks and zxids are the
 * caller's (engine.ts), as PrepRequestProcessor and DataTree split the work.
 */
import { OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, type Acl, type Stat } from '../../types.js';
import { ChildSet } from './children.js';
import { childPath, nameOf, parentOf } from './paths.js';

/** EphemeralType's markers in the ephemeralOwner field. */
export const CONTAINER_OWNER = 0x8000000000000000n;
const EXTENDED_MASK = 0xff00000000000000n;
/** The largest TTL the server accepts (EphemeralType.TTL.maxValue(): 40 bits of milliseconds). */
export const MAX_TTL = 0xffffffffff;

export type NodeKind = 'persistent' | 'ephemeral' | 'container' | 'ttl';

export interface Znode {
  data: Uint8Array;
  acl: readonly Acl[];
  readonly czxid: number;
  mzxid: number;
  pzxid: number;
  readonly ctime: number;
  mtime: number;
  version: number;
  /** Child creates so far (the sequence counter); Stat shows another figure, see `stat()`. */
  cversion: number;
  aversion: number;
  /** The raw 64-bit ephemeralOwner: 0, a session id, or a container/TTL marker. */
  readonly owner: bigint;
  readonly children: ChildSet;
}

export function ttlOwner(ttl: number): bigint {
  return EXTENDED_MASK | BigInt(ttl);
}

export function kindOf(owner: bigint): NodeKind {
  if (owner === 0n) return 'persistent';
  if (owner === CONTAINER_OWNER) return 'container';
  if ((owner & EXTENDED_MASK) === EXTENDED_MASK) return 'ttl';
  return 'ephemeral';
}

export function ttlOf(owner: bigint): number {
  return Number(owner & ~EXTENDED_MASK);
}

/** Session ids and owners as the C client binding prints them: `%llx`. */
export function hex(id: bigint): string {
  return id.toString(16);
}

function node(data: Uint8Array, acl: readonly Acl[], owner: bigint, zxid: number, time: number): Znode {
  return {
    data,
    acl,
    czxid: zxid,
    mzxid: zxid,
    pzxid: zxid,
    ctime: time,
    mtime: time,
    version: 0,
    cversion: 0,
    aversion: 0,
    owner,
    children: new ChildSet(),
  };
}

export class DataTree {
  private readonly nodes = new Map<string, Znode>();
  /** Session id -> paths of its ephemerals, in creation order. */
  private readonly ephemeralsBySession = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();

  constructor() {
    // As DataTree's constructor: /, /zookeeper, /zookeeper/quota and /zookeeper/config, all at zxid 0
    // and time 0, added without touching the parents' cversion; the config node is read-only and its
    // setACL(..., -1) leaves aversion at -1.
    const empty = new Uint8Array(0);
    this.nodes.set('/', node(empty, OPEN_ACL_UNSAFE, 0n, 0, 0));
    for (const path of ['/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      this.nodes.set(path, node(empty, OPEN_ACL_UNSAFE, 0n, 0, 0));
      this.nodes.get(parentOf(path))?.children.add(nameOf(path));
    }
    const config = this.nodes.get('/zookeeper/config');
    if (config) {
      config.acl = READ_ACL_UNSAFE;
      config.aversion = -1;
    }
  }

  get(path: string): Znode | undefined {
    return this.nodes.get(path);
  }

  /** Ephemeral paths of a session, in creation order. */
  ephemerals(sessionId: bigint): string[] {
    return [...(this.ephemeralsBySession.get(sessionId) ?? [])];
  }

  stat(n: Znode): Stat {
    return {
      czxid: n.czxid,
      mzxid: n.mzxid,
      pzxid: n.pzxid,
      ctime: n.ctime,
      mtime: n.mtime,
      version: n.version,
      // DataNode.copyStat: the stored cversion counts creates; clients see creates + deletes, taken as
      // one delete per create whose child is gone (so '/' on a fresh server shows -1).
      cversion: (n.cversion * 2 - n.children.size) | 0,
      aversion: n.aversion,
      // Containers and TTL nodes keep a marker in the field; clients see 0 (getClientEphemeralOwner).
      ephemeralOwner: kindOf(n.owner) === 'ephemeral' ? hex(n.owner) : '0',
      dataLength: n.data.byteLength,
      numChildren: n.children.size,
    };
  }

  children(n: Znode): string[] {
    return n.children.values();
  }

  /** Adds a node under an existing parent: the parent's cversion goes up, its pzxid becomes `zxid`. */
  create(
    path: string,
    data: Uint8Array,
    acl: readonly Acl[],
    owner: bigint,
    zxid: number,
    time: number,
  ): Znode {
    const parent = this.nodes.get(parentOf(path));
    if (!parent) throw new Error(`memory engine: no parent for ${path}`);
    const created = node(data, acl, owner, zxid, time);
    parent.cversion = (parent.cversion + 1) | 0;
    parent.pzxid = zxid;
    parent.children.add(nameOf(path));
    this.nodes.set(path, created);
    const kind = kindOf(owner);
    if (kind === 'container') this.containers.add(path);
    else if (kind === 'ttl') this.ttls.add(path);
    else if (kind === 'ephemeral') {
      let paths = this.ephemeralsBySession.get(owner);
      if (!paths) this.ephemeralsBySession.set(owner, (paths = new Set()));
      paths.add(path);
    }
    return created;
  }

  /** Removes a childless node: the parent's pzxid becomes `zxid`; its cversion does not change. */
  delete(path: string, zxid: number): Znode | undefined {
    const removed = this.nodes.get(path);
    if (!removed) return undefined;
    const parent = this.nodes.get(parentOf(path));
    if (parent) {
      parent.children.delete(nameOf(path));
      if (zxid > parent.pzxid) parent.pzxid = zxid;
    }
    this.nodes.delete(path);
    this.containers.delete(path);
    this.ttls.delete(path);
    const paths = this.ephemeralsBySession.get(removed.owner);
    paths?.delete(path);
    if (paths?.size === 0) this.ephemeralsBySession.delete(removed.owner);
    return removed;
  }

  /** Every path under `path` (for tests and introspection). */
  descendants(path: string): string[] {
    const n = this.nodes.get(path);
    if (!n) return [];
    return n.children.values().flatMap((name) => {
      const child = childPath(path, name);
      return [child, ...this.descendants(child)];
    });
  }
}
