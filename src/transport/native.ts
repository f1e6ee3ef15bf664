/**
 * The production adapter: the `zookeeper` npm package (the ZooKeeper C client, single-threaded, driven
 * by libuv). This is the only module that imports it.
 *
 * Traps of the binding this file absorbs:
 * - A handle is dead after expiry or auth failure; the binding closes it itself. We never touch it again
 *   (reuse can crash the process): the session layer opens a new one.
 * - Per-operation watchers also receive every session event (the C client hands session events to all
 *   registered watchers); those are filtered out so a watcher fires once, for its node event.
 * - Results come as (rc, message) pairs; rc is mapped through the error table. RuntimeInconsistency,
 *   the C client's way of failing requests when it drops a connection whose replies came out of order
 *   (after a send into a reset socket), is a connection loss.
 * - Closing a handle from inside one of its own callbacks frees it under the C client's feet (a crash):
 *   promise continuations run inside the binding's callbacks, so every close is deferred a macrotask.
 * - The C library logs to stderr; its level is process-wide and set here (off unless asked).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { errorFromCode, Code, InvalidArgumentError, ZkError } from '../errors.js';
import type { Acl, CreateMode, Stat, WatchEvent } from '../types.js';
import type {
  AuthInfo,
  CreateRequest,
  Created,
  Transport,
  TransportEvent,
  TransportHandle,
  TransportOptions,
  Watcher,
} from './port.js';

// The binding is CommonJS; its callback API is used (its promise API rejects exists() on a missing node).
const require = createRequire(import.meta.url);

interface NativeStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: Date | number;
  mtime: Date | number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}
type Cb<T extends unknown[]> = (rc: number, message: string, ...rest: T) => void;
type NativeWatcher = (type: number, state: number, path: string) => void;
interface NativeZk {
  on(event: string, listener: (...args: unknown[]) => void): void;
  removeAllListeners(): void;
  init(config: Record<string, unknown>): void;
  close(): void;
  readonly client_id: string;
  readonly client_password: string;
  readonly timeout: number;
  /**
   * The addon itself. Calls go to it directly: the JS wrapper formats a log line with util.inspect on
   * every call, even with logging off (a fifth of a read's CPU time).
   */
  readonly native: NativeAddon;
}
interface NativeAddon {
  a_create(path: string, data: Buffer, flags: number, cb: Cb<[string]>): number;
  a_create_ttl(path: string, data: Buffer, flags: number, ttl: number, cb: Cb<[string]>): number;
  a_get(path: string, watch: boolean, cb: Cb<[NativeStat, Buffer | null]>): number;
  aw_get(path: string, w: NativeWatcher, cb: Cb<[NativeStat, Buffer | null]>): number;
  a_set(path: string, data: Buffer, version: number, cb: Cb<[NativeStat]>): number;
  a_delete_(path: string, version: number, cb: Cb<[]>): number;
  a_exists(path: string, watch: boolean, cb: Cb<[NativeStat]>): number;
  aw_exists(path: string, w: NativeWatcher, cb: Cb<[NativeStat]>): number;
  a_get_children2(path: string, watch: boolean, cb: Cb<[string[], NativeStat]>): number;
  aw_get_children2(path: string, w: NativeWatcher, cb: Cb<[string[], NativeStat]>): number;
  a_sync(path: string, cb: Cb<[string]>): number;
  a_get_acl(path: string, cb: Cb<[NativeAcl[], NativeStat]>): number;
  a_set_acl(path: string, version: number, acl: readonly NativeAclEntry[], cb: Cb<[]>): number;
  add_auth(scheme: string, auth: string, cb: Cb<[]>): number;
  /** Added by scripts/patch-zookeeper.mjs: ttl < 0 for modes without one; acl null for the open ACL. */
  a_create2?(
    path: string,
    data: Buffer,
    flags: number,
    ttl: number,
    acl: readonly NativeAclEntry[] | null,
    cb: Cb<[string, NativeStat | null]>,
  ): number;
  /** Added by scripts/patch-zookeeper.mjs: mode 1 is persistent recursive. */
  a_add_watch?(path: string, mode: number, cb: Cb<[]>): number;
  /** Added by scripts/patch-zookeeper.mjs. */
  a_remove_all_watches?(path: string, type: number, local: boolean, cb: Cb<[]>): number;
}
interface NativeAcl {
  perms: number;
  scheme: string;
  auth: string;
}
/** The addon's ACL entries as it takes them: the permission bits are `perm` (its getACL answers `perms`). */
interface NativeAclEntry {
  perm: number;
  scheme: string;
  auth: string;
}
const toNativeAcl = (acl: readonly Acl[]): NativeAclEntry[] =>
  acl.map((a) => ({ perm: a.perms, scheme: a.scheme, auth: a.id }));
type NativeCtor = new (config: Record<string, unknown>) => NativeZk;

const flags: Record<CreateMode, number> = {
  persistent: 0,
  ephemeral: 1,
  'persistent-sequential': 2,
  'ephemeral-sequential': 3,
  container: 4,
  'persistent-ttl': 5,
  'persistent-sequential-ttl': 6,
};
const ZOO_SESSION_EVENT = -1;
const ZOO_CREATED_EVENT = 1;
const ZOO_DELETED_EVENT = 2;
const ZOO_CHANGED_EVENT = 3;
const ZOO_CHILD_EVENT = 4;
const ZOO_EXPIRED_SESSION_STATE = -112;
/** The binding's events for node events on the handle's own watcher (recursive watches hear these). */
const NODE_EVENTS: readonly (readonly [string, WatchEvent['type']])[] = [
  ['created', 'created'],
  ['deleted', 'deleted'],
  ['changed', 'changed'],
];
const ZOO_AUTH_FAILED_STATE = -113;

export type NativeLogLevel = 'off' | 'error' | 'warn' | 'info' | 'debug';
const logLevels: Record<NativeLogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };

export interface NativeTransportOptions {
  /**
   * The C library's own log level. It writes to the process's stderr (the binding exposes no log
   * stream), so it is off by default; the session's logger receives rxzk's own events either way.
   */
  readonly nativeLogLevel?: NativeLogLevel;
}

/**
 * Whether the installed binding has rxzk's fix for its getACL crash (scripts/patch-zookeeper.mjs, run on
 * install): unpatched, a failing getACL frees a NULL pointer and kills the process.
 */
function aclPatched(): boolean {
  aclPatchedCache ??= (() => {
    try {
      const source = join(dirname(require.resolve('zookeeper/package.json')), 'src', 'node-zk.cpp');
      return readFileSync(source, 'utf8').includes('/* rxzk: guarded acl free */');
    } catch {
      return false;
    }
  })();
  return aclPatchedCache;
}
let aclPatchedCache: boolean | undefined;

let Native: NativeCtor | undefined;
function loadNative(): NativeCtor {
  // Loaded on first use so the memory transport and the pure modules never need the compiled addon.
  Native ??= require('zookeeper') as NativeCtor;
  return Native;
}

/** The transport over the ZooKeeper C client. */
export function nativeTransport(options: NativeTransportOptions = {}): Transport {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object', options);
  }
  const level = logLevels[validateNativeLogLevel(options.nativeLogLevel)];
  return {
    name: 'native',
    open: (transportOptions, onEvent) => new NativeHandle(loadNative(), transportOptions, onEvent, level),
  };
}

/** @internal A log level of the C client (`undefined`: off). */
export function validateNativeLogLevel(level: unknown, argument = 'options.nativeLogLevel'): NativeLogLevel {
  if (level === undefined) return 'off';
  if (typeof level !== 'string' || !Object.hasOwn(logLevels, level)) {
    throw new InvalidArgumentError(argument, `must be one of ${Object.keys(logLevels).join(', ')}`, level);
  }
  return level as NativeLogLevel;
}

function toStat(s: NativeStat): Stat {
  return {
    czxid: s.czxid,
    mzxid: s.mzxid,
    pzxid: s.pzxid,
    ctime: +s.ctime,
    mtime: +s.mtime,
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: s.ephemeralOwner,
    dataLength: s.dataLength,
    numChildren: s.numChildren,
  };
}

function toWatchEvent(type: number, path: string): WatchEvent | undefined {
  switch (type) {
    case ZOO_CREATED_EVENT:
      return { type: 'created', path };
    case ZOO_DELETED_EVENT:
      return { type: 'deleted', path };
    case ZOO_CHANGED_EVENT:
      return { type: 'changed', path };
    case ZOO_CHILD_EVENT:
      return { type: 'children', path };
    default:
      return undefined;
  }
}

/** Closes the handle on the next macrotask; resolves once the C client has sent the session's end. */
function closeLater(zk: NativeZk): Promise<void> {
  return new Promise((resolve) =>
    setImmediate(() => {
      zk.close();
      resolve();
    }),
  );
}

class NativeHandle implements TransportHandle {
  private readonly zk: NativeZk;
  private dead = false;
  /** Only on a binding patched by scripts/patch-zookeeper.mjs. */
  readonly removeWatches: TransportHandle['removeWatches'];
  readonly addRecursiveWatch: TransportHandle['addRecursiveWatch'];
  readonly removeRecursiveWatch: TransportHandle['removeRecursiveWatch'];
  /** Recursive watches by path: the patched C client hands their events to the handle's own watcher. */
  private readonly recursive = new Map<string, Watcher>();
  private connected = false;

  constructor(
    Ctor: NativeCtor,
    options: TransportOptions,
    private readonly onEvent: (event: TransportEvent) => void,
    debugLevel: number,
  ) {
    this.zk = new Ctor({
      connect: options.connectString,
      timeout: options.sessionTimeout,
      debug_level: debugLevel,
      host_order_deterministic: false,
    });
    this.zk.on('connect', () => {
      this.connected = true;
      this.emit({ type: 'connected', sessionId: this.zk.client_id, sessionTimeout: this.zk.timeout });
    });
    this.zk.on('connecting', () => {
      // The server held the recursive watches for the connection that just went, and the C client
      // re-sends only one-shot ones: without this, they would go on hearing the events of those.
      this.recursive.clear();
      if (this.connected) this.emit({ type: 'disconnected' });
      this.connected = false;
    });
    this.zk.on('close', (_zk: unknown, code: unknown) => {
      // The binding closes the handle itself on expiry and auth failure; a close we asked for is silent.
      if (code === ZOO_EXPIRED_SESSION_STATE) this.emit({ type: 'expired' });
      else if (code === ZOO_AUTH_FAILED_STATE) this.emit({ type: 'authFailed' });
      this.dead = true;
    });
    this.zk.init({});
    const remove = this.zk.native.a_remove_all_watches;
    this.removeWatches = remove
      ? (path, kind) =>
          this.call(
            path,
            (cb: Cb<[]>) => remove.call(this.zk.native, path, kind === 'children' ? 1 : 2, false, cb),
            () => undefined,
          ).catch((error: unknown) => {
            // Nothing to remove (it fired meanwhile): the goal is reached.
            if (error instanceof ZkError && error.code === Code.NoWatcher) return;
            throw error;
          })
      : undefined;
    const add = this.zk.native.a_add_watch;
    if (add && remove) {
      for (const [name, type] of NODE_EVENTS) {
        this.zk.on(name, (...args: unknown[]) => this.recursiveEvent(type, args[1] as string));
      }
      this.addRecursiveWatch = (path, watcher) =>
        this.call(
          path,
          (cb: Cb<[]>) => {
            this.recursive.set(path, watcher);
            return add.call(this.zk.native, path, 1, cb);
          },
          () => undefined,
        ).catch((error: unknown) => {
          // Not armed, or armed on a connection that is gone: it must hear nothing meanwhile.
          if (this.recursive.get(path) === watcher) this.recursive.delete(path);
          throw error;
        });
      this.removeRecursiveWatch = (path) => {
        this.recursive.delete(path);
        // Type Any: ZooKeeper 3.6-3.8 knows no narrower one for persistent watches (see the port).
        return this.call(
          path,
          (cb: Cb<[]>) => remove.call(this.zk.native, path, 3, false, cb),
          () => undefined,
        ).catch((error: unknown) => {
          if (error instanceof ZkError && error.code === Code.NoWatcher) return;
          throw error;
        });
      };
    }
    // Auth is queued before any other request; the C client re-sends it on every reconnect of the handle.
    for (const auth of options.auth) void this.addAuth(auth).catch(() => undefined);
  }

  /** A node event the C client handed to the handle's watcher: to the recursive watches above it. */
  private recursiveEvent(type: WatchEvent['type'], path: string): void {
    if (this.dead || this.recursive.size === 0 || typeof path !== 'string') return;
    const event = { type, path } as WatchEvent;
    for (let at = path; ;) {
      this.recursive.get(at)?.(event);
      if (at === '/') return;
      const slash = at.lastIndexOf('/');
      at = slash === 0 ? '/' : at.slice(0, slash);
    }
  }

  get sessionId(): string | undefined {
    return this.connected || this.dead ? this.zk.client_id : undefined;
  }

  get sessionPassword(): string | undefined {
    return this.sessionId === undefined ? undefined : this.zk.client_password;
  }

  private emit(event: TransportEvent): void {
    if (!this.dead) this.onEvent(event);
  }

  /** Runs one binding call; a synchronous non-zero return (bad arguments, dead handle) rejects too. */
  private call<T extends unknown[], R>(
    path: string | undefined,
    start: (cb: Cb<T>) => number,
    done: (...rest: T) => R,
  ): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.dead) return reject(errorFromCode(Code.SessionExpired, { path }));
      const fail = (rc: number): void => reject(this.error(rc, path));
      let rc: number;
      try {
        rc = start((code, _message, ...rest) => (code === 0 ? resolve(done(...rest)) : fail(code)));
      } catch (cause) {
        return reject(
          new ZkError(Code.BadArguments, 'the ZooKeeper client refused the call', { path, cause }),
        );
      }
      if (rc !== 0) fail(rc);
    });
  }

  private error(rc: number, path: string | undefined): ZkError {
    // ZCLOSING / ZINVALIDSTATE mean this handle is gone (expired, or closed because its session was
    // judged lost): to the session layer that is an expired session, and retryable on the next one.
    if (rc === Code.Closing || rc === Code.InvalidState) return errorFromCode(Code.SessionExpired, { path });
    // ZRUNTIMEINCONSISTENCY is how the C client fails every outstanding request when a reply comes out
    // of order, which happens after a send into a reset socket: it closes that socket without failing
    // the requests sent on it (ZOOKEEPER-4210), reconnects, and the next reply is not theirs. The
    // connection was lost with those requests in flight: that is a connection loss, outcome unknown.
    // (Without multi, the server never answers a request with it.)
    if (rc === Code.RuntimeInconsistency) {
      return errorFromCode(Code.ConnectionLoss, {
        path,
        cause: new Error('the ZooKeeper C client dropped its connection: a reply came out of order'),
      });
    }
    return errorFromCode(rc, { path });
  }

  private watcher(watcher: Watcher): NativeWatcher {
    let fired = false;
    return (type, _state, path) => {
      if (type === ZOO_SESSION_EVENT || fired || this.dead) return;
      const event = toWatchEvent(type, path);
      if (!event) return;
      fired = true;
      watcher(event);
    };
  }

  create({ path, data, mode, ttl, acl }: CreateRequest): Promise<Created> {
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const native = this.zk.native;
    const create2 = native.a_create2;
    if (create2) {
      return this.call(
        path,
        (cb: Cb<[string, NativeStat | null]>) =>
          create2.call(native, path, buffer, flags[mode], ttl ?? -1, acl ? toNativeAcl(acl) : null, cb),
        (created, stat) => ({ path: created, stat: toStat(stat!) }),
      );
    }
    // An unpatched binding sends only the open ACL and answers only the path: refuse an ACL rather than
    // leave the node open, and read the Stat back (not atomic with the create, but its node's).
    if (acl) {
      const cause = new Error('the zookeeper binding is unpatched: creating with an ACL needs create2');
      return Promise.reject(
        new ZkError(Code.Unimplemented, 'create with an ACL is disabled', { path, cause }),
      );
    }
    return this.call(
      path,
      (cb: Cb<[string]>) =>
        ttl === undefined
          ? native.a_create(path, buffer, flags[mode], cb)
          : native.a_create_ttl(path, buffer, flags[mode], ttl, cb),
      (created) => created,
    ).then(async (created) => {
      const stat = await this.exists(created);
      if (!stat) throw errorFromCode(Code.NoNode, { path: created });
      return { path: created, stat };
    });
  }

  get(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
    const done = (stat: NativeStat, data: Buffer | null) => ({
      data: data ?? Buffer.alloc(0),
      stat: toStat(stat),
    });
    return watcher
      ? this.call(path, (cb) => this.zk.native.aw_get(path, this.watcher(watcher), cb), done)
      : this.call(path, (cb) => this.zk.native.a_get(path, false, cb), done);
  }

  set(path: string, data: Uint8Array, version: number): Promise<Stat> {
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.call(path, (cb: Cb<[NativeStat]>) => this.zk.native.a_set(path, buffer, version, cb), toStat);
  }

  delete(path: string, version: number): Promise<void> {
    return this.call(
      path,
      (cb: Cb<[]>) => this.zk.native.a_delete_(path, version, cb),
      () => undefined,
    );
  }

  exists(path: string, watcher?: Watcher): Promise<Stat | null> {
    // A missing node is an answer, not an error: NoNode (with the watch left armed for the create).
    const attempt = watcher
      ? this.call(
          path,
          (cb: Cb<[NativeStat]>) => this.zk.native.aw_exists(path, this.watcher(watcher), cb),
          toStat,
        )
      : this.call(path, (cb: Cb<[NativeStat]>) => this.zk.native.a_exists(path, false, cb), toStat);
    return attempt.catch((error: unknown) => {
      if (error instanceof ZkError && error.code === Code.NoNode) return null;
      throw error;
    });
  }

  children(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: Stat }> {
    const done = (children: string[], stat: NativeStat) => ({ children: [...children], stat: toStat(stat) });
    return watcher
      ? this.call(path, (cb) => this.zk.native.aw_get_children2(path, this.watcher(watcher), cb), done)
      : this.call(path, (cb) => this.zk.native.a_get_children2(path, false, cb), done);
  }

  sync(path: string): Promise<void> {
    return this.call(
      path,
      (cb: Cb<[string]>) => this.zk.native.a_sync(path, cb),
      () => undefined,
    );
  }

  getACL(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    if (!aclPatched()) {
      const cause = new Error(
        'the zookeeper binding is unpatched: run `node node_modules/rxzk/scripts/patch-zookeeper.mjs`',
      );
      return Promise.reject(new ZkError(Code.Unimplemented, 'getACL is disabled', { path, cause }));
    }
    return this.call(
      path,
      (cb: Cb<[NativeAcl[], NativeStat]>) => this.zk.native.a_get_acl(path, cb),
      (acl, stat) => ({
        acl: acl.map((a) => ({ perms: a.perms, scheme: a.scheme, id: a.auth })),
        stat: toStat(stat),
      }),
    );
  }

  setACL(path: string, acl: readonly Acl[], version: number): Promise<void> {
    const native = toNativeAcl(acl);
    return this.call(
      path,
      (cb: Cb<[]>) => this.zk.native.a_set_acl(path, version, native, cb),
      () => undefined,
    );
  }

  addAuth(auth: AuthInfo): Promise<void> {
    return this.call(
      undefined,
      (cb: Cb<[]>) => this.zk.native.add_auth(auth.scheme, auth.credentials, cb),
      () => undefined,
    );
  }

  close(): Promise<void> {
    if (this.dead) return Promise.resolve();
    this.dead = true;
    this.zk.removeAllListeners();
    return closeLater(this.zk);
  }
}

/**
 * Expires a live session the way ZooKeeper's own tests do: a second handle joins the session with its
 * id and password, then closes it, which ends the session on the server. The first handle learns of
 * it (`expired`) at its next contact with the server.
 */
export function expireNativeSession(
  connectString: string,
  sessionId: string,
  password: string,
  timeoutMs = 10_000,
): Promise<void> {
  const zk = new (loadNative())({
    connect: connectString,
    timeout: 30_000,
    debug_level: 0,
    client_id: sessionId,
    client_password: password,
  });
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void closeLater(zk);
      reject(new Error(`expireNativeSession: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    zk.on('connect', () => {
      clearTimeout(timer);
      void closeLater(zk);
    });
    zk.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    zk.init({});
  });
}
