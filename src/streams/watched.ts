/**
 * The re-watch loop behind data$, children$ and stat$: read with a one-shot watch, emit what changed,
 * read again when the watch fires, and stay true across the session's life:
 * - `reconnected`: the client restored its watches, but an exists() watch misses a create+delete made
 *   while disconnected, so a missing node (and anything a failed read left stale) is read again;
 * - `connected` after `lost`: a new session has no watches at all: read and watch again;
 * - `suspended`: nothing (stay silent, keep the last value);
 * - `closed`: complete. Connection trouble never errors the stream; only what retrying cannot fix does.
 */
import { timer, type Subscription } from 'rxjs';
import { ClosedError, isRetryable } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import type { Watcher } from '../transport/port.js';
import { onSessionChanges, type SessionHandlers, type SessionListener } from './session.js';
import type { Running, Sink, Start } from './shared.js';

export interface WatchedSpec<T> {
  readonly client: ZkClient;
  readonly path: string;
  /**
   * One read that also arms a watch; resolves to null for a missing node. A plain function of its
   * arguments (not a closure per stream): streams are many, and each keeps its spec alive.
   */
  readonly read: (client: ZkClient, path: string, watch: Watcher) => Promise<T | null>;
  /** Equal keys mean the same state: the value is not emitted again. */
  readonly key: (value: T) => string;
}

/** Delay before reading again after a read failed for connection reasons while the session was live. */
const RETRY_MS = 1_000;

/** A source for sharedStream. */
export function watched<T>(spec: WatchedSpec<T>): Start<T | null> {
  return (sink) => new Loop(spec, sink);
}

/** One loop per live shared stream: a class, so its methods cost nothing per loop. */
class Loop<T> implements SessionHandlers, Running {
  private active = true;
  private reading = false;
  private again = false;
  private stale = false;
  private last: { key: string; value: T | null } | undefined;
  private retry: Subscription | undefined;
  private readonly session: SessionListener;

  constructor(
    private readonly spec: WatchedSpec<T>,
    private readonly sink: Sink<T | null>,
  ) {
    this.session = onSessionChanges(spec.client, this);
    if (this.active) this.refresh();
  }

  // Every armed watch calls this; a watch still armed after teardown fires into `active === false`.
  private readonly onWatch: Watcher = () => this.refresh();

  newSession(): void {
    this.refresh();
  }

  reconnected(): void {
    if (this.stale || this.last === undefined || this.last.value === null) this.refresh();
  }

  closed(): void {
    this.active = false;
    this.sink.complete();
  }

  stop(): void {
    this.active = false;
    this.session.unsubscribe();
    this.retry?.unsubscribe();
    // The last listener leaving an armed watch removes it from the server (see WatchTable).
    this.spec.client.unwatch(this.onWatch);
  }

  /**
   * A read's watch is armed (joined, in the client's table) when its reply arrives: a reply that
   * arrives after stop() armed it for a listener that already left. Release it again, or it stays
   * armed on the server for good (on a path that never changes, or a deleted node never re-created).
   */
  private late(): void {
    this.spec.client.unwatch(this.onWatch);
  }

  private emit(value: T | null): void {
    const key = value === null ? '' : this.spec.key(value);
    if (this.last && this.last.key === key) return;
    // Update state before emitting: a subscriber may re-enter (unsubscribe, or read) synchronously.
    this.last = { key, value };
    this.sink.next(value);
  }

  /** Reads (with a watch) unless a read is in flight; then reads once more after it, whatever it returned. */
  private refresh(): void {
    if (!this.active) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    this.again = false;
    const { client, path, read } = this.spec;
    read(client, path, this.onWatch).then(this.onValue, this.onError);
  }

  private readonly onValue = (value: T | null): void => {
    this.reading = false;
    if (!this.active) return this.late();
    this.stale = false;
    this.emit(value);
    if (this.again) this.refresh();
  };

  private readonly onError = (error: unknown): void => {
    this.reading = false;
    if (!this.active) return this.late();
    if (error instanceof ClosedError) return this.closed();
    if (!isRetryable(error)) {
      // Over for good: leave the session hub and release what the read armed (stat$'s exists() watch
      // on a node it may not READ), as an unsubscribe would.
      this.stop();
      return this.sink.error(error);
    }
    this.stale = true;
    // Retries were exhausted: try again later, or as soon as the session is back (see reconnected).
    this.retry?.unsubscribe();
    this.retry = timer(RETRY_MS, this.spec.client.scheduler).subscribe(() => this.refresh());
  };
}
