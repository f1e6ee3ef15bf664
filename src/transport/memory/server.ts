/**
 * An in-process ZooKeeper server (3.8 semantics) behind the transport port, on an RxJS scheduler's
 * clock: every timer (session expiry, container/TTL reaping, reply latency, connection set-up) and
 * every ctime/mtime comes from `scheduler`, so a TestScheduler drives it.
 *
 * Each handle opened through `transport` is one client process; the server keeps sessions, the
 * znode tree, one-shot and persistent recursive watches and ACLs as ZooKeeper's server does, and the
 * fault-injection methods act like the network and the server process failing.
 *
 * Timing: a connection is set up one scheduler turn after `open()`. Replies and events go out on a
 * microtask with no latency, or after `setLatency(ms)` on the scheduler; under a TestScheduler, step
 * virtual time and let microtasks run between steps. A session without a connection expires when its
 * timeout has passed, rounded up to the next tick (as the server's expiry buckets do).
 *
 * @example
 * const server = new MemoryZooKeeper();
 * const client = connect('memory:2181', { transport: server.transport });
 * await client.create('/app', 'hello');
 */
import { asyncScheduler, timer, type SchedulerLike, type Subscription } from 'rxjs';
import type { Transport, TransportHandle } from '../port.js';
import { mayRead } from './acl.js';
import { Engine } from './engine.js';
import type { HandleHost } from './connection.js';
import { MemoryHandle } from './handle.js';
import { reapCandidates } from './reaper.js';
import { SessionTracker, type ServerSession } from './sessions.js';

export interface MemoryZooKeeperOptions {
  /** Clock of every timer and of ctime/mtime. Default asyncScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Default 2000; session timeouts are negotiated into [2, 20] ticks. */
  readonly tickTime?: number;
  /** How often empty containers and expired TTL nodes are deleted (znode.container.checkIntervalMs). Default 60,000. */
  readonly containerCheckInterval?: number;
  /** Same as `containerCheckInterval` (the contract suite's name); `containerCheckInterval` wins. */
  readonly reapIntervalMs?: number;
  /** TTL modes allowed (`extendedTypesEnabled`). Default true; false makes TTL creates fail (Unimplemented). */
  readonly extendedTypes?: boolean;
}

const servers = new WeakMap<TransportHandle, MemoryZooKeeper>();

/** The memory server a transport handle belongs to, or undefined (another transport's handle). */
export function memoryServerOf(handle: TransportHandle): MemoryZooKeeper | undefined {
  return servers.get(handle);
}

export class MemoryZooKeeper {
  readonly scheduler: SchedulerLike;
  readonly transport: Transport;
  private readonly engine: Engine;
  private readonly tracker: SessionTracker;
  private readonly handles = new Set<MemoryHandle>();
  private readonly host: HandleHost;
  private readonly containerCheckInterval: number;
  private readonly latencies = new Map<string, number>();
  private defaultLatency = 0;
  private up = true;
  private closed = false;
  private reaper: Subscription | undefined;
  private readonly connecting = new Map<MemoryHandle, Subscription>();

  constructor(options: MemoryZooKeeperOptions = {}) {
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.containerCheckInterval = options.containerCheckInterval ?? options.reapIntervalMs ?? 60_000;
    this.engine = new Engine({
      now: () => this.scheduler.now(),
      extendedTypes: options.extendedTypes ?? true,
      notify: (sessionId, type, path) => this.tracker.get(sessionId)?.link?.event(type, path),
      readable: (sessionId, acl) => {
        const session = this.tracker.get(sessionId);
        return session !== undefined && mayRead(acl, session.authIds);
      },
    });
    this.tracker = new SessionTracker(this.scheduler, options.tickTime ?? 2000, (s) => this.endSession(s));
    this.host = {
      engine: this.engine,
      scheduler: this.scheduler,
      latencyOf: (id) => (id === undefined ? undefined : this.latencies.get(id)) ?? this.defaultLatency,
      isUp: () => this.up,
      handleClosed: (handle) => this.handleClosed(handle as MemoryHandle),
      authFailed: (handle) => this.authFailed(handle as MemoryHandle),
    };
    this.transport = {
      name: 'memory',
      open: (transportOptions, onEvent) => {
        const handle = new MemoryHandle(this.host, transportOptions, onEvent);
        this.handles.add(handle);
        servers.set(handle, this);
        this.syncReaper();
        this.scheduleConnect(handle);
        return handle;
      },
    };
  }

  // --- introspection (the four-letter words) -------------------------------------------------------

  /** Live session ids (hex, as the handles report them). */
  sessions(): string[] {
    return this.tracker.all().map((s) => s.hex);
  }

  /** Total server watches (`wchs`). */
  watchCount(): number {
    return this.engine.watches.count();
  }

  /** path -> ids of the sessions watching it, data and child watches together. */
  watchesByPath(): Map<string, string[]> {
    return this.engine.watches.byPath();
  }

  /** Paths of the session's ephemeral nodes. */
  ephemerals(sessionId: string): string[] {
    const session = this.tracker.get(sessionId);
    return session ? this.engine.tree.ephemerals(session.id) : [];
  }

  /** The last zxid the server handed out. */
  get lastZxid(): number {
    return this.engine.zxid;
  }

  // --- fault injection -----------------------------------------------------------------------------

  /** The session's connection drops and stays down until `restore()`; the session expires meanwhile if it lasts. */
  suspend(sessionId: string): void {
    const session = this.tracker.get(sessionId);
    if (!session) return;
    session.suspended = true;
    this.disconnect(session);
  }

  /** The session's connection comes back: 'connected' with its watches re-sent, or 'expired' if it is gone. */
  restore(sessionId: string): void {
    const session = this.tracker.get(sessionId);
    if (session) session.suspended = false;
    if (!this.up) return;
    const handle = this.handleOf(sessionId);
    if (!handle?.isDisconnected) return;
    if (session) this.reconnect(session, handle);
    else handle.sessionGone('expired');
  }

  /** The server expires the session now. */
  expire(sessionId: string): void {
    const session = this.tracker.get(sessionId);
    if (session) this.endSession(session);
  }

  /** Delay of every reply and event, for one session or (without an id) the default of all. */
  setLatency(ms: number, sessionId?: string): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`setLatency: bad latency ${ms}`);
    if (sessionId === undefined) this.defaultLatency = ms;
    else this.latencies.set(sessionId, ms);
  }

  /** The server process stops: every connection drops; sessions, their ephemerals and the tree survive. */
  stop(): void {
    if (!this.up) return;
    this.up = false;
    this.reaper?.unsubscribe();
    this.reaper = undefined;
    this.engine.watches.clear();
    for (const session of this.tracker.all()) {
      this.tracker.stopExpiry(session);
      const handle = this.handleOf(session.hex);
      session.link = undefined;
      handle?.connectionLost();
    }
    for (const [handle, pending] of this.connecting) {
      pending.unsubscribe();
      handle.connectionLost();
    }
    this.connecting.clear();
  }

  /**
   * The server is back: as after a restart, every session gets its whole timeout again to reconnect,
   * and clients reconnect by themselves (except sessions held by `suspend()`).
   */
  start(): void {
    if (this.up || this.closed) return;
    this.up = true;
    this.syncReaper();
    for (const session of this.tracker.all()) this.tracker.startExpiry(session);
    for (const handle of [...this.handles]) {
      if (handle.isConnecting) this.scheduleConnect(handle);
      else if (handle.isDisconnected) {
        const session = handle.currentSession && this.tracker.get(handle.currentSession.hex);
        if (!session) handle.sessionGone('expired');
        else if (!session.suspended) this.reconnect(session, handle);
      }
    }
  }

  /** Stops every timer; every handle gets 'disconnected'. The server cannot be started again. */
  close(): void {
    this.stop();
    this.closed = true;
    for (const session of this.tracker.all()) this.tracker.stopExpiry(session);
  }

  // --- connections -----------------------------------------------------------------------------------

  private handleOf(sessionId: string): MemoryHandle | undefined {
    for (const handle of this.handles) if (handle.currentSession?.hex === sessionId) return handle;
    return undefined;
  }

  private scheduleConnect(handle: MemoryHandle): void {
    if (!this.up) return;
    const pending = this.scheduler.schedule(() => {
      this.connecting.delete(handle);
      this.connectFirst(handle);
    }, this.defaultLatency);
    this.connecting.set(handle, pending);
  }

  private connectFirst(handle: MemoryHandle): void {
    if (handle.isDead || !this.up) return;
    const session = this.tracker.create(handle.requestedTimeout);
    this.engine.createSession();
    session.link = handle;
    handle.attach(session);
    // Auth given at open is sent first on the new connection; an unknown scheme ends the handle.
    for (const auth of handle.auth) {
      try {
        this.engine.addAuth(session, auth.scheme, auth.credentials);
      } catch {
        this.authFailed(handle);
        return;
      }
    }
  }

  private reconnect(session: ServerSession, handle: MemoryHandle): void {
    this.tracker.stopExpiry(session);
    session.link = handle;
    handle.attach(session);
    this.engine.setWatches(session, handle.lastSeenZxid, handle.watchLists());
  }

  /** The connection of `session` drops; the server keeps the session until its timeout passes. */
  private disconnect(session: ServerSession): void {
    const handle = session.link ? this.handleOf(session.hex) : undefined;
    if (!handle) return;
    session.link = undefined;
    this.engine.watches.removeSession(session.hex);
    if (this.up) this.tracker.startExpiry(session);
    handle.connectionLost();
  }

  /** closeSession by expiry (or `expire()`): ephemerals go, the connected handle learns it is expired. */
  private endSession(session: ServerSession): void {
    const handle = session.link ? this.handleOf(session.hex) : undefined;
    session.link = undefined;
    this.tracker.remove(session);
    this.engine.closeSession(session);
    handle?.sessionGone('expired');
    this.syncReaper();
  }

  private handleClosed(handle: MemoryHandle): void {
    this.handles.delete(handle);
    this.connecting.get(handle)?.unsubscribe();
    this.connecting.delete(handle);
    const session = handle.currentSession;
    // A connected handle closes its session; one without a connection leaves it to expire.
    if (session && session.link === handle && this.tracker.get(session.hex) === session) {
      session.link = undefined;
      this.tracker.remove(session);
      this.engine.closeSession(session);
    }
    this.syncReaper();
  }

  private authFailed(handle: MemoryHandle): void {
    const session = handle.currentSession;
    if (session && session.link === handle) {
      session.link = undefined;
      this.engine.watches.removeSession(session.hex);
      if (this.up) this.tracker.startExpiry(session);
    }
    handle.sessionGone('authFailed');
    this.handles.delete(handle);
    this.syncReaper();
  }

  /**
   * The container/TTL reaper runs while someone could see its work: a handle is open or a session
   * lives on. An embedded server with no clients left holds no timer, so the process can exit.
   */
  private syncReaper(): void {
    const wanted = this.up && (this.handles.size > 0 || this.tracker.all().length > 0);
    if (wanted && !this.reaper) this.startReaper();
    else if (!wanted && this.reaper) {
      this.reaper.unsubscribe();
      this.reaper = undefined;
    }
  }

  private startReaper(): void {
    const every = this.containerCheckInterval;
    this.reaper = timer(every, every, this.scheduler).subscribe(() => {
      for (const path of reapCandidates(this.engine.tree, this.scheduler.now()))
        this.engine.deleteContainer(path);
    });
  }
}
