/** state$ on the in-memory server, with faults placed on exact frames. */
import { describe, expect, it } from 'vitest';
import { letters, virtualSuite } from './support/virtual.js';

const zk = virtualSuite();

describe('state$ on the in-memory server', () => {
  it('connects on the first scheduler turn; a server restart inside the session timeout is suspended then reconnected', async () => {
    const client = zk().client({ sessionTimeout: 1_000 });
    const states = zk().record(client.state$.pipe(letters));
    zk().faults(undefined, '200ms d 299ms u');
    await zk().advance(1_000);
    zk().expect(states).toBe('(ic) 196ms s 299ms r');
  });

  it('a server down for longer than the session timeout: the client judges the session lost by its own clock, then gets a new one once the server is back', async () => {
    const client = zk().client({ sessionTimeout: 1_000 });
    const states = zk().record(client.state$.pipe(letters));
    let first: string | undefined;
    zk().at(1, () => (first = client.sessionId));
    zk().faults(undefined, '200ms d 1499ms u');
    await zk().advance(2_000);
    // lost at 1200 (suspended at 200 + the 1,000 ms timeout); the new session connects when the
    // server returns at 1700.
    zk().expect(states).toBe('(ic) 196ms s 999ms l 499ms c');
    expect(client.sessionId).not.toBe(first);
  });

  it('a forced expiry while connected: lost, then connected on a new session at once', async () => {
    const client = zk().client();
    const states = zk().record(client.state$.pipe(letters));
    zk().faults(client, '100ms x');
    await zk().advance(200);
    zk().expect(states).toBe('(ic) 96ms (lc)');
  });

  it('flapping never yields an impossible sequence', async () => {
    const client = zk().client({ sessionTimeout: 1_000 });
    const states = zk().record(client.state$.pipe(letters));
    zk().faults(client, '100ms s 9ms r 9ms s 9ms r 9ms s 9ms r 9ms x');
    await zk().advance(400);
    zk().expect(states).toBe('(ic) 96ms s 9ms r 9ms s 9ms r 9ms s 9ms r 9ms (lc)');
  });

  it('close completes state$', async () => {
    const client = zk().client();
    const states = zk().record(client.state$.pipe(letters));
    zk().at(50, () => void client.close());
    await zk().advance(100);
    zk().expect(states).toBe('(ic) 46ms (x|)');
  });
});
