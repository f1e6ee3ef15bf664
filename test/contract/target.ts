/**
 * The contract suite runs the same tests against a real ZooKeeper server (test/contract-real.test.ts)
 * and against the in-memory engine (test/contract-memory.test.ts). A target hides how each one makes
 * clients, expires sessions, drops connections and counts watches. Where the two disagree, the real
 * server is right.
 */
import { createHash } from 'node:crypto';
import { firstValueFrom, filter, timeout } from 'rxjs';
import type { ConnectOptions, SessionState, WatchEvent, Watcher, ZkClient } from '../../src/index.js';

export interface ClientOptions extends ConnectOptions {
  /** A chroot appended to the target's connect string, e.g. `/app`. */
  readonly chroot?: string;
}

export interface ContractTarget {
  /** `'real'` or `'memory'`. */
  readonly name: string;
  /** A connected-or-connecting client; the target closes it after the test (closing earlier is fine). */
  client(options?: ClientOptions): Promise<ZkClient>;
  /** A unique path per test, created before it and removed (with everything below it) after it. */
  readonly root: string;
  /** Expires the client's session on the server; resolves once the client reported `lost`. */
  expire(client: ZkClient): Promise<void>;
  /** Drops the client's connection, the session lives on; resolves once the client reported `suspended`. */
  disconnect(client: ZkClient): Promise<void>;
  /** Lets the client connect again; resolves at `reconnected` (or at `connected` after `lost`). */
  reconnect(client: ZkClient): Promise<void>;
  /** Watches the server holds, over every session. */
  watchCount(): Promise<number>;
}

/** What every contract function takes: the target of the current test (it changes per test). */
export type Target = () => ContractTarget;

/** Resolves with the first state of `client` that satisfies `match` (the current one counts), bounded. */
export function stateOf(
  client: ZkClient,
  match: (state: SessionState) => boolean,
  timeoutMs = 20_000,
): Promise<SessionState> {
  return firstValueFrom(client.state$.pipe(filter(match), timeout(timeoutMs)));
}

/** A watcher that records its events, and the list it records into. */
export function recorder(): { events: WatchEvent[]; watch: Watcher } {
  const events: WatchEvent[] = [];
  return { events, watch: (event) => events.push(event) };
}

/** `user:base64(sha1(user:password))`, the id of a digest ACL. */
export const digestId = (user: string, password: string): string =>
  `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;

/** Waits for the client's first session. */
export async function ready(client: ZkClient): Promise<ZkClient> {
  await client.ready();
  return client;
}
