/**
 * The connection half of a memory handle: session, state, outbox and client-side watcher lists, and
 * the plumbing of one request (validate, run on the server, answer through the outbox). The port's
 * operations are in handle.ts.
 */
import type { SchedulerLike } from 'rxjs';
import { Code, errorFromCode, ZkError } from '../../errors.js';
import type { AuthInfo, TransportEvent, TransportOptions } from '../port.js';
import { ClientWatches } from './client-watches.js';
import type { Engine, WatchLists } from './engine.js';
import { Outbox } from './outbox.js';
import { RecursiveWatches } from './recursive-watches.js';
import { chrootOf, pathProblem, toClient, toServer } from './paths.js';
import type { ServerSession, SessionLink } from './sessions.js';
import type { EventType } from './watches.js';

/** What a handle needs from its server. */
export interface HandleHost {
  readonly engine: Engine;
  readonly scheduler: SchedulerLike;
  latencyOf(sessionId: string | undefined): number;
  isUp(): boolean;
  /** The handle was closed by its owner. */
  handleClosed(handle: ClientConnection): void;
  /** addAuth was refused: the server drops the connection. */
  authFailed(handle: ClientConnection): void;
}

type State = 'connecting' | 'connected' | 'disconnected' | 'dead';

export abstract class ClientConnection implements SessionLink {
  readonly chroot: string;
  readonly requestedTimeout: number;
  readonly auth: readonly AuthInfo[];
  protected state: State = 'connecting';
  protected session: ServerSession | undefined;
  /** The client has been told 'connected' (and not 'disconnected' since). */
  private announced = false;
  protected closedByOwner = false;
  private lastZxid = 0;
  protected readonly watchers = new ClientWatches();
  protected readonly recursive = new RecursiveWatches();
  protected readonly outbox: Outbox;
  /** Requests made before the first connection, sent once it is up (as the C client queues them). */
  private waiting: { send: () => void; fail: (error: Error) => void }[] = [];

  constructor(
    protected readonly host: HandleHost,
    options: TransportOptions,
    private readonly onEvent: (event: TransportEvent) => void,
  ) {
    this.chroot = chrootOf(options.connectString);
    this.requestedTimeout = options.sessionTimeout;
    this.auth = [...options.auth];
    this.outbox = new Outbox(host.scheduler, () => host.latencyOf(this.session?.hex));
  }

  get sessionId(): string | undefined {
    return this.announced || this.state === 'dead' ? this.session?.hex : undefined;
  }

  get sessionPassword(): string | undefined {
    return this.sessionId === undefined ? undefined : this.session?.password;
  }

  get isDead(): boolean {
    return this.state === 'dead';
  }

  get isConnecting(): boolean {
    return this.state === 'connecting';
  }

  get isDisconnected(): boolean {
    return this.state === 'disconnected';
  }

  get currentSession(): ServerSession | undefined {
    return this.session;
  }

  /** The last zxid a reply carried, and the watches to re-send: SetWatches' arguments. */
  get lastSeenZxid(): number {
    return this.lastZxid;
  }

  watchLists(): WatchLists {
    return this.watchers.paths();
  }

  // --- called by the server -------------------------------------------------------------------------

  /** The connection is up on `session` (new or the same one again). */
  attach(session: ServerSession): void {
    this.session = session;
    this.state = 'connected';
    const event: TransportEvent = {
      type: 'connected',
      sessionId: session.hex,
      sessionTimeout: session.timeout,
    };
    this.outbox.push({
      deliver: () => {
        if (this.state === 'dead' && this.closedByOwner) return;
        this.announced = true;
        this.emit(event);
      },
    });
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.send();
  }

  /** The socket dropped: undelivered replies are lost (ConnectionLoss), undelivered events too. */
  connectionLost(): void {
    if (this.state === 'dead') return;
    if (this.state === 'connecting') {
      this.failWaiting(errorFromCode(Code.ConnectionLoss));
      return;
    }
    this.state = 'disconnected';
    // The server held them for this connection only, and the client does not re-send them (SetWatches
    // carries one-shot watches): gone, so they hear nothing of the one-shot watches re-sent below them.
    this.recursive.clear();
    const dropped = this.outbox.drop();
    queueMicrotask(() => {
      // As the C client: the session event first, then the failed completions.
      if (this.announced) {
        this.announced = false;
        this.emit({ type: 'disconnected' });
      }
      for (const item of dropped) item.lost?.(errorFromCode(Code.ConnectionLoss));
    });
  }

  /** The session is gone ('expired') or the server refused auth: the handle is dead after this event. */
  sessionGone(type: 'expired' | 'authFailed'): void {
    if (this.state === 'dead') return;
    this.state = 'dead';
    this.failWaiting(errorFromCode(Code.SessionExpired));
    this.outbox.push({
      deliver: () => {
        this.announced = false;
        this.emit({ type });
      },
    });
  }

  /** A watch event (server path), queued behind earlier replies. */
  event(type: EventType, path: string): void {
    if (this.state === 'dead') return;
    this.outbox.push({
      deliver: () => {
        if (this.closedByOwner) return;
        const event = { type, path: toClient(this.chroot, path) };
        for (const watcher of this.watchers.take(type, path)) watcher(event);
        // One notification per event and session: the recursive watches above the path hear it too.
        this.recursive.deliver(event);
      },
    });
  }

  // --- internals -----------------------------------------------------------------------------------

  protected emit(event: TransportEvent): void {
    if (!this.closedByOwner) this.onEvent(event);
  }

  protected failWaiting(error: Error): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) w.fail(error);
  }

  /**
   * One request: validated here (as the C client does, BadArguments without a round trip), run by the
   * server now, answered through the outbox. `onReply` runs when the reply arrives, before the caller
   * sees it (the C client activates a watcher there).
   */
  protected send<T, R = T>(
    path: string | undefined,
    sequential: boolean,
    run: (session: ServerSession, fullPath: string) => T,
    onReply?: (value: T, fullPath: string) => R,
  ): Promise<R> {
    if (this.state === 'dead') return Promise.reject(errorFromCode(Code.SessionExpired, { path }));
    if (path !== undefined) {
      const problem = pathProblem(path, sequential);
      if (problem !== undefined) {
        return Promise.reject(errorFromCode(Code.BadArguments, { path, cause: new Error(problem) }));
      }
    }
    const full = path === undefined ? '' : toServer(this.chroot, path);
    return new Promise<R>((resolve, reject) => {
      const send = (): void => {
        const session = this.session;
        if (this.state !== 'connected' || !session)
          return reject(errorFromCode(Code.ConnectionLoss, { path }));
        let outcome: { ok: true; value: T } | { ok: false; error: unknown };
        try {
          outcome = { ok: true, value: run(session, full) };
        } catch (error) {
          outcome = { ok: false, error };
        }
        const zxid = this.host.engine.zxid;
        this.outbox.push({
          deliver: () => {
            if (zxid > this.lastZxid) this.lastZxid = zxid;
            if (!outcome.ok) return reject(this.clientError(outcome.error, path));
            resolve(onReply ? onReply(outcome.value, full) : (outcome.value as unknown as R));
          },
          lost: (error) => reject(errorFromCode((error as ZkError).code, { path })),
        });
      };
      if (this.state === 'connecting' && this.host.isUp()) {
        this.waiting.push({
          send,
          fail: (error) => reject(errorFromCode((error as ZkError).code, { path })),
        });
      } else {
        send();
      }
    });
  }

  /** Server errors name the server path; the caller gets its own (chroot-relative) path. */
  private clientError(error: unknown, path: string | undefined): ZkError {
    if (error instanceof ZkError) return errorFromCode(error.code, { path, cause: error.cause });
    return errorFromCode(Code.SystemError, { path, cause: error });
  }
}
