/**
 * lock(), acquire() and withLock() on virtual time: every transition (acquire, wait, handoff,
 * predecessor abandonment, timeout, release during suspension, expiry while holding, our node deleted)
 * at exact frames, with the server's view (nodes, watches) probed.
 */
import { map, type OperatorFunction } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { ClosedError, type ZkClient } from '../../src/index.js';
import { acquire } from '../../src/recipes/acquire.js';
import { LockLostError, LockTimeoutError } from '../../src/recipes/coordination-errors.js';
import { lock } from '../../src/recipes/lock.js';
import type { Ownership } from '../../src/recipes/ownership.js';
import { withLock } from '../../src/recipes/with-lock.js';
import type { Recording } from '../../src/testing/index.js';
import { virtualSuite, argumentOf } from '../support/virtual.js';

const zk = virtualSuite();

/** One letter per transition: w waiting, A acquired, s/x/d lost (suspended, expired, deleted). */
const V = { w: 'waiting', A: 'acquired', s: 'lost:suspended', x: 'lost:expired', d: 'lost:deleted' };
const show: OperatorFunction<Ownership, string> = map((o) =>
  o.type === 'lost' ? `lost:${o.reason}` : o.type,
);

const values = <T>(r: Recording<T>): T[] => r.messages.map((m) => (m.notification as { value: T }).value);

/** Lock nodes on the server, in queue order, by owner name. */
function holders(clients: Record<string, ZkClient>, path = '/l'): () => string[] {
  return () => {
    const owners = new Map(Object.entries(clients).map(([n, c]) => [c.sessionId, n]));
    const found: [string, string][] = [];
    for (const [session, name] of owners) {
      if (!session) continue;
      for (const node of zk().server.ephemerals(session)) {
        if (node.startsWith(`${path}/`)) found.push([node.slice(-10), name!]);
      }
    }
    return found.sort().map(([, n]) => n);
  };
}

/** The (single) lock node of `client`'s session. */
const ownNode = (client: ZkClient): string => zk().server.ephemerals(client.sessionId!)[0]!;

describe('lock', () => {
  it('the first contender acquires with its czxid as token; Curator InterProcessMutex layout', async () => {
    const a = zk().client();
    const ra = zk().record(lock(a, '/l'));
    await zk().advance(10);
    const [acquired] = values(ra);
    expect(acquired).toMatchObject({ type: 'acquired', since: 0, sessionId: a.sessionId });
    const node = (acquired as Extract<Ownership, { type: 'acquired' }>).node;
    expect(node).toMatch(/^\/l\/_c_[0-9a-f-]{36}-lock-0000000000$/);
    const read = zk().writer.get(node);
    await zk().advance(1);
    const { stat } = await read;
    expect((acquired as { token: number }).token).toBe(stat.czxid);
    expect(stat.ephemeralOwner).toBe(a.sessionId);
    expect(ra.messages).toHaveLength(1);
  });

  it('waiters queue; a release hands over at once, without a read when the one released was lowest in our listing', async () => {
    const [a, b, c] = [zk().client(), zk().client(), zk().client()];
    const held = zk().probe(holders({ a, b, c }));
    const ra = zk().record(lock(a, '/l').pipe(show), '^ 49ms !');
    const rb = zk().record(lock(b, '/l').pipe(show), '10ms ^ 89ms !');
    const rc = zk().record(lock(c, '/l').pipe(show), '20ms ^');
    // Spied after the queue formed: from then on, handoffs only.
    await zk().advance(30);
    const listings = [vi.spyOn(b, 'children'), vi.spyOn(c, 'children')];
    await zk().advance(200);
    zk().expect(ra).toBe('A', V);
    zk().expect(rb).toBe('10ms w 39ms A', V);
    zk().expect(rc).toBe('20ms w 79ms A', V);
    // b listed [a, b]: a's deletion makes b first, no read. c listed [a, b, c] and never saw a go:
    // b's deletion leaves a ahead of c in its listing, so c reads once (a may still be there).
    expect(listings.map((s) => s.mock.calls.length)).toEqual([0, 1]);
    expect(values(held)).toEqual([[], ['a'], ['a', 'b'], ['a', 'b', 'c'], ['b', 'c'], ['c']]);
    // Only the holder's watch on its own node is left.
    expect(
      zk()
        .server.watchesByPath()
        .get(values(rc).length ? ownNode(c) : ''),
    ).toEqual([c.sessionId]);
    expect(zk().server.watchCount()).toBe(1);
  });

  it('each waiter watches only its predecessor (no herd); one wake-up per release', async () => {
    const clients = Array.from({ length: 6 }, () => zk().client());
    clients.forEach((c, i) => zk().record(lock(c, '/l'), `${i * 10}ms ^`));
    await zk().advance(100);
    const listing = zk().writer.children('/l');
    await zk().advance(1);
    const names = (await listing).children.sort((x, y) => x.slice(-10).localeCompare(y.slice(-10)));
    const byPath = zk().server.watchesByPath();
    // Each node is watched by its own session (to learn if someone deletes it) and by exactly its
    // successor's session; the last by its own only.
    names.forEach((name, i) => {
      const expected = [clients[i]!.sessionId, clients[i + 1]?.sessionId];
      expect((byPath.get(`/l/${name}`) ?? []).sort()).toEqual(expected.filter(Boolean).sort());
    });
    expect(byPath.has('/l')).toBe(false);
  });

  it('a predecessor that abandons (gives up while not holding) means a re-check, not a claim', async () => {
    const [a, b, c] = [zk().client(), zk().client(), zk().client()];
    zk().record(lock(a, '/l').pipe(show), '^ 99ms !');
    const rb = zk().record(lock(b, '/l').pipe(show), '10ms ^ 39ms !');
    const rc = zk().record(lock(c, '/l').pipe(show), '20ms ^');
    const listings = vi.spyOn(c, 'children');
    await zk().advance(200);
    zk().expect(rb).toBe('10ms w', V);
    // b abandoned at 50: c re-read the queue (a still holds) and waited on a; a released at 100.
    zk().expect(rc).toBe('20ms w 79ms A', V);
    expect(listings).toHaveBeenCalledTimes(2);
  });

  it('a contender that gives up (unsubscribes) while waiting deletes its node and releases its watch', async () => {
    const [a, b] = [zk().client(), zk().client()];
    const held = zk().probe(holders({ a, b }));
    zk().record(lock(a, '/l'));
    zk().record(lock(b, '/l'), '10ms ^ 29ms !');
    await zk().advance(100);
    expect(values(held)).toEqual([[], ['a'], ['a', 'b'], ['a']]);
    expect(held.messages.map((m) => m.frame)).toEqual([0, 0, 10, 40]);
    // Left: the holder's watch on its own node.
    expect([...zk().server.watchesByPath().values()].flat()).toEqual([a.sessionId]);
  });

  it('safe policy: suspended ends ownership; reconnected re-checks and holds again with the same token', async () => {
    const [a, b] = [zk().client(), zk().client()];
    const ra = zk().record(lock(a, '/l'));
    const rb = zk().record(lock(b, '/l').pipe(show), '10ms ^');
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

  it("policy 'available': keeps holding through a short suspension", async () => {
    const a = zk().client();
    const ra = zk().record(lock(a, '/l', { policy: 'available' }).pipe(show));
    zk().faults(a, '100ms s 199ms r');
    await zk().advance(600);
    zk().expect(ra).toBe('A', V);
  });

  it('release during suspension: the delete is retried and lands when the connection is back', async () => {
    const [a, b] = [zk().client({ sessionTimeout: 2_000 }), zk().client()];
    const held = zk().probe(holders({ a, b }));
    const ra = zk().record(lock(a, '/l').pipe(show), '^ 199ms !');
    const rb = zk().record(lock(b, '/l').pipe(show), '10ms ^');
    zk().faults(a, '100ms s 399ms r');
    await zk().advance(1000);
    zk().expect(ra).toBe('A 99ms s', V);
    // The node stays (it is the session's) until the delete lands on restore at 500: b holds then.
    zk().expect(rb).toBe('10ms w 489ms A', V);
    expect(held.messages.map((m) => [m.frame, (m.notification as { value: string[] }).value])).toEqual([
      [0, []],
      [0, ['a']],
      [10, ['a', 'b']],
      [500, ['b']],
    ]);
  });

  it('expiry while holding: lost, then a new node in the new session behind the next holder', async () => {
    const [a, b] = [zk().client(), zk().client()];
    const ra = zk().record(lock(a, '/l'));
    const rb = zk().record(lock(b, '/l').pipe(show), '10ms ^');
    zk().faults(a, '100ms x');
    await zk().advance(500);
    const seen = values(ra);
    expect(ra.messages.map((m) => [m.frame, (m.notification as { value: Ownership }).value.type])).toEqual([
      [0, 'acquired'],
      [100, 'lost'],
      [100, 'waiting'],
    ]);
    expect(seen[1]).toEqual({ type: 'lost', reason: 'expired' });
    expect((seen[2] as { node: string }).node).not.toBe((seen[0] as { node: string }).node);
    zk().expect(rb).toBe('10ms w 89ms A', V);
  });

  it('expiry of a lone holder: lost, then acquired again with a larger token', async () => {
    const a = zk().client();
    const ra = zk().record(lock(a, '/l'));
    zk().faults(a, '100ms x');
    await zk().advance(300);
    const seen = values(ra);
    expect(seen.map((o) => o.type)).toEqual(['acquired', 'lost', 'acquired']);
    const [first, , again] = seen as Extract<Ownership, { type: 'acquired' }>[];
    expect(again!.token).toBeGreaterThan(first!.token);
    expect(again!.sessionId).not.toBe(first!.sessionId);
  });

  it('our node deleted by someone else: lost (deleted), and a new node', async () => {
    const [a, b] = [zk().client(), zk().client()];
    const ra = zk().record(lock(a, '/l').pipe(show));
    const rb = zk().record(lock(b, '/l').pipe(show), '10ms ^');
    zk().at(50, () => {
      void zk()
        .writer.children('/l')
        .then(({ children }) => zk().writer.delete(`/l/${children.find((n) => n.endsWith('0000000000'))}`));
    });
    await zk().advance(200);
    // The holder watches its own node: it learns of the deletion as b does, and queues behind b.
    zk().expect(rb).toBe('10ms w 39ms A', V);
    zk().expect(ra).toBe('A 49ms (dw)', V);
  });

  it("a waiter's node deleted by someone else: it queues again at once, not waiting on a node that is gone", async () => {
    const [a, b, c] = [zk().client(), zk().client(), zk().client()];
    const held = holders({ a, b, c });
    zk().record(lock(a, '/l').pipe(show), '^ 99ms !');
    const rb = zk().record(lock(b, '/l').pipe(show), '10ms ^');
    const rc = zk().record(lock(c, '/l').pipe(show), '20ms ^');
    zk().at(50, () => void zk().writer.delete(ownNode(b)));
    const queued = zk().probe(held);
    await zk().advance(200);
    // b learns of it from its own node's watch: a new node, behind c's, in the same frame (not when a
    // releases, at 100); a's release hands over to c.
    const frames = queued.messages.map((m) => [m.frame, (m.notification as { value: string[] }).value]);
    expect(frames).toEqual([
      [0, []],
      [0, ['a']],
      [10, ['a', 'b']],
      [20, ['a', 'b', 'c']],
      [50, ['a', 'c', 'b']],
      [100, ['c', 'b']],
    ]);
    zk().expect(rb).toBe('10ms w 39ms w', V);
    zk().expect(rc).toBe('20ms w 79ms A', V);
  });

  it('queueing again right after a release reads no listing: nothing was created since our last one', async () => {
    const a = zk().client();
    const listings = vi.spyOn(a, 'children');
    const first = zk().record(lock(a, '/l').pipe(show), '^ 29ms !');
    const again = zk().record(lock(a, '/l'), '40ms ^');
    await zk().advance(100);
    zk().expect(first).toBe('A', V);
    const [acquired] = values(again) as Extract<Ownership, { type: 'acquired' }>[];
    expect(values(again)).toHaveLength(1);
    // The first listing counted one create (ours): the second node is number 1, so nothing came in
    // between and the queue is known: [first (released), second]; the token comes with the create.
    expect(acquired!.node).toMatch(/-lock-0000000001$/);
    expect(listings).toHaveBeenCalledTimes(1);
    const read = zk().writer.exists(acquired!.node);
    await zk().advance(1);
    expect(acquired!.token).toBe((await read)!.czxid);
  });

  it('a second contender of one client queues behind the first without a listing; waiting once its node is seen', async () => {
    const [a, b] = [zk().client(), zk().client()];
    const listings = vi.spyOn(b, 'children');
    const ra = zk().record(lock(a, '/l').pipe(show), '^ 59ms !');
    const rb = zk().record(lock(b, '/l').pipe(show), '10ms ^');
    const rb2 = zk().record(lock(b, '/l').pipe(show), '20ms ^');
    await zk().advance(40);
    // b2's first ranking used b's listing [a, b] (two creates, and b2 is number 2): it waits on b, and
    // says so once its read finds b there. No listing but b's own.
    zk().expect(rb2).toBe('20ms w', V);
    expect(listings).toHaveBeenCalledTimes(1);
    await zk().advance(200);
    zk().expect(ra).toBe('A', V);
    zk().expect(rb).toBe('10ms w 49ms A', V);
    zk().expect(rb2).toBe('20ms w', V);
  });

  it('a create by anyone between our last listing and our node means a fresh listing', async () => {
    const [a, b] = [zk().client(), zk().client()];
    const listings = vi.spyOn(a, 'children');
    const ra = zk().record(lock(a, '/l').pipe(show), '^ 29ms !');
    zk().at(35, () => void b.create('/l/stray', ''));
    const ra2 = zk().record(lock(a, '/l').pipe(show), '40ms ^');
    await zk().advance(100);
    zk().expect(ra).toBe('A', V);
    zk().expect(ra2).toBe('40ms A', V);
    expect(listings).toHaveBeenCalledTimes(2);
  });

  it('ignores stray children that are not lock nodes', async () => {
    await zk().seed({ '/l/config': 'x', '/l/lock-notanumber': 'y' });
    const a = zk().client();
    const ra = zk().record(lock(a, '/l').pipe(show));
    await zk().advance(10);
    zk().expect(ra).toBe('A', V);
  });

  it('completes when the client closes', async () => {
    const a = zk().client();
    const ra = zk().record(lock(a, '/l').pipe(show));
    zk().at(30, () => void a.close());
    await zk().advance(50);
    zk().expect(ra).toBe('A 29ms |', V);
  });

  it('rejects bad input synchronously, naming the argument', () => {
    const a = zk().client();
    expect(argumentOf(() => lock(a, 'l'))).toBe('path');
    expect(argumentOf(() => lock(a, '/l', null as never))).toBe('options');
    expect(argumentOf(() => lock(a, '/l', { policy: 'yolo' as never }))).toBe('options.policy');
    expect(argumentOf(() => lock(a, '/l', { data: 42 as never }))).toBe('options.data');
    expect(argumentOf(() => acquire(a, '/l', { timeout: -1 }))).toBe('options.timeout');
    expect(argumentOf(() => acquire(a, '/l', { type: 'shared' as never }))).toBe('options.type');
    expect(argumentOf(() => withLock(a, '/l', 42 as never))).toBe('fn');
  });
});

describe('acquire', () => {
  it('resolves a handle when acquired; release() resolves once the node is gone and the next holds', async () => {
    const [a, b] = [zk().client(), zk().client()];
    const held = zk().probe(holders({ a, b }));
    const handle = acquire(a, '/l');
    await zk().advance(10);
    const h = await handle;
    expect(h.node).toMatch(/-lock-0000000000$/);
    const rb = zk().record(lock(b, '/l').pipe(show));
    let releasedAt = -1;
    zk().at(50, () => void h.release().then(() => (releasedAt = zk().now)));
    await zk().advance(100);
    expect(releasedAt).toBe(50);
    zk().expect(rb, 10).toBe('w 39ms A', V);
    expect(values(held).at(-1)).toEqual(['b']);
  });

  it('timeout: rejects with LockTimeoutError at the deadline and deletes our node', async () => {
    const [a, b] = [zk().client(), zk().client()];
    const held = zk().probe(holders({ a, b }));
    zk().record(lock(a, '/l'));
    let failure: unknown;
    let at = -1;
    void acquire(b, '/l', { timeout: 100 }).catch((e: unknown) => {
      failure = e;
      at = zk().now;
    });
    await zk().advance(300);
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect(at).toBe(100);
    expect(values(held)).toEqual([[], ['a'], ['a', 'b'], ['a']]);
    expect(held.messages.at(-1)!.frame).toBe(100);
    expect([...zk().server.watchesByPath().values()].flat()).toEqual([a.sessionId]);
  });

  it('a lost holder: the handle signal aborts with LockLostError and the handle releases its node', async () => {
    const a = zk().client({ sessionTimeout: 2_000 });
    const held = zk().probe(holders({ a }));
    const handle = acquire(a, '/l');
    await zk().advance(10);
    const h = await handle;
    // A listener added while holding hears the loss; the signal read after it is the same one.
    const early = h.signal;
    const heard = vi.fn();
    early.addEventListener('abort', heard);
    zk().faults(a, '40ms s 99ms r');
    await zk().advance(300);
    expect(heard).toHaveBeenCalledTimes(1);
    expect(h.signal).toBe(early);
    expect(h.signal.aborted).toBe(true);
    expect(h.signal.reason).toBeInstanceOf(LockLostError);
    expect((h.signal.reason as LockLostError).reason).toBe('suspended');
    // Not re-acquired behind the user's back: the node went when the connection came back (150).
    expect(held.messages.map((m) => m.frame)).toEqual([0, 0, 150]);
  });

  it('rejects with ClosedError when the client closes while waiting', async () => {
    const [a, b] = [zk().client(), zk().client()];
    zk().record(lock(a, '/l'));
    let failure: unknown;
    void acquire(b, '/l').catch((e: unknown) => (failure = e));
    zk().at(20, () => void b.close());
    await zk().advance(50);
    expect(failure).toBeInstanceOf(ClosedError);
  });
});

describe('withLock', () => {
  it('runs fn under the lock, one at a time, and releases after', async () => {
    const clients = [zk().client(), zk().client(), zk().client()];
    const log: string[] = [];
    const results = clients.map((c, i) =>
      withLock(c, '/l', async (h) => {
        log.push(`in ${i} @${zk().now}`);
        await new Promise<void>((resolve) => zk().at(zk().now + 30, resolve));
        log.push(`out ${i} @${zk().now}`);
        return h.token;
      }),
    );
    await zk().advance(200);
    const tokens = await Promise.all(results);
    expect(log.map((l) => l.split(' @')[0])).toEqual(['in 0', 'out 0', 'in 1', 'out 1', 'in 2', 'out 2']);
    expect(log.map((l) => Number(l.split('@')[1]))).toEqual([0, 30, 30, 60, 60, 90]);
    expect([...tokens].sort((x, y) => x - y)).toEqual(tokens);
    expect(zk().server.watchCount()).toBe(0);
  });

  it('rejects with LockLostError as soon as ownership is lost while fn runs', async () => {
    const a = zk().client();
    let signal: AbortSignal | undefined;
    let failure: unknown;
    let at = -1;
    void withLock(a, '/l', (h) => {
      signal = h.signal;
      return new Promise<void>(() => undefined);
    }).catch((e: unknown) => {
      failure = e;
      at = zk().now;
    });
    zk().faults(a, '50ms x');
    await zk().advance(100);
    expect(failure).toBeInstanceOf(LockLostError);
    expect(at).toBe(50);
    expect(signal?.aborted).toBe(true);
  });

  it('timeout: fn is not called', async () => {
    const [a, b] = [zk().client(), zk().client()];
    zk().record(lock(a, '/l'));
    const fn = vi.fn();
    let failure: unknown;
    void withLock(b, '/l', fn, { timeout: 40 }).catch((e: unknown) => (failure = e));
    await zk().advance(100);
    expect(failure).toBeInstanceOf(LockTimeoutError);
    expect(fn).not.toHaveBeenCalled();
  });
});
