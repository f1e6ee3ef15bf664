/**
 * rxzk/testing: helpers for users' own tests. This entry grows with the in-memory engine; today it holds
 * fault injection for real servers and the leak counters rxzk's own suites use.
 */
import type { ZkClient } from '../session/client.js';
import { registry } from '../session/registry.js';
import { expireNativeSession } from '../transport/native.js';

/**
 * Expires the client's current session on the server (as a server-side timeout would), and resolves
 * once the server has ended it. The client then reports `lost` and opens a new session by itself.
 */
export async function expireSession(client: ZkClient, timeoutMs = 10_000): Promise<void> {
  const handle = client.currentHandle();
  const sessionId = handle?.sessionId;
  const password = handle?.sessionPassword;
  if (!handle || sessionId === undefined || password === undefined) {
    throw new Error('expireSession: the client has no live session');
  }
  await expireNativeSession(client.connectString, sessionId, password, timeoutMs);
}

/** Transport handles open in this process (each client holds at most one). */
export function openHandleCount(): number {
  return registry.openHandles;
}

/** Clients created by `connect()` and not yet closed. */
export function openClientCount(): number {
  return registry.openClients;
}
