/**
 * One live source per client and key, shared by every subscriber: one read, one server watch. The
 * last unsubscribe tears the source down and forgets it, so a later subscriber starts afresh.
 *
 * Hand-rolled rather than `share({ connector: () => new ReplaySubject(1) })`: a data$ subscription
 * cycle is the hot path of every recipe, and the operator chain (defer, finalize, share, a subject and
 * their subscribers) was most of its garbage. Here a source is one object, and a value costs nothing.
 */
import { Observable, type Subscriber } from 'rxjs';
import type { ZkClient } from '../session/client.js';

/** Where a running source sends what it has: the shared stream fans it out to every subscriber. */
export interface Sink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

/** A source that runs until stopped. */
export interface Running {
  stop(): void;
}

/** Starts a source that reports to `sink`. */
export type Start<T> = (sink: Sink<T>) => Running;

const registries = new WeakMap<ZkClient, Map<string, Source<unknown>>>();

/** Sources live right now for `client` (for leak checks). */
export function liveStreamCount(client: ZkClient): number {
  return registries.get(client)?.size ?? 0;
}

export function sharedStream<T>(client: ZkClient, key: string, start: Start<T>): Observable<T> {
  // Looked up per subscription, not per call: an Observable kept by the caller and subscribed again
  // after a teardown must join the source that is live then, never start a second one.
  return new Observable<T>((subscriber) => attach(client, key, start, subscriber));
}

/**
 * Joins (or starts) the source; the teardown it returns is made by the source, so that what a
 * subscription keeps alive is the source and the subscriber, not this call's arguments (a stream
 * factory's read function and its options, per subscriber: most of a fan-out's heap).
 */
function attach<T>(client: ZkClient, key: string, start: Start<T>, subscriber: Subscriber<T>): () => void {
  let registry = registries.get(client);
  if (!registry) {
    registry = new Map();
    registries.set(client, registry);
  }
  const source = registry.get(key) as Source<T> | undefined;
  if (source) return source.join(subscriber);
  const created = new Source<T>(registry as Map<string, Source<T>>, key, subscriber);
  registry.set(key, created as Source<unknown>);
  created.start(start);
  return created.teardown(subscriber);
}

class Source<T> implements Sink<T> {
  /** Current subscribers; replaced (never mutated) so that an emission in progress is not disturbed. */
  private subscribers: Subscriber<T>[];
  private hasValue = false;
  private value: T | undefined;
  private running: Running | undefined;
  /** Errored, completed or torn down: no longer in the registry, nobody may join it. */
  private ended = false;

  constructor(
    private readonly registry: Map<string, Source<T>>,
    private readonly key: string,
    first: Subscriber<T>,
  ) {
    this.subscribers = [first];
  }

  start(start: Start<T>): void {
    const running = start(this);
    // The source may have ended (or lost its only subscriber) while it was starting.
    if (this.ended) running.stop();
    else this.running = running;
  }

  /** Adds a subscriber; returns its teardown. */
  join(subscriber: Subscriber<T>): () => void {
    this.subscribers = [...this.subscribers, subscriber];
    // Late subscribers get the latest value at once.
    if (this.hasValue) subscriber.next(this.value as T);
    return this.teardown(subscriber);
  }

  teardown(subscriber: Subscriber<T>): () => void {
    return () => this.leave(subscriber);
  }

  leave(subscriber: Subscriber<T>): void {
    if (this.ended) return;
    this.subscribers = this.subscribers.filter((s) => s !== subscriber);
    if (this.subscribers.length > 0) return;
    this.forget();
    this.running?.stop();
  }

  next(value: T): void {
    // Update state before emitting: a subscriber may re-enter (subscribe, unsubscribe) meanwhile.
    this.value = value;
    this.hasValue = true;
    for (const s of this.subscribers) s.next(value);
  }

  error(error: unknown): void {
    for (const s of this.forget()) s.error(error);
  }

  complete(): void {
    for (const s of this.forget()) s.complete();
  }

  /** Ends the source: out of the registry, no subscribers. Returns those it had. */
  private forget(): Subscriber<T>[] {
    this.ended = true;
    if (this.registry.get(this.key) === this) this.registry.delete(this.key);
    const subscribers = this.subscribers;
    this.subscribers = [];
    return subscribers;
  }
}
