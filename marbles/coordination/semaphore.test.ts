/**
 * semaphore() on virtual time: N holders and the next one waiting, one waiter let in per release,
 * expiry and suspension of a holder, the stored limit and a participant that disagrees with it, and a
 * waiter that gives up, with the server's view (lease nodes, mutex nodes, watches) probed.
 */
import { map, Observable, tap, type MonoTypeOperatorFunction, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ZkClient } from '../../src/index.js';
import { SemaphoreLimitError } from '../../src/recipes/coordination-errors.js';
import type { Ownership } from '../../src/recipes/ownership.js';
import { semaphore } from '../../src/recipes/semaphore.js';
import type { Recording } from '../../src/testing/index.js';
import { virtualSuite, argumentOf } from '../support/virtual.js';

const zk = virtualSuite();

/** One letter per transition: w waiting, A acquired, s/x/d lost (suspended, expired, deleted). */
const V = { w: 'waiting', A: 'acquired', s: 'lost:suspended', x: 'lost:expired', d: 'lost:deleted' };
const show: OperatorFunction<Ownership, string> = map((o) =>
  o.type === 'lost' ? `lost:${o.reason}` : o.type,
);

const values = <T>(r: Recording<T>): T[] => r.messages.map((m) => (m.notification as { value: T }).value);

/** Who holds a lease node under `/s/leases` (by client name, sorted), from the server's ephemerals. */
function leaseOwners(clients: Record<string, ZkClient>): () => string[] {
  return () =>
    Object.entries(clients)
      .filter(([, c]) => c.sessionId && zk().server.ephemerals(c.sessionId).some(isLease))
      .map(([name]) => name)
      .sort();
}
/** Counts the streams holding right now (`acquired` until `lost` or unsubscription) and the peak. */
function countHolders(count: { now: number; max: number }): MonoTypeOperatorFunction<Ownership> {
  return (source) =>
    new Observable<Ownership>((subscriber) => {
      let held = false;
      const set = (next: boolean): void => {
        if (next === held) return;
        held = next;
        count.now += next ? 1 : -1;
        count.max = Math.max(count.max, count.now);
      };
      const inner = source.pipe(tap((o) => set(o.type === 'acquired'))).subscribe(subscriber);
      return () => {
        inner.unsubscribe();
        set(false);
      };
    });
}

const isLease = (node: string): boolean => node.startsWith('/s/leases/');

/** Every ephemeral node of `client`'s session under `/s`. */
const nodesOf = (client: ZkClient): string[] =>
  zk()
    .server.ephemerals(client.sessionId!)
    .filter((n) => n.startsWith('/s/'));

describe('semaphore', () => {
  it('N holders at once, the next waits; Curator V2 layout, lease czxid as token, the limit stored on the node', async () => {
    const [a, b, c, d] = [zk().client(), zk().client(), zk().client(), zk().client()];
    const ra = zk().record(semaphore(a, '/s', { leases: 3 }));
    const rb = zk().record(semaphore(b, '/s', { leases: 3 }).pipe(show), '10ms ^');
    const rc = zk().record(semaphore(c, '/s', { leases: 3 }).pipe(show), '20ms ^');
    const rd = zk().record(semaphore(d, '/s', { leases: 3 }).pipe(show), '30ms ^');
    await zk().advance(100);
    zk().expect(rb).toBe('10ms A', V);
    zk().expect(rc).toBe('20ms A', V);
    zk().expect(rd).toBe('30ms w', V);
    const [acquired] = values(ra) as Extract<Ownership, { type: 'acquired' }>[];
    expect(acquired!.node).toMatch(/^\/s\/leases\/_c_[0-9a-f-]{36}-lease-0000000000$/);
    const read = Promise.all([zk().writer.get(acquired!.node), zk().writer.get('/s')]);
    await zk().advance(1);
    const [lease, limit] = await read;
    expect(acquired!.token).toBe(lease.stat.czxid);
    expect(limit.data.toString()).toBe('3');
    // Holders gave the internal mutex back; the waiter keeps it and alone watches the pool.
    expect(nodesOf(a)).toEqual([acquired!.node]);
    expect(nodesOf(d).map((n) => n.replace(/_c_[0-9a-f-]{36}-/, ''))).toEqual([
      '/s/locks/lock-0000000003',
      '/s/leases/lease-0000000003',
    ]);
    expect(zk().server.watchesByPath().get('/s/leases')).toEqual([d.sessionId]);
  });

  it('a release lets exactly one waiter in; only the mutex holder watches the pool', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'] as const;
    const clients = Object.fromEntries(names.map((n) => [n, zk().client()])) as Record<string, ZkClient>;
    const owners = zk().probe(leaseOwners(clients));
    const subs = ['^ 99ms !', '10ms ^ 139ms !', '20ms ^', '30ms ^', '40ms ^'];
    const holding = { now: 0, max: 0 };
    const [ra, rb, rc, rd, re] = names.map((n, i) =>
      zk().record(semaphore(clients[n]!, '/s', { leases: 2 }).pipe(countHolders(holding), show), subs[i]),
    );
    await zk().advance(60);
    // c holds the mutex and waits on the pool; d and e wait on the mutex, not on the pool.
    expect(zk().server.watchesByPath().get('/s/leases')).toEqual([clients.c!.sessionId]);
    await zk().advance(240);
    zk().expect(ra!).toBe('A', V);
    zk().expect(rb!).toBe('10ms A', V);
    zk().expect(rc!).toBe('20ms w 79ms A', V);
    zk().expect(rd!).toBe('30ms w 119ms A', V);
    zk().expect(re!).toBe('40ms w', V);
    // Never more than two holders at once, by the streams' own account.
    expect(holding).toEqual({ now: 2, max: 2 });
    // The pool as the server saw it: the holders' leases, and the waiter's (e holds the mutex now).
    expect(values(owners).at(-1)).toEqual(['c', 'd', 'e']);
  });

  it("a holder's expiry frees its lease for the waiter; the expired one queues again", async () => {
    const [a, b] = [zk().client(), zk().client()];
    const ra = zk().record(semaphore(a, '/s', { leases: 1 }).pipe(show));
    const rb = zk().record(semaphore(b, '/s', { leases: 1 }).pipe(show), '10ms ^');
    zk().faults(a, '100ms x');
    await zk().advance(400);
    zk().expect(ra).toBe('A 99ms (xw)', V);
    zk().expect(rb).toBe('10ms w 89ms A', V);
    expect(nodesOf(b).filter(isLease)).toHaveLength(1);
  });

  it('safe policy: suspension ends ownership; reconnected holds again with the same lease and token', async () => {
    const [a, b] = [zk().client(), zk().client()];
    const ra = zk().record(semaphore(a, '/s', { leases: 1 }));
    const rb = zk().record(semaphore(b, '/s', { leases: 1 }).pipe(show), '10ms ^');
    zk().faults(a, '100ms s 199ms r');
    await zk().advance(600);
    zk()
      .expect(ra)
      .toBe('A 99ms s 199ms A', {
        A: expect.objectContaining({ type: 'acquired' }),
        s: { type: 'lost', reason: 'suspended' },
      } as never);
    const [first, , again] = values(ra) as Extract<Ownership, { type: 'acquired' }>[];
    expect(again).toMatchObject({ token: first!.token, node: first!.node, since: 300 });
    zk().expect(rb).toBe('10ms w', V);
  });

  it("policy 'available': keeps the lease through a short suspension", async () => {
    const a = zk().client();
    const ra = zk().record(semaphore(a, '/s', { leases: 1, policy: 'available' }).pipe(show));
    zk().faults(a, '100ms s 199ms r');
    await zk().advance(600);
    zk().expect(ra).toBe('A', V);
  });

  it('a participant asking for another limit errors with SemaphoreLimitError naming both, and leaves nothing', async () => {
    const [a, b] = [zk().client(), zk().client()];
    zk().record(semaphore(a, '/s', { leases: 2 }));
    const rb = zk().record(semaphore(b, '/s', { leases: 3 }), '10ms ^');
    await zk().advance(100);
    expect(rb.messages).toHaveLength(1);
    const { frame, notification } = rb.messages[0]!;
    expect(frame).toBe(10);
    expect(notification.kind).toBe('E');
    const error = (notification as { error: unknown }).error;
    expect(error).toBeInstanceOf(SemaphoreLimitError);
    expect(error).toMatchObject({ stored: 2, requested: 3 });
    expect((error as Error).message).toMatch(/\b2\b.*\b3\b/);
    expect(nodesOf(b)).toEqual([]);
  });

  it('the first participant writes the limit when the node exists without one', async () => {
    await zk().seed({ '/s': '' });
    const [a, b] = [zk().client(), zk().client()];
    const ra = zk().record(semaphore(a, '/s', { leases: 4 }).pipe(show));
    const rb = zk().record(semaphore(b, '/s', { leases: 5 }), '10ms ^');
    await zk().advance(50);
    zk().expect(ra).toBe('A', V);
    expect(rb.messages[0]!.notification).toMatchObject({
      kind: 'E',
      error: { stored: 4, requested: 5 },
    });
  });

  it('unsubscribing while waiting deletes our nodes and releases our watch; the holder keeps its lease', async () => {
    const [a, b, c] = [zk().client(), zk().client(), zk().client()];
    const owners = zk().probe(leaseOwners({ a, b, c }));
    const ra = zk().record(semaphore(a, '/s', { leases: 1 }).pipe(show));
    // b waits on the pool (holding the mutex), c on the mutex; both give up.
    zk().record(semaphore(b, '/s', { leases: 1 }), '10ms ^ 29ms !');
    zk().record(semaphore(c, '/s', { leases: 1 }), '20ms ^ 9ms !');
    await zk().advance(25);
    expect(nodesOf(b)).toHaveLength(2);
    expect(nodesOf(c)).toHaveLength(1);
    await zk().advance(75);
    expect(nodesOf(b)).toEqual([]);
    expect(nodesOf(c)).toEqual([]);
    expect(values(owners)).toEqual([[], ['a'], ['a', 'b'], ['a']]);
    expect(owners.messages.map((m) => m.frame)).toEqual([0, 0, 10, 40]);
    // Left: the holder's watch on its own lease.
    expect([...zk().server.watchesByPath().values()].flat()).toEqual([a.sessionId]);
    zk().expect(ra).toBe('A', V);
  });

  it('our lease deleted by someone else: lost (deleted), and a new lease', async () => {
    const a = zk().client();
    const ra = zk().record(semaphore(a, '/s', { leases: 1 }));
    zk().at(50, () => void zk().writer.delete(nodesOf(a).find(isLease)!));
    await zk().advance(100);
    const seen = values(ra);
    expect(seen.map((o) => (o.type === 'lost' ? `lost:${o.reason}` : o.type))).toEqual([
      'acquired',
      'lost:deleted',
      'acquired',
    ]);
    expect((seen[2] as { token: number }).token).toBeGreaterThan((seen[0] as { token: number }).token);
  });

  it('completes when the client closes', async () => {
    const a = zk().client();
    const ra = zk().record(semaphore(a, '/s', { leases: 1 }).pipe(show));
    zk().at(30, () => void a.close());
    await zk().advance(50);
    zk().expect(ra).toBe('A 29ms |', V);
  });

  it('rejects bad input synchronously, naming the argument', () => {
    const a = zk().client();
    expect(argumentOf(() => semaphore(a, 's', { leases: 1 }))).toBe('path');
    expect(argumentOf(() => semaphore(a, '/s', null as never))).toBe('options');
    expect(argumentOf(() => semaphore(a, '/s', {} as never))).toBe('options.leases');
    expect(argumentOf(() => semaphore(a, '/s', { leases: 0 }))).toBe('options.leases');
    expect(argumentOf(() => semaphore(a, '/s', { leases: 1.5 }))).toBe('options.leases');
    expect(argumentOf(() => semaphore(a, '/s', { leases: '2' as never }))).toBe('options.leases');
    expect(argumentOf(() => semaphore(a, '/s', { leases: 1, policy: 'yolo' as never }))).toBe(
      'options.policy',
    );
    expect(argumentOf(() => semaphore(a, '/s', { leases: 1, data: 42 as never }))).toBe('options.data');
  });
});
