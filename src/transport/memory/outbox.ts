/**
 * One connection's outbound stream: replies and events leave in the order the server produced them,
 * each after the connection's latency. With no latency an item goes out on a microtask (fast under
 * asyncScheduler, no timer); with latency, on the scheduler.
 *
 * Between two items the outbox lets a few microtask turns pass. The C client hands each reply and each
 * event to JS in its own libuv callback, so a reply's promise continuations run before the next event is
 * dispatched; code that registers a listener right after `await`ing a read relies on that (the session
 * layer's watch table does).
 */
import type { SchedulerLike, Subscription } from 'rxjs';

export interface OutboxItem {
  /** Delivers the item (resolve a reply, call watchers, emit a session event). */
  deliver(): void;
  /** The connection dropped (or the handle closed) before delivery; replies reject with `error`. */
  lost?(error: Error): void;
}

interface Queued {
  readonly item: OutboxItem;
  readonly due: number;
}

/** Microtask turns between two deliveries: enough for an `await` chain through the session layer. */
const TURNS_BETWEEN_ITEMS = 12;

export class Outbox {
  private queue: Queued[] = [];
  private lastDue = Number.NEGATIVE_INFINITY;
  private draining = false;
  private timer: Subscription | undefined;
  /** Bumped by `drop()`: a drain loop of an earlier generation stops. */
  private generation = 0;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly latency: () => number,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  push(item: OutboxItem): void {
    // Order per connection is kept whatever the latency: an item is never due before the previous one.
    const due = Math.max(this.scheduler.now() + this.latency(), this.lastDue);
    this.lastDue = due;
    this.queue.push({ item, due });
    this.kick();
  }

  /** Empties the outbox without delivering; returns the items dropped, oldest first. */
  drop(): OutboxItem[] {
    this.generation++;
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.draining = false;
    const dropped = this.queue.map((q) => q.item);
    this.queue = [];
    this.lastDue = Number.NEGATIVE_INFINITY;
    return dropped;
  }

  private kick(): void {
    if (this.draining || this.timer) return;
    const head = this.queue[0];
    if (!head) return;
    const wait = head.due - this.scheduler.now();
    if (wait <= 0) {
      this.draining = true;
      const generation = this.generation;
      queueMicrotask(() => void this.drain(generation));
    } else {
      this.timer = this.scheduler.schedule(() => {
        this.timer = undefined;
        this.kick();
      }, wait);
    }
  }

  private async drain(generation: number): Promise<void> {
    for (;;) {
      if (generation !== this.generation) return;
      const head = this.queue[0];
      if (!head || head.due > this.scheduler.now()) break;
      this.queue.shift();
      try {
        head.item.deliver();
      } catch (error) {
        // A throwing watcher or listener is a bug of its own; it must not stall this connection.
        queueMicrotask(() => {
          throw error;
        });
      }
      for (let i = 0; i < TURNS_BETWEEN_ITEMS; i++) await Promise.resolve();
    }
    this.draining = false;
    this.kick();
  }
}
