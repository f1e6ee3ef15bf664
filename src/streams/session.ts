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

/**
 * What a re-watching stream must react to in the session's life. The state replayed on subscription
 * is not news (the stream's own first read covers it), so it is skipped, unless it is `closed`.
 */
export function onSessionChanges(client: ZkClient, handlers: SessionHandlers): Subscription {
  let replayed = false;
  return client.state$.subscribe({
    next: (state) => {
      const first = !replayed;
      replayed = true;
      if (state.type === 'closed') return handlers.closed();
      if (first) return;
      if (state.type === 'connected') handlers.newSession();
      else if (state.type === 'reconnected') handlers.reconnected();
    },
    complete: () => handlers.closed(),
  });
}
