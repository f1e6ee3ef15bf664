/**
 * The transport port: what the session layer needs from a ZooKeeper connection, and nothing more.
 * An adapter maps a client library (the ZooKeeper C client, an in-memory engine) onto it.
 *
 * Contract:
 * - `open()` starts one session attempt on a fresh handle. A handle lives for at most one session: once
 *   it reports `expired` or `authFailed`, or once `close()` was called, it is dead and never used again.
 * - Operations reject with `ZkError`s from the code table (src/errors.ts), never with raw strings.
 * - A watcher passed to a read is one-shot: called at most once, with the event that triggered it.
 *   Session events are not delivered to per-operation watchers; they arrive on `onEvent` only.
 * - While the connection is down (between `disconnected` and `connected`) operations may fail fast with
 *   ConnectionLoss; the session layer decides whether to wait and retry.
 */
import type { Acl, CreateMode, Stat, WatchEvent } from '../types.js';

export interface TransportOptions {
  /** `host:port[,host:port...][/chroot]`. */
  readonly connectString: string;
  /** Requested session timeout in ms; the server may negotiate another. */
  readonly sessionTimeout: number;
  /** Auth to present on this handle before any other request. */
  readonly auth: readonly AuthInfo[];
}

export interface AuthInfo {
  readonly scheme: string;
  readonly credentials: string;
}

/** Connection events of one handle. */
export type TransportEvent =
  /** The handle (re)connected to a server: the first time with a new session, later the same session. */
  | { readonly type: 'connected'; readonly sessionId: string; readonly sessionTimeout: number }
  /** The socket dropped; the library is trying other servers. The session may still live. */
  | { readonly type: 'disconnected' }
  /** The server declared the session expired. The handle is dead. */
  | { readonly type: 'expired' }
  /** Authentication failed. The handle is dead. */
  | { readonly type: 'authFailed' };

export type Watcher = (event: WatchEvent) => void;

export interface CreateRequest {
  readonly path: string;
  readonly data: Uint8Array;
  readonly mode: CreateMode;
  /** Milliseconds, only for TTL modes. */
  readonly ttl?: number | undefined;
  /** The new node's ACL; absent: the open ACL (world:anyone, all permissions). */
  readonly acl?: readonly Acl[] | undefined;
}

/** What a create answers (ZooKeeper's create2): the path made, and the new node's Stat. */
export interface Created {
  /** The created path (with the sequence suffix for sequential modes). */
  readonly path: string;
  readonly stat: Stat;
}

export interface TransportHandle {
  /** The current session id (hex) once connected, `undefined` before. */
  readonly sessionId: string | undefined;
  /** The session password (hex), for test tools that must open a second handle on the same session. */
  readonly sessionPassword: string | undefined;

  /** Creates the node (ZooKeeper's create2) and resolves to its path and Stat. */
  create(request: CreateRequest): Promise<Created>;
  get(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }>;
  set(path: string, data: Uint8Array, version: number): Promise<Stat>;
  delete(path: string, version: number): Promise<void>;
  /** Resolves to `null` for a missing node (the watcher then fires on create). */
  exists(path: string, watcher?: Watcher): Promise<Stat | null>;
  children(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: Stat }>;
  sync(path: string): Promise<void>;
  getACL(path: string): Promise<{ acl: Acl[]; stat: Stat }>;
  setACL(path: string, acl: readonly Acl[], version: number): Promise<void>;
  addAuth(auth: AuthInfo): Promise<void>;
  /**
   * Removes this session's watches of `kind` on `path` from the server ('data' covers exists() watches).
   * Optional: an adapter that cannot leaves such watches armed until they fire.
   */
  removeWatches?(path: string, kind: 'data' | 'children'): Promise<void>;
  /**
   * Arms a persistent recursive watch on `path` (ZooKeeper 3.6+ `addWatch`): `watcher` then hears every
   * `created`, `deleted` and `changed` event at `path` and below (never `children`), until
   * `removeRecursiveWatch(path)`; one per path (arming it again replaces its watcher). The path need not
   * exist. It does not survive a reconnection (the server holds watches per connection and the client
   * restores only one-shot ones): arm it again after `connected`, and read again what it may have missed.
   * Optional, as is its removal: an adapter without them leaves the caller to one-shot watches.
   */
  addRecursiveWatch?(path: string, watcher: Watcher): Promise<void>;
  /**
   * Removes the recursive watch on `path`. On ZooKeeper 3.6-3.8 the server can only remove all of a
   * path's watches of a session at once (removeWatches with type Any), so this session's one-shot
   * watches on `path` itself are gone too, without an event: the caller arms them again.
   */
  removeRecursiveWatch?(path: string): Promise<void>;
  /**
   * Ends the session (if still alive) and the handle. Idempotent. Outstanding operations then reject.
   * May return a promise that resolves once the session's end has been sent to the server (so that a
   * process may exit right after without leaving its ephemerals for a whole session timeout).
   */
  close(): void | Promise<void>;
}

export interface Transport {
  readonly name: string;
  /** Opens a new handle; `onEvent` receives its connection events until it is dead or closed. */
  open(options: TransportOptions, onEvent: (event: TransportEvent) => void): TransportHandle;
}
