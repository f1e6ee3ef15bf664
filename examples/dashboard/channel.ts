/**
 * SseChannel: one browser's Server-Sent Events stream, with per-key conflation as backpressure.
 *
 * Everything the dashboard shows is a set of keys (`session`, `node:/a/b`, `election:/…`), each with a
 * latest value (`null`: gone). The page keeps only the latest value of each key and renders from that,
 * so the order in which keys arrive does not matter, and an intermediate value nobody has seen yet can
 * be replaced by a newer one without loss of meaning. That is the rule, RxJS-style: while the socket's
 * write buffer is full (`write()` returned false), updates are not queued but conflated, the latest
 * value per key replacing the older one; on `drain` the pending keys are written until it fills again.
 *
 * So what the server holds for a slow browser is bounded by the size of the state (one value per key),
 * never by the number of updates: a removal of a key the browser never received cancels the pending
 * value instead of queueing a `null` (a queue's items come and go under unique names: without this,
 * a paused browser would collect a tombstone for every item).
 */
import type { ServerResponse } from 'node:http';

/** What a channel holds right now (for tests and the page's own footer). */
export interface ChannelStats {
  /** Bytes in the response's write buffer (Node's, above the kernel's socket buffer). */
  readonly bufferedBytes: number;
  /** Keys waiting for the buffer to drain, each with its latest value only. */
  readonly pendingKeys: number;
  /** The JSON size of those values. */
  readonly pendingBytes: number;
  /** Messages written so far. */
  readonly written: number;
  /** Updates replaced by a newer value of the same key (or cancelled by a removal) before being sent. */
  readonly conflated: number;
  readonly congested: boolean;
}

const HEARTBEAT_MS = 15_000;

export class SseChannel {
  private readonly pending = new Map<string, unknown>();
  /** Keys the browser holds a value for: the only ones a removal must be sent for. */
  private readonly shown = new Set<string>();
  private congested = false;
  private written = 0;
  private conflated = 0;
  private reported = 0;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly res: ServerResponse) {
    res.on('drain', () => this.flush());
    // A comment line now and then: a browser that vanished without closing its socket is noticed.
    this.heartbeat = setInterval(() => this.congested || res.write(': ping\n\n'), HEARTBEAT_MS).unref();
    res.on('close', () => clearInterval(this.heartbeat));
  }

  /** Sends the latest `value` of `key` now, or (socket full) keeps it as the key's pending value. */
  send(key: string, value: unknown): void {
    const pending = this.pending.has(key);
    if (value === null && !this.shown.has(key)) {
      // The browser never got this key: there is nothing to remove, only a pending value to drop.
      if (pending) {
        this.pending.delete(key);
        this.conflated++;
      }
      return;
    }
    if (!this.congested) return this.write(key, value);
    if (pending) this.conflated++;
    // An existing key keeps its place in the map: a key updated all the time cannot starve the others.
    this.pending.set(key, value);
  }

  stats(): ChannelStats {
    let pendingBytes = 0;
    for (const [key, value] of this.pending) pendingBytes += key.length + JSON.stringify(value).length;
    return {
      bufferedBytes: this.res.writableLength,
      pendingKeys: this.pending.size,
      pendingBytes,
      written: this.written,
      conflated: this.conflated,
      congested: this.congested,
    };
  }

  private write(key: string, value: unknown): void {
    if (value === null) this.shown.delete(key);
    else this.shown.add(key);
    this.written++;
    // JSON.stringify escapes newlines, so a message is always one `data:` line.
    this.congested = !this.res.write(`data: ${JSON.stringify({ key, value })}\n\n`);
  }

  private flush(): void {
    this.congested = false;
    for (const [key, value] of this.pending) {
      // Out of the map before writing: a full buffer stops the loop with the rest still pending.
      this.pending.delete(key);
      this.write(key, value);
      if (this.congested) return;
    }
    // Caught up: tell the page how much it was spared (it says so in its footer).
    if (this.conflated > this.reported) {
      this.reported = this.conflated;
      this.write('link', { conflated: this.conflated });
    }
  }
}
