import type { Subscription } from 'rxjs';
import type { ZkClient } from '../session/client.js';

export interface SessionHandlers {
  /** `connected` after `lost`: a new session, with no watches at all. */
  readonly newSession: () => void;
  /** `reconnected`: the same session; the client restored its watches. */
  readonly reconnected: () => void;
  /** The client closed. */
  readonly closed: () => void;
}

/** One state$ subscription per client, shared by all of its live streams (thousands, on a busy client). */
interface Hub {
  readonly handlers: Set<SessionHandlers>;
  readonly subscription: Subscription;
}

const hubs = new WeakMap<ZkClient, Hub>();

/**
 * What a re-watching stream must react to in the session's life. The state current when a stream
 * starts is not news (the stream's own first read covers it), unless it is `closed`. Returns what
 * stops the calls.
 */
export function onSessionChanges(client: ZkClient, handlers: SessionHandlers): { unsubscribe(): void } {
  if (client.state.type === 'closed') {
    handlers.closed();
    return { unsubscribe: () => undefined };
  }
  let hub = hubs.get(client);
  if (!hub) {
    const created: Hub = { handlers: new Set(), subscription: undefined as unknown as Subscription };
    let replayed = false;
    const dispatch = (pick: (h: SessionHandlers) => () => void): void => {
      // A snapshot: handlers may stop (or streams start) from inside a call.
      for (const h of [...created.handlers]) if (created.handlers.has(h)) pick(h)();
    };
    (created as { subscription: Subscription }).subscription = client.state$.subscribe({
      next: (state) => {
        const first = !replayed;
        replayed = true;
        if (state.type === 'closed') return dispatch((h) => h.closed);
        if (first) return;
        if (state.type === 'connected') dispatch((h) => h.newSession);
        else if (state.type === 'reconnected') dispatch((h) => h.reconnected);
      },
      complete: () => dispatch((h) => h.closed),
    });
    hub = created;
    hubs.set(client, hub);
  }
  const joined = hub;
  joined.handlers.add(handlers);
  return {
    unsubscribe: () => {
      joined.handlers.delete(handlers);
      if (joined.handlers.size === 0 && hubs.get(client) === joined) {
        hubs.delete(client);
        joined.subscription.unsubscribe();
      }
    },
  };
}
