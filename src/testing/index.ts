/**
 * rxzk/testing: helpers for users' own tests: ZooKeeper on virtual time for marble tests (an in-memory
 * server and clients on one TestScheduler, fault scripts, seeding, marble assertions), fault injection
 * for real servers, and the leak counters rxzk's own suites use.
 */
import { firstValueFrom, timer } from 'rxjs';
import type { ZkClient } from '../session/client.js';
import { registry } from '../session/registry.js';
import { memoryServerOf } from '../transport/memory/index.js';
import { expireNativeSession } from '../transport/native.js';

/**
 * Expires the client's current session on the server (as a server-side timeout would), and resolves
 * once the client has reported it `lost` (on the in-memory server: once it is expired there). The client then opens a new session by itself.
 *
 * The technique (a second handle joins the session, then closes it) races with the client's own
 * reconnect: if the client takes the session back first, the close is refused as SESSION_MOVED and
 * the session lives on. So it is repeated, up to `attempts` times, until the client reports `lost`.
 */
export async function expireSession(client: ZkClient, timeoutMs = 10_000, attempts = 5): Promise<void> {
  const handle = client.currentHandle();
  const sessionId = handle?.sessionId;
  const password = handle?.sessionPassword;
  if (!handle || sessionId === undefined || password === undefined) {
    throw new Error('expireSession: the client has no live session');
  }
  const memory = memoryServerOf(handle);
  if (memory) {
    // The in-memory server expires it at once; the client hears of it at once (if connected).
    memory.expire(sessionId);
    return;
  }
  // Subscribed before acting: state$ replays only the current state, and `lost` may pass quickly.
  let ended = false;
  let notify = (): void => undefined;
  const subscription = client.state$.subscribe((s) => {
    if (s.type === 'closed' || (s.type === 'lost' && s.sessionId === sessionId)) {
      ended = true;
      notify();
    }
  });
  try {
    for (let attempt = 1; attempt <= attempts && !ended; attempt++) {
      await expireNativeSession(client.connectString, sessionId, password, timeoutMs);
      const noticed = new Promise<void>((resolve) => (notify = resolve));
      await Promise.race([noticed, firstValueFrom(timer(3_000))]);
    }
  } finally {
    subscription.unsubscribe();
  }
  if (!ended) throw new Error(`expireSession: session ${sessionId} survived ${attempts} attempts`);
}

export { liveStreamCount } from '../streams/shared.js';

/** Transport handles open in this process (each client holds at most one). */
export function openHandleCount(): number {
  return registry.openHandles;
}

/** Clients created by `connect()` and not yet closed. */
export function openClientCount(): number {
  return registry.openClients;
}

// Virtual time
export { VirtualZooKeeper } from './virtual.js';
export type {
  VirtualZooKeeperOptions,
  Recording,
  RecordedMessage,
  SubscriptionFrames,
  FaultLetter,
} from './virtual.js';
export { MemoryZooKeeper } from '../transport/memory/index.js';
export type { MemoryZooKeeperOptions } from '../transport/memory/index.js';
