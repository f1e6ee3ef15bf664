/**
 * Unsubscribing while a stream's read is still in flight: the read arms its watch when its reply
 * arrives, after the stream has let go. That watch must be released too (client table and server),
 * or it stays armed for good on a path nobody follows (found by the dashboard: leader$ switching from
 * a deleted leader's node left an exists() watch on it).
 */
import { describe, expect, it } from 'vitest';
import { children$, data$, stat$, tree$, type ZkClient } from '../src/index.js';
import { liveStreamCount } from '../src/testing/index.js';
import { virtualSuite } from './support/virtual.js';

const zk = virtualSuite();

/** Subscribes at 0, unsubscribes at 5 while the reply (10 ms of latency) is on its way, then waits. */
async function leaveDuringRead(client: ZkClient, subscribe: () => { unsubscribe(): void }): Promise<void> {
  zk().server.setLatency(10, client.sessionId);
  const subscription = subscribe();
  zk().at(5, () => subscription.unsubscribe());
  await zk().advance(100);
  expect(liveStreamCount(client)).toBe(0);
  expect(client.armedWatchCount, 'watches the client still counts as armed').toBe(0);
  expect(zk().server.watchCount(), 'watches left on the server').toBe(0);
}

describe('unsubscribing while the read is in flight leaves no watch', () => {
  it('data$ of an existing node', async () => {
    const client = zk().client();
    await zk().seed({ '/a': 'v0' });
    await leaveDuringRead(client, () => data$(client, '/a').subscribe());
  });

  it('data$ of a missing node (its exists() watch)', async () => {
    const client = zk().client();
    await leaveDuringRead(client, () => data$(client, '/missing').subscribe());
  });

  it('stat$ and children$', async () => {
    const client = zk().client();
    await zk().seed({ '/p': '', '/p/c': '' });
    await leaveDuringRead(client, () => stat$(client, '/p').subscribe());
    await leaveDuringRead(client, () => children$(client, '/p').subscribe());
  });

  it('tree$', async () => {
    const client = zk().client();
    await zk().seed({ '/t': '', '/t/a': '', '/t/a/b': '' });
    await leaveDuringRead(client, () => tree$(client, '/t').subscribe());
  });
});
