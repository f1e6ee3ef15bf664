/**
 * `connect()` and the client: typed, Promise-based operations on a session that heals itself.
 */
import { asyncScheduler, firstValueFrom, timer, type Observable, type SchedulerLike } from 'rxjs';
import { ClosedError, Code, errorFromCode, InvalidArgumentError, isRetryable } from '../errors.js';
import { nativeTransport, validateNativeLogLevel, type NativeLogLevel } from '../transport/native.js';
import type { AuthInfo, Created, Transport, TransportHandle, Watcher } from '../transport/port.js';
import { isSequential, type Acl, type CreateMode, type Stat, type WatchEvent } from '../types.js';
import { Connection } from './connection.js';
import { createNode, protectedPath, type CreatePlan } from './create.js';
import { embeddedServer, embeddedTarget } from './embedded.js';
import { silentLogger, type Logger } from './logger.js';
import { registry } from './registry.js';
import { backoffDelay, retryPolicy, type RetryPolicy } from './retry.js';
import { WatchTable, type WatchKind } from './watches.js';
import type { SessionState } from './state.js';
import {
  validateBoolean,
  validateData,
  validateFunction,
  validateMode,
  validateOptions,
  validatePath,
  requestOverhead,
  validatePositiveInt,
  validateRequestSize,
  validateTtl,
  validateVersion,
  validateAclList,
  aclBytes,
  MAX_REQUEST_BYTES,
} from './validate.js';

export interface ConnectOptions {
  /** Requested session timeout in ms (the server bounds it to 2..20 ticks). Default 30,000. */
  readonly sessionTimeout?: number;
  /** How long an operation waits for a live connection before failing with ConnectionLoss. Default 15,000. */
  readonly connectionTimeout?: number;
  /** Credentials presented on every session, e.g. `[{ scheme: 'digest', credentials: 'user:secret' }]`. */
  readonly auth?: readonly AuthInfo[];
  /** Backoff for operations that meet connection loss. */
  readonly retry?: Partial<RetryPolicy>;
  /** Open a new session by itself after `lost`. Default true. */
  readonly reconnect?: boolean;
  readonly logger?: Logger;
  /** Clock for every timer of the client (session-lost timer, backoff, timeouts). Default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Default: the ZooKeeper C client (`nativeTransport()`), or the embedded engine for `memory://`. */
  readonly transport?: Transport;
  /** The C client's own stderr log level when the default transport is used. Default 'off'. */
  readonly nativeLogLevel?: NativeLogLevel;
}

export interface CreateOptions {
  /** Default 'persistent'. */
  readonly mode?: CreateMode;
  /** Milliseconds; required for TTL modes. */
  readonly ttl?: number;
  /** Create missing ancestors first: `true` as persistent nodes, `'container'` as container nodes. */
  readonly createParents?: boolean | 'container';
  /**
   * Put a protection GUID in the name (`<parent>/_c_<uuid>-<name>`) so that a create whose reply is lost
   * is found instead of repeated. Default: on for sequential modes, off otherwise.
   */
  readonly protect?: boolean;
  /**
   * A recoverable create (protected, or a plain ephemeral) whose reply was lost and whose node is then
   * not found (by its GUID, or as this session's ephemeral) was either never made or made and deleted
   * since, by someone else: a queue consumer that took the item, say. 'retry' (default) sends it again:
   * never lost, but then made twice. 'reject' rejects with ConnectionLossError instead, its `path` the
   * name that was sent (GUID included): never made twice, and the caller decides. Creates that are not
   * recoverable reject that way whatever this says.
   */
  readonly onLostReply?: 'retry' | 'reject';
  /**
   * The node's ACL, e.g. `[{ perms: Perms.All, scheme: 'digest', id: 'app:<base64 sha1>' }]` or
   * `[{ perms: Perms.All, scheme: 'auth', id: '' }]` (whoever this session authenticated as). Default: the
   * open ACL. Parents made by `createParents` get the same ACL.
   */
  readonly acl?: readonly Acl[];
}

export interface WatchOptions {
  /** A one-shot watch: called once, with the next event on this node. */
  readonly watch?: Watcher;
}

interface RecursiveWatch {
  readonly listeners: Set<Watcher>;
  /** The connection (see `connections`) it was last armed on, and that arming. */
  connection: number;
  armed: Promise<void> | undefined;
}

/** A ZooKeeper client. Obtain one with `connect()`. */
export class ZkClient {
  /** Hot; replays the current state; completes after `closed`. */
  readonly state$: Observable<SessionState>;
  private readonly connection: Connection;
  private readonly retry: RetryPolicy;
  /** The clock of every timer of this client; streams built on the client use it too. */
  readonly scheduler: SchedulerLike;
  /** Operations in flight: their reject, and their promise (see close()). */
  private readonly pending = new Map<(error: Error) => void, Promise<unknown>>();
  private readonly watches = new WatchTable();
  /** Recursive watches by path: their listeners, and the connection they were armed on. */
  private readonly recursive = new Map<string, RecursiveWatch>();
  /** Bumped at every (re)connection: recursive watches do not survive one (the server's are per connection). */
  private connections = 0;
  /** The connect string's chroot ('' for none): the client prepends it to every path it sends. */
  private readonly chroot: string;

  /** @internal Use `connect()`. */
  constructor(
    readonly connectString: string,
    options: ConnectOptions = {},
  ) {
    validateConnectOptions(options);
    const scheduler = options.scheduler ?? asyncScheduler;
    const embedded = embeddedTarget(connectString);
    const slash = connectString.indexOf('/');
    this.chroot = embedded
      ? embedded.chroot
      : slash === -1 || connectString.length === slash + 1
        ? ''
        : connectString.slice(slash);
    const auth = [...(options.auth ?? [])];
    this.retry = retryPolicy(options.retry, 'options.retry');
    this.scheduler = scheduler;
    this.connection = new Connection({
      // The memory engine reads the chroot from what follows the first '/', as the C client does.
      connectString: embedded ? `memory:${embedded.name}${embedded.chroot}` : connectString,
      sessionTimeout: validatePositiveInt(options.sessionTimeout ?? 30_000, 'options.sessionTimeout'),
      connectionTimeout: validatePositiveInt(
        options.connectionTimeout ?? 15_000,
        'options.connectionTimeout',
      ),
      auth,
      reconnect: options.reconnect ?? true,
      retry: this.retry,
      transport:
        options.transport ??
        (embedded
          ? embeddedServer(embedded.name).transport
          : nativeTransport({ nativeLogLevel: options.nativeLogLevel })),
      scheduler,
      logger: options.logger ?? silentLogger,
    });
    this.state$ = this.connection.state$.asObservable();
    // Subscribed before anything built on the client (streams, recipes): by the time they hear of a
    // (re)connection, served watches have been woken and recursive ones know they must be armed again.
    this.connection.state$.subscribe((state) => {
      if (state.type !== 'connected' && state.type !== 'reconnected') return;
      this.connections++;
      this.watches.reconnected();
    });
    registry.clientOpened();
  }

  get state(): SessionState {
    return this.connection.state;
  }

  /** Resolves once a session is live (bounded by `connectionTimeout`); rejects with ClosedError after close. */
  async ready(): Promise<void> {
    await this.connection.live();
  }

  /** The id of the current session (hex), or undefined while there is none. */
  get sessionId(): string | undefined {
    const state = this.state;
    return 'sessionId' in state && state.type !== 'lost' ? state.sessionId : undefined;
  }

  /**
   * Creates a node and resolves to its path (with the sequence suffix for sequential modes, and the
   * protection prefix when protected). Nodes get the open ACL unless `options.acl` says otherwise.
   */
  create(path: string, data?: Uint8Array | string, options: CreateOptions = {}): Promise<string> {
    return rejecting(() => {
      const plan = this.createPlan(path, data, options);
      return this.track(() => createNode(this.createContext, plan).then((created) => created.path));
    });
  }

  /**
   * Creates a node like `create()` and resolves to its path and its Stat, from the create's own reply
   * (ZooKeeper's create2): the czxid, the owner of an ephemeral, the parent-visible counters.
   */
  create2(path: string, data?: Uint8Array | string, options: CreateOptions = {}): Promise<Created> {
    return rejecting(() => {
      const plan = this.createPlan(path, data, options);
      return this.track(() =>
        createNode(this.createContext, plan).then(({ path: created, stat }) => {
          // A lost reply, the node found by its GUID, then deleted by someone before it could be read.
          if (stat === undefined) throw errorFromCode(Code.NoNode, { path: created });
          return { path: created, stat };
        }),
      );
    });
  }

  private readonly createContext = {
    live: () => this.connection.live(),
    backoff: (attempt: number, error: unknown) => this.backoff(attempt, error),
  };

  /** Validates a create's arguments (everything before anything is sent) into a plan. */
  private createPlan(
    path: string,
    data: Uint8Array | string | undefined,
    options: CreateOptions,
  ): CreatePlan {
    validateOptions(options);
    const mode = validateMode(options.mode ?? 'persistent', 'options.mode');
    validatePath(path, 'path', isSequential(mode));
    const bytes = validateData(data);
    const ttl = validateTtl(mode, options.ttl, 'options.ttl');
    const { createParents } = options;
    if (createParents !== undefined && typeof createParents !== 'boolean' && createParents !== 'container') {
      throw new InvalidArgumentError(
        'options.createParents',
        "must be true, false or 'container'",
        createParents,
      );
    }
    validateBoolean(options.protect, 'options.protect');
    const { onLostReply } = options;
    if (onLostReply !== undefined && onLostReply !== 'retry' && onLostReply !== 'reject') {
      throw new InvalidArgumentError('options.onLostReply', "must be 'retry' or 'reject'", onLostReply);
    }
    const acl = options.acl === undefined ? undefined : validateAclList(options.acl, 'options.acl');
    const protect = options.protect ?? isSequential(mode);
    const sentPath = this.chroot + (protect ? protectedPath(path, PROTECTION_SAMPLE) : path);
    validateRequestSize(bytes, requestOverhead('create', sentPath, ttl !== undefined, acl));
    return {
      path,
      data: bytes,
      mode,
      ttl,
      protect,
      onLostReply: onLostReply ?? 'retry',
      acl,
      parents: createParents === 'container' ? 'container' : createParents ? 'persistent' : undefined,
    };
  }

  /**
   * @internal The bytes a create of `path` (protected or not, with `acl`) takes besides its data, as
   * sent (with the chroot): recipes check their nodes' data against it when they are called, not when
   * they first create the node.
   */
  createOverhead(path: string, protect: boolean, acl?: readonly Acl[]): number {
    const sent = this.chroot + (protect ? protectedPath(path, PROTECTION_SAMPLE) : path);
    return requestOverhead('create', sent, false, acl);
  }

  /** Data and Stat. Rejects with NoNodeError when the node does not exist. Retried on connection loss. */
  get(path: string, options: WatchOptions = {}): Promise<{ data: Buffer; stat: Stat }> {
    // Not an async function: reads are the streams' hot path, and the extra promise layer shows.
    // Bad input still rejects (never throws), as from every other operation.
    const invalid = invalidRead(path, options);
    if (invalid) return Promise.reject(invalid);
    return this.read((h) => this.watched(h, 'data', path, options.watch, (w) => h.get(path, w)));
  }

  /** Sets data if `version` matches (-1: any). Resolves to the new Stat. Not retried once sent. */
  set(path: string, data: Uint8Array | string, version = -1): Promise<Stat> {
    return rejecting(() => {
      validatePath(path);
      const bytes = validateData(data);
      validateVersion(version);
      validateRequestSize(bytes, requestOverhead('set', this.chroot + path));
      return this.write((h) => h.set(path, bytes, version));
    });
  }

  /** Deletes a childless node if `version` matches (-1: any). Not retried once sent. */
  delete(path: string, version = -1): Promise<void> {
    return rejecting(() => {
      validatePath(path);
      validateVersion(version);
      return this.write((h) => h.delete(path, version));
    });
  }

  /** The Stat, or null when the node does not exist (then the watch fires on its creation). */
  exists(path: string, options: WatchOptions = {}): Promise<Stat | null> {
    return rejecting(() => {
      const invalid = invalidRead(path, options);
      if (invalid) throw invalid;
      const watch = options.watch;
      return this.read(async (h) => {
        this.watches.use(h);
        if (!watch) return h.exists(path);
        // The kind of watch exists() arms depends on its answer: join one only when it matches.
        const kindOf = (stat: Stat | null): WatchKind => (stat ? 'data' : 'exist');
        if (this.watches.isArmed('data', path) || this.watches.isArmed('exist', path)) {
          const stamp = this.watches.stamp();
          const stat = await h.exists(path);
          if (this.watches.join(kindOf(stat), path, watch, stamp)) return stat;
        }
        let kind: WatchKind = 'data';
        const stamp = this.watches.stamp();
        const stat = await h.exists(
          path,
          this.watches.callback(() => kind, path),
        );
        kind = kindOf(stat);
        this.watches.armed(kind, path, watch, stamp);
        return stat;
      });
    });
  }

  /** Child names (in the server's order) and the parent's Stat. Rejects with NoNodeError for a missing parent. */
  children(path: string, options: WatchOptions = {}): Promise<{ children: string[]; stat: Stat }> {
    const invalid = invalidRead(path, options);
    if (invalid) return Promise.reject(invalid);
    return this.read((h) => this.watched(h, 'child', path, options.watch, (w) => h.children(path, w)));
  }

  /**
   * Stops calling `watcher` (passed to get/exists/children earlier). When no listener is left on that
   * path's watch, the watch is removed from the server too (on a patched binding).
   */
  unwatch(watcher: Watcher): void {
    validateFunction(watcher, 'watcher');
    this.watches.unwatch(watcher);
  }

  /**
   * @internal Whether this client's transport has recursive watches (ZooKeeper 3.6+ `addWatch`; the
   * patched binding, the memory engine). Known once a handle is open (from the constructor on).
   */
  get recursiveWatches(): boolean {
    const handle = this.connection.currentHandle();
    return handle?.addRecursiveWatch !== undefined && handle.removeRecursiveWatch !== undefined;
  }

  /**
   * @internal Adds `listener` to the recursive watch on `path` (every created/deleted/changed at and below
   * it), arming it on the server when this connection has none yet; resolves once it is armed. A
   * recursive watch does not survive a reconnection: call again after `reconnected`/`connected` (it
   * re-arms once per connection), then read again what may have changed meanwhile. Not retried.
   */
  watchRecursive(path: string, listener: Watcher): Promise<void> {
    let watch = this.recursive.get(path);
    if (!watch)
      this.recursive.set(path, (watch = { listeners: new Set(), connection: -1, armed: undefined }));
    watch.listeners.add(listener);
    if (watch.connection === this.connections && watch.armed) return watch.armed;
    const entry = watch;
    entry.connection = this.connections;
    entry.armed = this.read((h) => {
      // The connection it is sent on (a read waits for one): a later call on this one finds it armed.
      entry.connection = this.connections;
      this.watches.use(h);
      const wake = this.watches.cover(path);
      const arming = h.addRecursiveWatch!(path, (event) => this.recursiveEvent(entry, path, event));
      wake();
      return arming;
    });
    return entry.armed;
  }

  /** @internal Removes `listener`; the last one leaving removes the recursive watch from the server. */
  unwatchRecursive(path: string, listener: Watcher): void {
    const watch = this.recursive.get(path);
    if (!watch?.listeners.delete(listener) || watch.listeners.size > 0) return;
    this.recursive.delete(path);
    const handle = this.connection.liveHandle();
    // Not connected: the server's watch went with the connection; the next one never had it.
    if (!handle || this.state.type === 'closed' || watch.connection !== this.connections) {
      this.watches.uncover(path, false)();
      return;
    }
    const wake = this.watches.uncover(path, true);
    handle.removeRecursiveWatch!(path).then(wake, wake);
  }

  private recursiveEvent(watch: RecursiveWatch, path: string, event: WatchEvent): void {
    if (this.recursive.get(path) !== watch) return;
    if (event.path === path) this.watches.serve(path, event);
    for (const listener of watch.listeners) listener(event);
  }

  /**
   * @internal A read without a watch for the streams (a path already validated), in as few promises as
   * possible: straight to the live handle, the public path (waiting, retries) when it cannot.
   */
  plainRead(kind: 'data', path: string): Promise<{ data: Buffer; stat: Stat }>;
  plainRead(kind: 'child', path: string): Promise<{ children: string[]; stat: Stat }>;
  plainRead(
    kind: 'data' | 'child',
    path: string,
  ): Promise<{ data: Buffer; stat: Stat } | { children: string[]; stat: Stat }> {
    const handle = this.connection.liveHandle();
    const slow = (): Promise<{ data: Buffer; stat: Stat } | { children: string[]; stat: Stat }> =>
      kind === 'data' ? this.get(path) : this.children(path);
    if (handle === undefined || this.state.type === 'closed') return slow();
    const read = kind === 'data' ? handle.get(path) : handle.children(path);
    return read.catch((error: unknown) => {
      if (!isRetryable(error)) throw error;
      return slow();
    });
  }

  /** Watches armed on the server for this session, as far as this client knows (for leak checks). */
  get armedWatchCount(): number {
    return this.watches.size;
  }

  /** A read with an optional watch, joining an armed watch of the same kind when there is one. */
  private watched<T>(
    handle: TransportHandle,
    kind: WatchKind,
    path: string,
    watch: Watcher | undefined,
    read: (watcher?: Watcher) => Promise<T>,
  ): Promise<T> {
    this.watches.use(handle);
    if (!watch || this.watches.join(kind, path, watch)) return read();
    const stamp = this.watches.stamp();
    return read(this.watches.callback(kind, path)).then((result) => {
      this.watches.armed(kind, path, watch, stamp);
      return result;
    });
  }

  /**
   * @internal The znode streams' read: get/children with a watch, for a path already validated, in as
   * few promises as possible (a stream issues one per change and per subscription). A read that cannot
   * go straight to a live handle, or that fails for connection reasons, takes the public path (wait for
   * the session, retry with backoff, reject with ClosedError on close).
   */
  streamRead(kind: 'data', path: string, watch: Watcher): Promise<{ data: Buffer; stat: Stat }>;
  streamRead(kind: 'child', path: string, watch: Watcher): Promise<{ children: string[]; stat: Stat }>;
  streamRead(
    kind: 'data' | 'child',
    path: string,
    watch: Watcher,
  ): Promise<{ data: Buffer; stat: Stat } | { children: string[]; stat: Stat }> {
    const handle = this.connection.liveHandle();
    if (handle === undefined || this.state.type === 'closed') return this.slowStreamRead(kind, path, watch);
    // What `watched()` does, spelled out: no closure per read beyond the two callbacks below.
    const watches = this.watches;
    watches.use(handle);
    const joined = watches.join(kind, path, watch);
    const callback = joined ? undefined : watches.callback(kind, path);
    const stamp = joined ? 0 : watches.stamp();
    const read = kind === 'data' ? handle.get(path, callback) : handle.children(path, callback);
    return read.then(
      (result) => {
        if (!joined) watches.armed(kind, path, watch, stamp);
        return result;
      },
      (error: unknown) => {
        if (!isRetryable(error)) throw error;
        return this.slowStreamRead(kind, path, watch);
      },
    );
  }

  private slowStreamRead(
    kind: 'data' | 'child',
    path: string,
    watch: Watcher,
  ): Promise<{ data: Buffer; stat: Stat } | { children: string[]; stat: Stat }> {
    return kind === 'data' ? this.get(path, { watch }) : this.children(path, { watch });
  }

  /** Lets the server the client is on catch up with the leader, so the next read is not stale. */
  sync(path = '/'): Promise<void> {
    return rejecting(() => {
      validatePath(path);
      return this.read((h) => h.sync(path));
    });
  }

  getACL(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    return rejecting(() => {
      validatePath(path);
      return this.read((h) => h.getACL(path));
    });
  }

  setACL(path: string, acl: readonly Acl[], version = -1): Promise<void> {
    return rejecting(() => {
      validatePath(path);
      validateVersion(version);
      validateAclList(acl);
      // xid and type, the path, the ACL, the version: the server drops a connection whose request is
      // larger than jute.maxbuffer, and the retries of everything else in flight would meet it again.
      const size = 8 + 4 + Buffer.byteLength(this.chroot + path, 'utf8') + aclBytes(acl) + 4;
      if (size > MAX_REQUEST_BYTES) {
        throw new InvalidArgumentError(
          'acl',
          `is too large for one request (${size} bytes with its path; jute.maxbuffer ${MAX_REQUEST_BYTES})`,
          `${acl.length} entries`,
        );
      }
      return this.write((h) => h.setACL(path, acl, version));
    });
  }

  /** Adds credentials to this session, and to every later session of this client. */
  addAuth(scheme: string, credentials: string): Promise<void> {
    return rejecting(() => {
      validateAuth(scheme, credentials, '');
      this.connection.addAuth({ scheme, credentials });
      return this.read((h) => h.addAuth({ scheme, credentials }));
    });
  }

  /**
   * Closes the session. Idempotent. Pending operations reject with ClosedError. Resolves once the
   * session's end has been sent, so a process may exit right after: its ephemeral nodes go at once,
   * not after a whole session timeout.
   */
  async close(): Promise<void> {
    if (this.state.type === 'closed') return;
    const error = new ClosedError();
    for (const [reject, promise] of [...this.pending]) {
      // A rejection the caller caused by closing: it must not surface as an unhandled rejection (which
      // ends a Node process) while close() waits a turn for the session's end to be sent. A handler
      // attached later still sees the ClosedError.
      promise.catch(() => undefined);
      reject(error);
    }
    this.pending.clear();
    const closing = this.connection.close();
    registry.clientClosed();
    await closing;
  }

  /** @internal The current transport handle, for test tools that must act on the session itself. */
  currentHandle(): TransportHandle | undefined {
    return this.connection.currentHandle();
  }

  private read<T>(op: (handle: TransportHandle) => Promise<T>): Promise<T> {
    const handle = this.connection.liveHandle();
    // The common case (a live session) goes straight to the handle: reads are the hot path of every
    // stream, and each await on the way costs a promise and a turn of the microtask queue.
    if (handle !== undefined && this.state.type !== 'closed') {
      return this.track(() =>
        op(handle).catch((error: unknown) => {
          if (!isRetryable(error)) throw error;
          return this.backoff(0, error).then(() => this.retryRead(op, 1));
        }),
      );
    }
    return this.track(() => this.retryRead(op, 0));
  }

  private async retryRead<T>(op: (handle: TransportHandle) => Promise<T>, first: number): Promise<T> {
    for (let attempt = first; ; attempt++) {
      const handle = await this.connection.live();
      try {
        return await op(handle);
      } catch (error) {
        if (!isRetryable(error)) throw error;
        await this.backoff(attempt, error);
      }
    }
  }

  private write<T>(op: (handle: TransportHandle) => Promise<T>): Promise<T> {
    return this.track(async () => op(await this.connection.live()));
  }

  /** Waits before retry `attempt`, or rethrows `error` when the policy is exhausted or the client closed. */
  private async backoff(attempt: number, error: unknown): Promise<void> {
    if (attempt >= this.retry.maxRetries || this.state.type === 'closed') throw error;
    await firstValueFrom(timer(backoffDelay(this.retry, attempt), this.scheduler));
  }

  /** Runs `work`, but rejects with ClosedError at once if the client is closed meanwhile. */
  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.state.type === 'closed') return Promise.reject(new ClosedError());
    let rejectIt: (error: Error) => void = () => undefined;
    const promise = new Promise<T>((resolve, reject) => {
      rejectIt = reject;
      const settle = (fn: () => void) => {
        this.pending.delete(reject);
        fn();
      };
      work().then(
        (value) => settle(() => resolve(value)),
        (error: unknown) => settle(() => reject(error)),
      );
    });
    // Registered after the executor ran: work() settles on a later microtask at the earliest.
    this.pending.set(rejectIt, promise);
    return promise;
  }
}

/**
 * Runs `start`, turning a synchronous throw (bad input) into a rejection. Not an async function: the
 * caller gets the tracked promise itself, which close() can mark handled when it rejects it.
 */
function rejecting<T>(start: () => Promise<T>): Promise<T> {
  try {
    return start();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The error a read's path or options (an object, its `watch` a function) are refused with, or undefined. */
function invalidRead(path: string, options: WatchOptions): Error | undefined {
  try {
    validatePath(path);
    validateOptions(options);
    validateFunction(options.watch, 'options.watch', true);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/** A GUID-shaped stand-in: protected names have the same length whatever the GUID. */
const PROTECTION_SAMPLE = '00000000-0000-0000-0000-000000000000';

/** `prefix` names where the pair comes from: '' for addAuth's arguments, `options.auth[0].` for connect's. */
function validateAuth(scheme: unknown, credentials: unknown, prefix: string): void {
  if (typeof scheme !== 'string' || scheme.length === 0) {
    throw new InvalidArgumentError(`${prefix}scheme`, 'must be a non-empty string', scheme);
  }
  if (typeof credentials !== 'string') {
    throw new InvalidArgumentError(`${prefix}credentials`, 'must be a string');
  }
}

/**
 * connect()'s options, each checked before anything is opened: a value of the wrong type would
 * otherwise surface later as a TypeError inside a timer or an event, far from the call.
 */
function validateConnectOptions(options: ConnectOptions): void {
  validateOptions(options);
  // Never the value in these errors: a wrongly shaped auth option may well hold the credentials.
  if (options.auth !== undefined) {
    if (!Array.isArray(options.auth)) {
      throw new InvalidArgumentError(
        'options.auth',
        `must be an array of { scheme, credentials } (got ${kindOf(options.auth)})`,
      );
    }
    options.auth.forEach((a: unknown, i) => {
      if (typeof a !== 'object' || a === null) {
        throw new InvalidArgumentError(
          `options.auth[${i}]`,
          `must be an object { scheme, credentials } (got ${kindOf(a)})`,
        );
      }
      const { scheme, credentials } = a as AuthInfo;
      validateAuth(scheme, credentials, `options.auth[${i}].`);
    });
  }
  validateBoolean(options.reconnect, 'options.reconnect');
  if (options.logger !== undefined) {
    validateOptions(options.logger, 'options.logger');
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      validateFunction(options.logger[level], `options.logger.${level}`, true);
    }
  }
  const { scheduler, transport } = options as Record<string, unknown>;
  if (scheduler !== undefined && !hasMethods(scheduler, 'now', 'schedule')) {
    throw new InvalidArgumentError(
      'options.scheduler',
      'must be an RxJS scheduler (now, schedule)',
      scheduler,
    );
  }
  if (transport !== undefined && !hasMethods(transport, 'open')) {
    throw new InvalidArgumentError('options.transport', 'must be a Transport (open)', transport);
  }
  validateNativeLogLevel(options.nativeLogLevel);
}

/** What a value is, without showing it. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return `${type === 'object' ? 'an' : 'a'} ${type}`;
}

function hasMethods(value: unknown, ...names: string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}
