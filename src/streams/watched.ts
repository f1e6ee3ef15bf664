/**
 * The re-watch loop behind data$, children$ and stat$: read with a one-shot watch, emit what changed,
 * read again when the watch fires, and stay true across the session's life:
 * - `reconnected`: the client restored its watches, but an exists() watch misses a create+delete made
 *   while disconnected, so a missing node (and anything a failed read left stale) is read again;
 * - `connected` after `lost`: a new session has no watches at all: read and watch again;
 * - `suspended`: nothing (stay silent, keep the last value);
 * - `closed`: complete. Connection trouble never errors the stream; only what retrying cannot fix does.
 */
import { Observable, timer, type Subscription } from 'rxjs';
import { ClosedError, isRetryable } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import type { Watcher } from '../transport/port.js';
import { onSessionChanges } from './session.js';

export interface WatchedSpec<T> {
  readonly client: ZkClient;
  /** One read that also arms a watch; resolves to null for a missing node. */
  readonly read: (watch: Watcher) => Promise<T | null>;
  /** Equal keys mean the same state: the value is not emitted again. */
  readonly key: (value: T) => string;
}

/** Delay before reading again after a read failed for connection reasons while the session was live. */
const RETRY_MS = 1_000;

export function watched<T>(spec: WatchedSpec<T>): Observable<T | null> {
  return new Observable<T | null>((subscriber) => {
    const { client } = spec;
    let active = true;
    let reading = false;
    let again = false;
    let stale = false;
    let last: { key: string; value: T | null } | undefined;
    let retry: Subscription | undefined;

    // Every armed watch calls this; a watch still armed after teardown fires into `active === false`.
    const onWatch: Watcher = () => void refresh();

    const emit = (value: T | null): void => {
      const key = value === null ? '' : spec.key(value);
      if (last && last.key === key) return;
      // Update state before emitting: a subscriber may re-enter (unsubscribe, or read) synchronously.
      last = { key, value };
      subscriber.next(value);
    };

    async function refresh(): Promise<void> {
      if (!active) return;
      if (reading) {
        // A change arrived while a read is in flight: read once more after it, whatever it returned.
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const value = await spec.read(onWatch);
          if (!active) return;
          stale = false;
          emit(value);
        } while (again && active);
      } catch (error) {
        if (!active) return;
        if (error instanceof ClosedError) return subscriber.complete();
        if (!isRetryable(error)) return subscriber.error(error);
        stale = true;
        // Retries were exhausted: try again later, or as soon as the session is back (below).
        retry?.unsubscribe();
        retry = timer(RETRY_MS, client.scheduler).subscribe(() => void refresh());
      } finally {
        reading = false;
      }
    }

    const states = onSessionChanges(client, {
      newSession: () => void refresh(),
      reconnected: () => {
        if (stale || last === undefined || last.value === null) void refresh();
      },
      closed: () => subscriber.complete(),
    });
    void refresh();

    return () => {
      active = false;
      states.unsubscribe();
      retry?.unsubscribe();
      // The last listener leaving an armed watch removes it from the server (see WatchTable).
      client.unwatch(onWatch);
    };
  });
}
