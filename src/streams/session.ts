import type { Subscription } from 'rxjs';
import type { ZkClient } from '../session/client.js';

/** Called as methods, so a stream can implement them on its prototype (no closures per stream). */
export interface SessionHandlers {
  /** `connected` after `lost`: a new session, with no watches at all. */
  newSession(): void;
  /** `reconnected`: the same session; the client restored its watches. */
  reconnected(): void;
  /** The client closed. */
  closed(): void;
}

export interface SessionListener {
  unsubscribe(): void;
}

const hubs = new WeakMap<ZkClient, Hub>();

/**
 * What a re-watching stream must react to in the session's life. The state current when a stream
 * starts is not news (the stream's own first read covers it), unless it is `closed`.
 */
export function onSessionChanges(client: ZkClient, handlers: SessionHandlers): SessionListener {
  if (client.state.type === 'closed') {
    handlers.closed();
    return NOTHING;
  }
  let hub = hubs.get(client);
  if (!hub) {
    hub = new Hub(client);
    hubs.set(client, hub);
  }
  return hub.add(handlers);
}

const NOTHING: SessionListener = { unsubscribe: () => undefined };

/** One state$ subscription per client, shared by all of its live streams (thousands, on a busy client). */
class Hub {
  private readonly handlers = new Set<SessionHandlers>();
  private readonly subscription: Subscription;

  constructor(private readonly client: ZkClient) {
    let replayed = false;
    this.subscription = client.state$.subscribe({
      next: (state) => {
        const first = !replayed;
        replayed = true;
        if (state.type === 'closed') return this.dispatch('closed');
        if (first) return;
        if (state.type === 'connected') this.dispatch('newSession');
        else if (state.type === 'reconnected') this.dispatch('reconnected');
      },
      complete: () => this.dispatch('closed'),
    });
  }

  add(handlers: SessionHandlers): SessionListener {
    this.handlers.add(handlers);
    return new Listener(this, handlers);
  }

  remove(handlers: SessionHandlers): void {
    this.handlers.delete(handlers);
    if (this.handlers.size === 0 && hubs.get(this.client) === this) {
      hubs.delete(this.client);
      this.subscription.unsubscribe();
    }
  }

  private dispatch(event: keyof SessionHandlers): void {
    // A snapshot: handlers may stop (or streams start) from inside a call.
    for (const h of [...this.handlers]) if (this.handlers.has(h)) h[event]();
  }
}

class Listener implements SessionListener {
  constructor(
    private readonly hub: Hub,
    private readonly handlers: SessionHandlers,
  ) {}

  unsubscribe(): void {
    this.hub.remove(this.handlers);
  }
}
