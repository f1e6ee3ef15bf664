/**
 * Sessions as the server tracks them (SessionTrackerImpl): ids, negotiated timeouts, and expiry. A
 * session with a live connection never expires (its client pings); one without a connection expires
 * when its timeout passes, rounded up to the next tick as the server's ExpiryQueue does.
 */
import { createHash } from 'node:crypto';
import { timer, type SchedulerLike, type Subscription } from 'rxjs';
import type { Id } from './acl.js';
import { CLIENT_IP } from './acl.js';
import { hex } from './tree.js';

export interface ServerSession {
  readonly id: bigint;
  /** The id as clients see it (`%llx`). */
  readonly hex: string;
  readonly password: string;
  readonly timeout: number;
  /** Identities added by addAuth (the client re-sends them on every reconnect, so they are kept here). */
  readonly authIds: Id[];
  /** The connection's delivery of watch events; undefined while the session has no connection. */
  link: SessionLink | undefined;
  /** Held off the network by `suspend()` until `restore()`. */
  suspended: boolean;
  expiry: Subscription | undefined;
}

export interface SessionLink {
  event(type: 'created' | 'deleted' | 'changed' | 'children', path: string): void;
}

const STANDALONE_SERVER_ID = 1n;
const MASK_64 = (1n << 64n) - 1n;

export class SessionTracker {
  private readonly sessions = new Map<string, ServerSession>();
  private nextId: bigint;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly tickTime: number,
    private readonly onExpire: (session: ServerSession) => void,
  ) {
    // SessionTrackerImpl.initializeNextSessionId: (time << 24) >>> 8, the server id in the top byte
    // (a standalone server uses 1). Ids then count up.
    const now = BigInt(Math.max(0, Math.floor(scheduler.now())));
    this.nextId = (STANDALONE_SERVER_ID << 56n) | (((now << 24n) & MASK_64) >> 8n);
  }

  /** The timeout the server grants: bounded to [2, 20] ticks. */
  negotiate(requested: number): number {
    return Math.min(Math.max(requested, 2 * this.tickTime), 20 * this.tickTime);
  }

  create(requestedTimeout: number): ServerSession {
    const id = this.nextId++;
    const session: ServerSession = {
      id,
      hex: hex(id),
      password: createHash('sha1').update(`rxzk-memory:${id}`).digest('hex').slice(0, 32),
      timeout: this.negotiate(requestedTimeout),
      authIds: [{ scheme: 'ip', id: CLIENT_IP }],
      link: undefined,
      suspended: false,
      expiry: undefined,
    };
    this.sessions.set(session.hex, session);
    return session;
  }

  get(hexId: string): ServerSession | undefined {
    return this.sessions.get(hexId);
  }

  all(): ServerSession[] {
    return [...this.sessions.values()];
  }

  /** No connection from now on: the session expires unless one comes back in time. */
  startExpiry(session: ServerSession): void {
    this.stopExpiry(session);
    const now = this.scheduler.now();
    const at = (Math.floor((now + session.timeout) / this.tickTime) + 1) * this.tickTime;
    session.expiry = timer(at - now, this.scheduler).subscribe(() => {
      session.expiry = undefined;
      if (this.sessions.get(session.hex) === session) this.onExpire(session);
    });
  }

  stopExpiry(session: ServerSession): void {
    session.expiry?.unsubscribe();
    session.expiry = undefined;
  }

  remove(session: ServerSession): void {
    this.stopExpiry(session);
    this.sessions.delete(session.hex);
  }
}
