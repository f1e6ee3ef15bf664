/**
 * One live source per client and key, shared by every subscriber: one read, one server watch. The
 * last unsubscribe tears the source down and forgets it, so a later subscriber starts afresh.
 *
 * Hand-rolled rather than `share({ connector: () => new ReplaySubject(1) })`: a data$ subscription
 * cycle is the hot path of every recipe, and the operator chain (defer, finalize, share, a subject and
 * their subscribers) was most of its garbage. This is one object per source and nothing per value.
 */
import { Observable, type Subscriber } from 'rxjs';
import type { ZkClient } from '../session/client.js';

/** Where a source sends what it has: the shared stream fans it out to every subscriber. */
export interface Sink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

/** Starts a source; returns what stops it. */
export type Start<T> = (sink: Sink<T>) => () => void;

interface Source<T> {
  /** Current subscribers; replaced (never mutated) while an emission is iterating over it. */
  subscribers: Subscriber<T>[];
  hasValue: boolean;
  value: T | undefined;
  stop: (() => void) | undefined;
  /** Errored, completed or torn down: no longer in the registry, nobody may join it. */
  ended: boolean;
}

const registries = new WeakMap<ZkClient, Map<string, Source<unknown>>>();

/** Sources live right now for `client` (for leak checks). */
export function liveStreamCount(client: ZkClient): number {
  return registries.get(client)?.size ?? 0;
}

export function sharedStream<T>(client: ZkClient, key: string, start: Start<T>): Observable<T> {
  // Looked up per subscription, not per call: an Observable kept by the caller and subscribed again
  // after a teardown must join the source that is live then, never start a second one.
  return new Observable<T>((subscriber) => {
    let registry = registries.get(client) as Map<string, Source<T>> | undefined;
    if (!registry) {
      registry = new Map();
      registries.set(client, registry as Map<string, Source<unknown>>);
    }
    const map = registry;
    let source = map.get(key);
    if (source) {
      source.subscribers = [...source.subscribers, subscriber];
      // Late subscribers get the latest value at once.
      if (source.hasValue) subscriber.next(source.value as T);
    } else {
      const created: Source<T> = {
        subscribers: [subscriber],
        hasValue: false,
        value: undefined,
        stop: undefined,
        ended: false,
      };
      source = created;
      map.set(key, created);
      const end = (): Subscriber<T>[] => {
        created.ended = true;
        if (map.get(key) === created) map.delete(key);
        const subscribers = created.subscribers;
        created.subscribers = [];
        return subscribers;
      };
      const stop = start({
        next: (value) => {
          // Update state before emitting: a subscriber may re-enter (subscribe, unsubscribe) meanwhile.
          created.value = value;
          created.hasValue = true;
          for (const s of created.subscribers) s.next(value);
        },
        error: (error: unknown) => {
          for (const s of end()) s.error(error);
        },
        complete: () => {
          for (const s of end()) s.complete();
        },
      });
      // The source may have ended (or lost its only subscriber) while it was being subscribed.
      if (created.ended) stop();
      else created.stop = stop;
    }
    const joined = source;
    return () => {
      if (joined.ended) return;
      joined.subscribers = joined.subscribers.filter((s) => s !== subscriber);
      if (joined.subscribers.length > 0) return;
      joined.ended = true;
      if (map.get(key) === joined) map.delete(key);
      joined.stop?.();
    };
  });
}
