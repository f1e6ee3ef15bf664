/**
 * One live source per client and key, shared by every subscriber: one read, one server watch. The
 * last unsubscribe tears the source down and forgets it, so a later subscriber starts afresh.
 */
import { defer, finalize, ReplaySubject, share, type Observable } from 'rxjs';
import type { ZkClient } from '../session/client.js';

const registries = new WeakMap<ZkClient, Map<string, Observable<unknown>>>();

/** Sources live right now for `client` (for leak checks). */
export function liveStreamCount(client: ZkClient): number {
  return registries.get(client)?.size ?? 0;
}

export function sharedStream<T>(client: ZkClient, key: string, create: () => Observable<T>): Observable<T> {
  // Looked up per subscription, not per call: an Observable kept by the caller and subscribed again
  // after a teardown must join the source that is live then, never start a second one.
  return defer(() => {
    let registry = registries.get(client);
    if (!registry) {
      registry = new Map();
      registries.set(client, registry);
    }
    const existing = registry.get(key) as Observable<T> | undefined;
    if (existing) return existing;
    const map = registry;
    const source: Observable<T> = create().pipe(
      finalize(() => {
        if (map.get(key) === source) map.delete(key);
      }),
      // Replay the latest value to late subscribers; reset on zero subscribers, error or completion.
      share({ connector: () => new ReplaySubject<T>(1) }),
    );
    map.set(key, source);
    return source;
  });
}
