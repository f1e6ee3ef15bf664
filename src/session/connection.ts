/**
 * The connection state machine: owns the transport handle, turns its events into `SessionState`s, and
 * replaces the handle when the session is gone. Operations live in client.ts; this file only knows
 * handles and states.
 */
import {
  BehaviorSubject,
  filter,
  firstValueFrom,
  timeout,
  timer,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { AuthFailedError, ClosedError, ConnectionLossError } from '../errors.js';
import type { AuthInfo, Transport, TransportEvent, TransportHandle } from '../transport/port.js';
import { SessionChurn } from './churn.js';
import type { Logger } from './logger.js';
import { registry } from './registry.js';
import { backoffDelay, type RetryPolicy } from './retry.js';
import { isLive, isValidTransition, type LostReason, type SessionState } from './state.js';

export interface ConnectionOptions {
  readonly connectString: string;
  readonly sessionTimeout: number;
  readonly connectionTimeout: number;
  readonly auth: AuthInfo[];
  readonly reconnect: boolean;
  /** The backoff between new sessions after authentication failures. */
  readonly retry: RetryPolicy;
  readonly transport: Transport;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
}

export class Connection {
  readonly state$ = new BehaviorSubject<SessionState>({ type: 'connecting' });
  private handle: TransportHandle | undefined;
  private lostTimer: Subscription | undefined;
  /** Negotiated by the server on connect; the requested value until then. */
  private negotiatedTimeout: number;
  /** How long the session's connections last (see churn.ts). */
  private readonly churn = new SessionChurn();
  /**
   * The credentials, in a private field: never shown by util.inspect (nor by JSON.stringify or a
   * debugger's property view of the client), so logging the client cannot leak them.
   */
  readonly #auth: AuthInfo[];
  private readonly options: Omit<ConnectionOptions, 'auth'>;
  /**
   * Authentication failures since the last session lost otherwise: each makes the next session wait
   * longer (see sessionLost).
   */
  private authFailures = 0;
  /** The next handle's opening, when it waits (a backoff after auth failure, a turn after 'moved'). */
  private reopenTimer: Subscription | undefined;

  constructor(options: ConnectionOptions) {
    const { auth, ...rest } = options;
    this.#auth = [...auth];
    this.options = rest;
    this.negotiatedTimeout = options.sessionTimeout;
    this.open();
  }

  get state(): SessionState {
    return this.state$.value;
  }

  /** The handle of the live session when the socket is up right now, else undefined (no waiting). */
  liveHandle(): TransportHandle | undefined {
    return isLive(this.state) ? this.handle : undefined;
  }

  /** The handle of the live session, once the socket is up; waits (bounded) while it is not. */
  async live(): Promise<TransportHandle> {
    if (this.state.type === 'closed') throw new ClosedError();
    if (isLive(this.state) && this.handle) return this.handle;
    const state = await firstValueFrom(
      this.state$.pipe(
        filter((s) => isLive(s) || s.type === 'closed'),
        timeout({
          first: this.options.connectionTimeout,
          scheduler: this.options.scheduler,
          with: () => {
            throw new ConnectionLossError({
              // Waiting out an authentication failure's backoff: say so (the credentials are refused).
              cause:
                this.state.type === 'lost' && this.state.reason === 'authFailed'
                  ? new AuthFailedError()
                  : new Error(
                      `no connection within connectionTimeout (${this.options.connectionTimeout} ms)`,
                    ),
            });
          },
        }),
      ),
      { defaultValue: { type: 'closed' } as SessionState },
    );
    if (state.type === 'closed' || !this.handle) throw new ClosedError();
    return this.handle;
  }

  /** The current handle, for test tools (expire the session); undefined while none is open. */
  currentHandle(): TransportHandle | undefined {
    return this.handle;
  }

  addAuth(auth: AuthInfo): void {
    // Kept for handles opened after a lost session: a new session starts unauthenticated.
    this.#auth.push(auth);
  }

  /** Resolves once the transport has sent the session's end. */
  close(): Promise<void> {
    if (this.state.type === 'closed') return Promise.resolve();
    this.stopLostTimer();
    this.reopenTimer?.unsubscribe();
    const closing = this.dropHandle();
    this.transition({ type: 'closed' });
    this.state$.complete();
    return closing;
  }

  private open(): void {
    const { connectString, sessionTimeout, transport } = this.options;
    let handle: TransportHandle | undefined = undefined;
    // Events are bound to the handle they came from: a late event of a replaced handle is ignored.
    handle = transport.open({ connectString, sessionTimeout, auth: [...this.#auth] }, (event) => {
      if (handle !== undefined && handle === this.handle) this.onEvent(event);
    });
    registry.handleOpened();
    this.handle = handle;
  }

  private dropHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return Promise.resolve();
    registry.handleClosed();
    return Promise.resolve(handle.close());
  }

  private onEvent(event: TransportEvent): void {
    const state = this.state;
    this.options.logger.debug?.('rxzk: transport event', { event: event.type, state: state.type });
    switch (event.type) {
      case 'connected':
        this.stopLostTimer();
        this.negotiatedTimeout = event.sessionTimeout;
        if (state.type === 'suspended' && state.sessionId === event.sessionId) {
          this.churn.connected(this.options.scheduler.now());
          this.transition({
            type: 'reconnected',
            sessionId: event.sessionId,
            sessionTimeout: event.sessionTimeout,
          });
        } else if (state.type === 'connecting' || state.type === 'lost') {
          this.churn.reset();
          this.churn.connected(this.options.scheduler.now());
          this.transition({
            type: 'connected',
            sessionId: event.sessionId,
            sessionTimeout: event.sessionTimeout,
          });
        }
        return;
      case 'disconnected':
        if (isLive(state)) {
          // Another handle keeps taking our session (SESSION_MOVED), or no connection holds: give the
          // session up rather than loop with it; the handle is closed while disconnected, so the
          // session itself is not ended.
          if (this.churn.dropped(this.options.scheduler.now(), this.negotiatedTimeout)) {
            this.options.logger.warn?.('rxzk: the session keeps moving away; giving it up', {
              sessionId: state.sessionId,
            });
            return this.sessionLost('moved');
          }
          this.transition({ type: 'suspended', sessionId: state.sessionId });
          // As Curator does: a suspension lasting a whole session timeout means the server has expired
          // the session by now, even if no server is reachable to say so.
          this.lostTimer = timer(this.negotiatedTimeout, this.options.scheduler).subscribe(() =>
            this.sessionLost('timeout'),
          );
        }
        return;
      case 'expired':
        this.sessionLost('expired');
        return;
      case 'authFailed':
        this.options.logger.error?.('rxzk: authentication failed; the session is closed', {});
        this.sessionLost('authFailed');
        return;
    }
  }

  private sessionLost(reason: LostReason): void {
    const state = this.state;
    this.stopLostTimer();
    // The old handle is dead (expired) or abandoned (judged lost): never reuse it.
    void this.dropHandle();
    if (state.type === 'connected' || state.type === 'suspended' || state.type === 'reconnected') {
      this.transition({ type: 'lost', sessionId: state.sessionId, reason });
    }
    this.options.logger.warn?.('rxzk: session lost', { reason });
    if (!this.options.reconnect || this.state.type === 'closed') return;
    this.reopenTimer?.unsubscribe();
    if (reason === 'moved') {
      // Given up from inside the old handle's own disconnect event, which the C client is still
      // handling (its next connection attempt comes when the event returns): a new handle opened right
      // here crashes the binding (two of its poll handles on one reused socket number). Open it a turn
      // later, after the old one has been closed.
      this.reopenTimer = this.options.scheduler.schedule(() => {
        this.reopenTimer = undefined;
        if (this.state.type !== 'closed' && !this.handle) this.open();
      });
      return;
    }
    if (reason !== 'authFailed') {
      this.authFailures = 0;
      return this.open();
    }
    // The same credentials fail the same way on the next session: opening it at once made a storm of
    // sessions (hundreds per second, each logged). Back off, as for connection loss.
    const delay = backoffDelay(this.options.retry, this.authFailures++);
    this.reopenTimer = timer(delay, this.options.scheduler).subscribe(() => {
      this.reopenTimer = undefined;
      if (this.state.type !== 'closed') this.open();
    });
  }

  private stopLostTimer(): void {
    this.lostTimer?.unsubscribe();
    this.lostTimer = undefined;
  }

  private transition(next: SessionState): void {
    const from = this.state.type;
    if (!isValidTransition(from, next.type)) {
      // Unreachable by construction; logged rather than thrown so a bug cannot kill the process.
      this.options.logger.error?.('rxzk: impossible session transition suppressed', { from, to: next.type });
      return;
    }
    this.options.logger.info?.(`rxzk: session ${next.type}`, { ...next });
    // Update state before emitting: subscribers may re-enter (call operations) synchronously.
    this.state$.next(next);
  }
}
