/** data$ on virtual time: every frame below is exact, and nothing waits in real time. */
import { describe, expect, it } from 'vitest';
import { data$ } from '../src/index.js';
import { liveStreamCount } from '../src/testing/index.js';
import { letters, text, virtualSuite } from './support/virtual.js';

const zk = virtualSuite();

describe('data$', () => {
  it('emits the current state first, then each change, delete (null) and re-create', async () => {
    const client = zk().client();
    await zk().seed({ '/a': 'v0' });
    const seen = zk().record(data$(client, '/a').pipe(text));
    zk().at(10, () => void zk().writer.set('/a', 'v1'));
    zk().at(20, () => void zk().writer.delete('/a'));
    zk().at(30, () => void zk().writer.create('/a', 'v1')); // same bytes: mzxid tells them apart
    await zk().advance(100);
    zk().expect(seen).toBe('a 9ms b 9ms n 9ms b', { a: 'v0', b: 'v1', n: null });
  });

  it('emits null for a missing node, never an error, then its creation', async () => {
    const client = zk().client();
    const seen = zk().record(data$(client, '/later').pipe(text));
    zk().at(50, () => void zk().writer.create('/later', 'born'));
    await zk().advance(100);
    zk().expect(seen).toBe('n 49ms b', { n: null, b: 'born' });
  });

  it('dedupes: a set that writes the same bytes is a new value, a re-read of the same mzxid is not', async () => {
    const client = zk().client();
    await zk().seed({ '/d': 'same' });
    const seen = zk().record(data$(client, '/d').pipe(text));
    zk().at(10, () => void zk().writer.set('/d', 'same'));
    // A reconnect makes a stream re-read what may be stale; nothing changed, so nothing is emitted.
    zk().faults(client, '20ms s 9ms r');
    await zk().advance(100);
    zk().expect(seen).toBe('a 9ms a', { a: 'same' });
  });

  it('shares one server watch among subscribers; a late one gets the latest at once; the last one releases it', async () => {
    const client = zk().client();
    await zk().seed({ '/s': 'v0' });
    const watch = zk().watchLog('/s');
    const first = zk().record(data$(client, '/s').pipe(text), '^ 49ms !');
    const late = zk().record(data$(client, '/s').pipe(text), '10ms ^ 89ms !');
    zk().at(30, () => void zk().writer.set('/s', 'v1'));
    await zk().advance(200);
    zk().expect(first).toBe('a 29ms b', { a: 'v0', b: 'v1' });
    zk().expect(late).toBe('10ms a 19ms b', { a: 'v0', b: 'v1' });
    zk().expectSubscriptions(first.subscriptions).toBe('^ 49ms !');
    zk().expectSubscriptions(late.subscriptions).toBe('10ms ^ 89ms !');
    // Registered once at the first read, re-armed after the change, removed when `late` leaves (100).
    zk().expectSubscriptions(watch).toBe('^ 99ms !');
    expect(liveStreamCount(client)).toBe(0);
  });

  it('is silent while suspended and delivers what changed meanwhile on reconnect', async () => {
    const client = zk().client();
    await zk().seed({ '/r': 'v0' });
    const seen = zk().record(data$(client, '/r').pipe(text));
    const states = zk().record(client.state$.pipe(letters));
    zk().faults(client, '100ms s 199ms r');
    zk().at(150, () => void zk().writer.set('/r', 'v1'));
    await zk().advance(400);
    zk().expect(states).toBe('c 99ms s 199ms r');
    zk().expect(seen).toBe('a 299ms b', { a: 'v0', b: 'v1' });
  });

  it('sees a create+delete+create made while suspended, which a bare exists() watch would miss', async () => {
    const client = zk().client();
    const seen = zk().record(data$(client, '/gone').pipe(text));
    zk().faults(client, '100ms s 199ms r');
    zk().at(150, () => void zk().writer.create('/gone', 'x'));
    zk().at(160, () => void zk().writer.delete('/gone'));
    zk().at(170, () => void zk().writer.create('/gone', 'back'));
    await zk().advance(400);
    zk().expect(seen).toBe('n 299ms b', { n: null, b: 'back' });
  });

  it('after expiry, re-reads and re-watches on the new session: changes keep coming, no error, no completion', async () => {
    const client = zk().client();
    await zk().seed({ '/e': 'v0' });
    const seen = zk().record(data$(client, '/e').pipe(text));
    const states = zk().record(client.state$.pipe(letters));
    zk().faults(client, '100ms x');
    zk().at(50, () => void zk().writer.set('/e', 'v1'));
    zk().at(200, () => void zk().writer.set('/e', 'v2'));
    await zk().advance(300);
    zk().expect(states).toBe('c 99ms (lc)');
    zk().expect(seen).toBe('a 49ms b 149ms c', { a: 'v0', b: 'v1', c: 'v2' });
  });

  it("after a suspension longer than the session timeout, the client's own timer declares lost and streams heal", async () => {
    const client = zk().client({ sessionTimeout: 1_000 });
    await zk().seed({ '/t': 'v0' });
    const seen = zk().record(data$(client, '/t').pipe(text));
    const states = zk().record(client.state$.pipe(letters));
    zk().faults(client, '100ms s'); // never restored: the old session expires on the server too
    zk().at(500, () => void zk().writer.set('/t', 'v1'));
    await zk().advance(2_000);
    zk().expect(states).toBe('c 99ms s 999ms (lc)');
    zk().expect(seen).toBe('a 1099ms b', { a: 'v0', b: 'v1' });
  });

  it('unsubscribed while its read (and watch registration) is on its way: no watch is left armed', async () => {
    const client = zk().client();
    await zk().seed({ '/w': 'v0' });
    zk().server.setLatency(10);
    const seen = zk().record(data$(client, '/w').pipe(text), '^ 4ms !');
    // Another listener of the same node arrives later and leaves: it must not find a stale watch.
    const later = zk().record(data$(client, '/w').pipe(text), '30ms ^ 29ms !');
    await zk().advance(100);
    zk().expect(seen).toBe('');
    zk().expect(later).toBe('40ms a', { a: 'v0' });
    expect(client.armedWatchCount).toBe(0);
    expect(zk().server.watchCount()).toBe(0);
    expect(liveStreamCount(client)).toBe(0);
  });

  it('completes when the client closes', async () => {
    const client = zk().client();
    await zk().seed({ '/c': 'v0' });
    const seen = zk().record(data$(client, '/c').pipe(text));
    zk().at(10, () => void client.close());
    await zk().advance(20);
    zk().expect(seen).toBe('a 9ms |', { a: 'v0' });
  });
});
