/**
 * barrier() and doubleBarrier() on virtual time: release of waiters when the barrier goes, entering
 * when the last member arrives, leaving when the last member leaves.
 */
import { createHash } from 'node:crypto';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { NoAuthError, Perms } from '../../src/index.js';

import { barrier } from '../../src/recipes/barrier.js';
import { doubleBarrier } from '../../src/recipes/double-barrier.js';
import { virtualSuite, argumentOf } from '../support/virtual.js';

const zk = virtualSuite();
const B = { b: 'blocked', o: 'open' } as const;
const digestId = (credentials: string): string =>
  `${credentials.split(':')[0]}:${createHash('sha1').update(credentials).digest('base64')}`;

describe('barrier', () => {
  it('waiters are blocked while the node exists and all pass when it is removed', async () => {
    await zk().seed({ '/b': '' });
    const [x, y] = [zk().client(), zk().client()];
    const rx = zk().record(barrier(x, '/b'));
    const ry = zk().record(barrier(y, '/b'), '20ms ^');
    zk().at(50, () => void zk().writer.delete('/b'));
    await zk().advance(100);
    zk().expect(rx).toBe('b 49ms (o|)', B);
    zk().expect(ry).toBe('20ms b 29ms (o|)', B);
    expect(zk().server.watchCount()).toBe(0);
  });

  it('opens at once when there is no barrier', async () => {
    const x = zk().client();
    const rx = zk().record(barrier(x, '/b'));
    await zk().advance(10);
    zk().expect(rx).toBe('(o|)', B);
  });

  it('a waiter that may not READ the barrier fails with NoAuthError (it would never hear it lifted)', async () => {
    const acl = [{ perms: Perms.All, scheme: 'digest', id: digestId('alice:pw') }];
    const alice = zk().client({ auth: [{ scheme: 'digest', credentials: 'alice:pw' }] });
    const stranger = zk().client();
    zk().at(0, () => void alice.create('/b', '', { acl }));
    const rs = zk().record(barrier(stranger, '/b'), '10ms ^');
    const ra = zk().record(barrier(alice, '/b'), '10ms ^');
    zk().at(50, () => void alice.delete('/b'));
    await zk().advance(100);
    zk()
      .expect(rs)
      .toBe('10ms #', undefined, new NoAuthError({ path: '/b' }));
    zk().expect(ra).toBe('10ms b 39ms (o|)', B);
  });

  it('a waiter rides out a suspension and passes once the connection is back', async () => {
    await zk().seed({ '/b': '' });
    const x = zk().client({ sessionTimeout: 2_000 });
    const rx = zk().record(barrier(x, '/b'));
    zk().faults(x, '40ms s 99ms r');
    zk().at(60, () => void zk().writer.delete('/b'));
    await zk().advance(300);
    zk().expect(rx).toBe('b 139ms (o|)', B);
  });
});

describe('doubleBarrier', () => {
  it('a member refused (NoAuth on the barrier) fails and leaves no watch behind', async () => {
    const acl = [{ perms: Perms.All, scheme: 'digest', id: digestId('alice:pw') }];
    const alice = zk().client({ auth: [{ scheme: 'digest', credentials: 'alice:pw' }] });
    const stranger = zk().client();
    zk().at(0, () => void alice.create('/db', '', { acl }));
    const r = zk().record(
      doubleBarrier(stranger, '/db', { members: 2, leave: new Subject<void>() }),
      '10ms ^',
    );
    await zk().advance(50);
    zk().expect(r).toBe('10ms #', undefined, expect.any(NoAuthError));
    expect(stranger.armedWatchCount).toBe(0);
    expect(zk().server.watchCount()).toBe(0);
  });

  it('enters when the last member arrives, leaves when the last member leaves', async () => {
    const clients = [zk().client(), zk().client(), zk().client()];
    const leave = clients.map(() => new Subject<void>());
    const D = { w: 'waiting', e: 'entered', l: 'leaving', x: 'left' } as const;
    const records = clients.map((c, i) =>
      zk().record(doubleBarrier(c, '/db', { members: 3, leave: leave[i]! }), `${i * 20}ms ^`),
    );
    zk().at(100, () => leave[0]!.next());
    zk().at(120, () => leave[1]!.next());
    zk().at(150, () => leave[2]!.next());
    await zk().advance(300);
    zk().expect(records[0]!).toBe('w 39ms e 59ms l 49ms (x|)', D);
    zk().expect(records[1]!).toBe('20ms w 19ms e 79ms l 29ms (x|)', D);
    zk().expect(records[2]!).toBe('40ms (we) 106ms (lx|)', D);
    const left = zk().writer.children('/db');
    await zk().advance(1);
    expect((await left).children).toEqual([]);
    expect(zk().server.watchCount()).toBe(0);
  });

  it('a member that unsubscribes before entering takes its node away: the others keep waiting', async () => {
    const clients = [zk().client(), zk().client(), zk().client()];
    const never = new Subject<void>();
    const D = { w: 'waiting', e: 'entered' } as const;
    const r0 = zk().record(doubleBarrier(clients[0]!, '/db', { members: 3, leave: never }));
    zk().record(doubleBarrier(clients[1]!, '/db', { members: 3, leave: never }), '10ms ^ 9ms !');
    const r2 = zk().record(doubleBarrier(clients[2]!, '/db', { members: 3, leave: never }), '30ms ^');
    await zk().advance(100);
    zk().expect(r0).toBe('w', D);
    zk().expect(r2).toBe('30ms w', D);
  });

  it('rejects bad input, naming the argument', () => {
    const c = zk().client();
    expect(argumentOf(() => barrier(c, 'b'))).toBe('path');
    expect(argumentOf(() => doubleBarrier(c, '/db', { members: 0, leave: Promise.resolve() }))).toBe(
      'options.members',
    );
    expect(argumentOf(() => doubleBarrier(c, '/db', { members: 2 } as never))).toBe('options.leave');
    expect(argumentOf(() => doubleBarrier(c, '/db', null as never))).toBe('options');
  });
});
