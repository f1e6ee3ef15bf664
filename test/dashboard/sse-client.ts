/**
 * A plain HTTP client of the dashboard's event stream, for tests: keeps the latest value per key as
 * the page does, can stop reading (pause) to play a slow browser, and can be cut (close).
 */
import { get, type IncomingMessage } from 'node:http';

export interface SseClient {
  /** Latest value per key (a key whose latest value was null is absent). */
  readonly state: ReadonlyMap<string, unknown>;
  /** Messages received, and their bytes on the wire. */
  readonly messages: number;
  readonly bytes: number;
  /** Resolves once `check(state)` holds (checked after every message), at most `timeoutMs`. */
  until(
    what: string,
    check: (state: ReadonlyMap<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  /** Stops reading: the socket's buffers fill, then the server's write buffer. */
  pause(): void;
  resume(): void;
  /** Destroys the connection, as a browser tab that closes. */
  close(): void;
}

export function openSse(url: string): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const request = get(new URL('events', url), { headers: { accept: 'text/event-stream' } });
    request.once('error', reject);
    request.once('response', (response: IncomingMessage) => {
      if (response.statusCode !== 200) return reject(new Error(`GET /events: ${response.statusCode}`));
      resolve(new Client(response));
    });
  });
}

class Client implements SseClient {
  readonly state = new Map<string, unknown>();
  messages = 0;
  bytes = 0;
  private buffer = '';
  private waiters = new Set<() => void>();

  constructor(private readonly response: IncomingMessage) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.take(chunk));
    response.on('error', () => undefined);
  }

  until(
    what: string,
    check: (state: ReadonlyMap<string, unknown>) => boolean,
    timeoutMs = 20_000,
  ): Promise<void> {
    if (check(this.state)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(test);
        reject(new Error(`SSE client: no ${what} within ${timeoutMs} ms (${this.messages} messages)`));
      }, timeoutMs);
      const test = () => {
        if (!check(this.state)) return;
        clearTimeout(timer);
        this.waiters.delete(test);
        resolve();
      };
      this.waiters.add(test);
    });
  }

  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  close(): void {
    this.response.destroy();
  }

  private take(chunk: string): void {
    this.bytes += Buffer.byteLength(chunk);
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const data = frame.split('\n').find((line) => line.startsWith('data: '));
      if (data === undefined) continue; // a heartbeat comment
      const { key, value } = JSON.parse(data.slice(6)) as { key: string; value: unknown };
      this.messages++;
      if (value === null) this.state.delete(key);
      else this.state.set(key, value);
    }
    for (const waiter of [...this.waiters]) waiter();
  }
}
