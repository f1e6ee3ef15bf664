/**
 * leadership() on virtual time: every transition (join, resignation, predecessor abandonment, suspend,
 * reconnect, expiry, the policy option) at exact frames, with the server's view (nodes, watches) probed.
 */
import { map, type OperatorFunction } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, leadership, type Leadership, type ZkClient } from '../../src/index.js';
import { VirtualZooKeeper, type Recording } from '../../src/testing/index.js';

/** One letter per transition: L leader, a/b/c follower of that id, u uncertain, x lost. */
const V = { L: 'leader', a: 'follower:a', b: 'follower:b', c: 'follower:c', u: 'uncertain', x: 'lost' };
const show: OperatorFunction<Leadership, string> = map((s) =>
  s.type === 'follower' ? `follower:${s.leader}` : s.type,
);

let zk: VirtualZooKeeper;
beforeEach(() => {
  zk = new VirtualZooKeeper({ assert: (actual, expected) => expect(actual).toEqual(expected) });
});
afterEach(() => zk.close());

/** Every election node on the server, by owner: `a:1` = a node of client a's session number 1. */
function nodes(clients: Record<string, ZkClient>): () => string[] {
  const owners = new Map<string, string>();
  return () => {
    for (const [name, c] of Object.entries(clients)) {
      if (c.sessionId && !owners.has(c.sessionId))
        owners.set(
          c.sessionId,
          `${name}:${[...owners.values()].filter((o) => o.startsWith(name)).length + 1}`,
        );
    }
    return [...owners].flatMap(([session, owner]) => zk.server.ephemerals(session).map(() => owner)).sort();
  };
}

/** A recording as [frame, value] pairs (for probes whose first values share frame 0). */
function timeline<T>(recording: Recording<T>): [number, T][] {
  return recording.messages.map((m) => [m.frame, (m.notification as { value: T }).value]);
}

/** A value's full shape, for asserting tokens and times. */
async function read<T>(work: () => Promise<T>): Promise<T> {
  const result = work();
  await zk.advance(1);
  return result;
}

describe('leadership', () => {
  it('the first candidate leads with its czxid as token, the next follows it; Curator layout and data', async () => {
    const a = zk.client();
    const b = zk.client();
    const ra = zk.record(leadership(a, '/e', { id: 'a' }));
    const rb = zk.record(leadership(b, '/e', { id: 'b' }).pipe(show), '10ms ^');
    await zk.advance(50);
    zk.expect(rb).toBe('10ms a', V);
    const leader = ra.messages[0]!.notification;
    expect(leader.kind).toBe('N');
    const value = (leader as { value: Leadership }).value;
    if (value.type !== 'leader') throw new Error('not leader');
    const { children } = await read(() => zk.writer.children('/e'));
    expect(children.sort((x, y) => x.slice(-10).localeCompare(y.slice(-10)))).toEqual([
      expect.stringMatching(/^_c_[0-9a-f-]{36}-latch-0000000000$/),
      expect.stringMatching(/^_c_[0-9a-f-]{36}-latch-0000000001$/),
    ]);
    const stat = await read(() => zk.writer.get(value.node));
    expect(value.token).toBe(stat.stat.czxid);
    expect(value.sessionId).toBe(a.sessionId);
    expect(stat.stat.ephemeralOwner).toBe(a.sessionId);
    expect(stat.data.toString()).toBe('a');
    expect(value.since).toBe(0);
    expect(ra.messages).toHaveLength(1);
  });

  it('resignation (unsubscribe) deletes our node and releases our watch; the successor leads at once', async () => {
    const a = zk.client();
    const b = zk.client();
    const c = zk.client();
    const held = zk.probe(nodes({ a, b, c }));
    const ra = zk.record(leadership(a, '/e', { id: 'a' }).pipe(show), '^ 49ms !');
    const rb = zk.record(leadership(b, '/e', { id: 'b' }).pipe(show), '10ms ^ 89ms !');
    const rc = zk.record(leadership(c, '/e', { id: 'c' }).pipe(show), '20ms ^');
    await zk.advance(200);
    zk.expect(ra).toBe('L', V);
    zk.expect(rb).toBe('10ms a 39ms L', V);
    // c watches b only: a's resignation wakes b alone, so c's view of the leader is the one it read.
    zk.expect(rc).toBe('20ms a 79ms L', V);
    expect(timeline(held)).toEqual([
      [0, []],
      [0, ['a:1']],
      [10, ['a:1', 'b:1']],
      [20, ['a:1', 'b:1', 'c:1']],
      [50, ['b:1', 'c:1']],
      [100, ['c:1']],
    ]);
    // Only the leader's own watch on its node is left (no follower watches anything).
    expect([...zk.server.watchesByPath().values()].flat()).toEqual([c.sessionId]);
  });

  it('each candidate watches only its predecessor (no herd)', async () => {
    const clients = Array.from({ length: 5 }, () => zk.client());
    const names = 'abcde';
    clients.forEach((c, i) => zk.record(leadership(c, '/e', { id: names[i]! }), `${i * 10}ms ^`));
    await zk.advance(100);
    const { children } = await read(() => zk.writer.children('/e'));
    const bySeq = children.sort((x, y) => x.slice(-10).localeCompare(y.slice(-10)));
    const watches = zk.server.watchesByPath();
    bySeq.forEach((name, i) => {
      const watchers = watches.get(`/e/${name}`) ?? [];
      // The leader watches its own node; every other node is watched by its successor alone.
      const expected = [i === 0 ? clients[0]!.sessionId : undefined, clients[i + 1]?.sessionId].filter(
        Boolean,
      );
      expect(watchers.sort()).toEqual((expected as string[]).sort());
    });
    expect(watches.has('/e')).toBe(false);
  });

  it('a predecessor that abandons (is deleted while not leading) means a re-check, not a claim', async () => {
    const a = zk.client();
    const b = zk.client();
    const c = zk.client();
    zk.record(leadership(a, '/e', { id: 'a' }));
    const rb = zk.record(leadership(b, '/e', { id: 'b' }).pipe(show), '10ms ^ 39ms !');
    const rc = zk.record(leadership(c, '/e', { id: 'c' }).pipe(show), '20ms ^');
    const cWatches = zk.probe(
      () => [...zk.server.watchesByPath()].filter(([, s]) => s.includes(c.sessionId!)).length,
    );
    await zk.advance(100);
    zk.expect(rb).toBe('10ms a', V);
    // c saw its predecessor b go at 50, re-ranked, and stays a follower of a: no claim, no emission.
    zk.expect(rc).toBe('20ms a', V);
    // c watched b's node from 20, then a's from 50: always exactly one watch.
    zk.expect(cWatches).toBe('0 19ms 1', { 0: 0, 1: 1 } as never);
    expect(zk.server.watchesByPath().get(`/e`)).toBeUndefined();
  });

  it('safe policy: suspended ends leadership (uncertain), reconnected re-checks and leads again', async () => {
    const a = zk.client();
    const b = zk.client();
    const ra = zk.record(leadership(a, '/e', { id: 'a' }));
    const rb = zk.record(leadership(b, '/e', { id: 'b' }).pipe(show), '10ms ^');
    zk.faults(a, '100ms s 199ms r');
    zk.faults(b, '400ms s 99ms r');
    await zk.advance(1000);
    zk.expect(ra).toBe('L 99ms u 199ms L', {
      L: expect.objectContaining({ type: 'leader' }),
      u: expect.objectContaining({ type: 'uncertain' }),
    } as never);
    const [first, , again] = ra.messages.map((m) => (m.notification as { value: Leadership }).value);
    // Same node and token (same session), a new start time.
    expect(again).toMatchObject({ type: 'leader', token: (first as { token: number }).token, since: 300 });
    zk.expect(rb).toBe('10ms a 389ms u 99ms a', V);
  });

  it('safe policy: a suspension longer than the session timeout: the old leader stops before the new one starts', async () => {
    const a = zk.client({ sessionTimeout: 1_000 });
    const b = zk.client({ sessionTimeout: 1_000 });
    const ra = zk.record(leadership(a, '/e', { id: 'a' }).pipe(show));
    const rb = zk.record(leadership(b, '/e', { id: 'b' }).pipe(show), '10ms ^');
    zk.faults(a, '100ms s 1499ms r');
    await zk.advance(3000);
    // a: uncertain at 100; its own timer judges the session lost at 1100 and opens a new session,
    // whose node queues behind b's and behind a's old node, still there until the server expires the
    // old session (1100..1200). b leads only then; a never leads again.
    zk.expect(ra).toBe('L 99ms u 999ms (xa)', V);
    const bLeads = rb.messages.find((m) => (m.notification as { value: string }).value === 'leader')!.frame;
    expect(bLeads).toBeGreaterThanOrEqual(1100);
    expect(bLeads).toBeLessThanOrEqual(1200);
    zk.expect(rb).toBe(`10ms a ${bLeads - 11}ms L`, V);
  });

  it('expiry: lost, then a new node in the new session, with a larger token', async () => {
    const a = zk.client();
    const b = zk.client();
    const ra = zk.record(leadership(a, '/e', { id: 'a' }));
    const rb = zk.record(leadership(b, '/e', { id: 'b' }).pipe(show), '10ms ^');
    zk.faults(a, '100ms x');
    await zk.advance(500);
    const types = ra.messages.map(
      (m) => `${m.frame}:${(m.notification as { value: Leadership }).value.type}`,
    );
    expect(types).toEqual(['0:leader', '100:lost', '100:follower']);
    zk.expect(rb).toBe('10ms a 89ms L', V);
    const [first, , after] = ra.messages.map((m) => (m.notification as { value: Leadership }).value);
    expect(after).toMatchObject({ type: 'follower', leader: 'b' });
    expect((after as { node: string }).node).not.toBe((first as { node: string }).node);
  });

  it('expiry of a lone leader: lost, then leader again on a new node with a larger token', async () => {
    const a = zk.client();
    const ra = zk.record(leadership(a, '/e', { id: 'a' }));
    zk.faults(a, '100ms x');
    await zk.advance(300);
    const values = ra.messages.map((m) => (m.notification as { value: Leadership }).value);
    expect(values.map((v) => v.type)).toEqual(['leader', 'lost', 'leader']);
    const [first, , again] = values as [
      Extract<Leadership, { type: 'leader' }>,
      Leadership,
      Extract<Leadership, { type: 'leader' }>,
    ];
    expect(again.token).toBeGreaterThan(first.token);
    expect(again.sessionId).not.toBe(first.sessionId);
    expect(again.node).not.toBe(first.node);
  });

  it("policy 'available': keeps leading through suspended, ends on lost only", async () => {
    const a = zk.client({ sessionTimeout: 1_000 });
    const b = zk.client({ sessionTimeout: 1_000 });
    const ra = zk.record(leadership(a, '/e', { id: 'a', policy: 'available' }).pipe(show));
    const rb = zk.record(leadership(b, '/e', { id: 'b', policy: 'available' }).pipe(show), '10ms ^');
    zk.faults(a, '100ms s 199ms r 300ms s 1499ms r');
    await zk.advance(3000);
    // The short suspension (100..300) goes unseen; the long one (from 601) ends in lost at 1601 (the
    // client's own timer), when a rejoins behind its old node (and b's).
    zk.expect(ra).toBe('L 1600ms (xa)', V);
    expect(rb.messages.map((m) => (m.notification as { value: string }).value)).toEqual([
      'follower:a',
      'leader',
    ]);
  });

  it('our node deleted by someone else: lost, and a new node', async () => {
    const a = zk.client();
    const ra = zk.record(leadership(a, '/e', { id: 'a' }).pipe(show));
    zk.at(50, () => {
      void zk.writer.children('/e').then(({ children }) => zk.writer.delete(`/e/${children[0]}`));
    });
    await zk.advance(200);
    zk.expect(ra).toBe('L 49ms (xL)', V);
  });

  it('resigning while suspended: the delete is retried and lands when the connection is back', async () => {
    const a = zk.client({ sessionTimeout: 2_000 });
    const held = zk.probe(nodes({ a }));
    const ra = zk.record(leadership(a, '/e', { id: 'a' }).pipe(show), '^ 199ms !');
    zk.faults(a, '100ms s 399ms r');
    await zk.advance(1000);
    zk.expect(ra).toBe('L 99ms u', V);
    expect(timeline(held)).toEqual([
      [0, []],
      [0, ['a:1']],
      [500, []],
    ]);
    expect(zk.server.watchCount()).toBe(0);
  });

  it('ignores stray children that are not latch nodes', async () => {
    await zk.seed({ '/e/config': 'x', '/e/latch-notanumber': 'y' });
    const a = zk.client();
    const ra = zk.record(leadership(a, '/e', { id: 'a' }).pipe(show));
    await zk.advance(10);
    zk.expect(ra).toBe('L', V);
  });

  it('completes when the client closes', async () => {
    const a = zk.client();
    const ra = zk.record(leadership(a, '/e', { id: 'a' }).pipe(show));
    zk.at(30, () => void a.close());
    await zk.advance(50);
    zk.expect(ra).toBe('L 29ms |', V);
  });

  it('rejects bad input synchronously, naming the argument', () => {
    const a = zk.client();
    const argument = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentError);
        return (error as InvalidArgumentError).argument;
      }
      throw new Error('did not throw');
    };
    expect(argument(() => leadership(a, 'e', { id: 'a' }))).toBe('path');
    expect(argument(() => leadership(a, '/e', { id: '' }))).toBe('options.id');
    expect(argument(() => leadership(a, '/e', undefined as never))).toBe('options');
    expect(argument(() => leadership(a, '/e', { id: 'a', policy: 'yolo' as never }))).toBe('options.policy');
    expect(argument(() => leadership(a, '/e', { id: 'a', data: 42 as never }))).toBe('options.data');
  });
});
