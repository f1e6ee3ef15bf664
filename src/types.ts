/** Plain data shapes shared by every layer. */

/**
 * A znode's Stat, as the server reports it. zxids are numbers: a zxid is epoch << 32 | counter, exact in a
 * double until epoch 2^21, which no ensemble reaches.
 */
export interface Stat {
  /** zxid of the create. Also the fencing token recipes hand out. */
  readonly czxid: number;
  /** zxid of the last data change. Changes on every set, and on delete-then-recreate. */
  readonly mzxid: number;
  /** zxid of the last change to the children list. */
  readonly pzxid: number;
  /** Creation time, ms since the epoch (server clock). */
  readonly ctime: number;
  /** Last modification time, ms since the epoch (server clock). */
  readonly mtime: number;
  /** Data version. */
  readonly version: number;
  /** Children version. */
  readonly cversion: number;
  /** ACL version. */
  readonly aversion: number;
  /** Owning session id (hex, as `sessionId`) for an ephemeral node, `'0'` otherwise. */
  readonly ephemeralOwner: string;
  readonly dataLength: number;
  readonly numChildren: number;
}

/** Create modes. TTL modes need the server's `extendedTypesEnabled=true` and a `ttl` option. */
export const CreateMode = {
  Persistent: 'persistent',
  Ephemeral: 'ephemeral',
  PersistentSequential: 'persistent-sequential',
  EphemeralSequential: 'ephemeral-sequential',
  Container: 'container',
  PersistentWithTtl: 'persistent-ttl',
  PersistentSequentialWithTtl: 'persistent-sequential-ttl',
} as const;
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode];

export function isSequential(mode: CreateMode): boolean {
  return mode.includes('sequential');
}
export function isEphemeral(mode: CreateMode): boolean {
  return mode === 'ephemeral' || mode === 'ephemeral-sequential';
}
export function isTtl(mode: CreateMode): boolean {
  return mode.endsWith('-ttl');
}

/** ACL permission bits. */
export const Perms = { Read: 1, Write: 2, Create: 4, Delete: 8, Admin: 16, All: 31 } as const;

export interface Acl {
  /** A bit set of `Perms`. */
  readonly perms: number;
  /** e.g. `'world'`, `'digest'`, `'ip'`, `'auth'`. */
  readonly scheme: string;
  /** e.g. `'anyone'`, `'user:base64(sha1(user:password))'`. */
  readonly id: string;
}

/** world:anyone with every permission: ZooKeeper's OPEN_ACL_UNSAFE. */
export const OPEN_ACL_UNSAFE: readonly Acl[] = [{ perms: Perms.All, scheme: 'world', id: 'anyone' }];
/** Read-only for everyone. */
export const READ_ACL_UNSAFE: readonly Acl[] = [{ perms: Perms.Read, scheme: 'world', id: 'anyone' }];
/** Everything for the creator's authenticated ids (needs `addAuth` first). */
export const CREATOR_ALL_ACL: readonly Acl[] = [{ perms: Perms.All, scheme: 'auth', id: '' }];

/** What a one-shot watch reports. */
export interface WatchEvent {
  readonly type: 'created' | 'deleted' | 'changed' | 'children';
  readonly path: string;
}
