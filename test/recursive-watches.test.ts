/**
 * tree$ on a persistent recursive watch (ZooKeeper 3.6+ addWatch, binding patch 13) against a real
 * server: what it sends, and how it lives with one-shot watches of the same session on the same paths.
 *
 * ZooKeeper 3.8 keys a watch's mode by connection and path, so a one-shot watch and a recursive one on
 * the same path of one session interfere: a one-shot data or exists watch set after the recursive one
 * turns it into a one-shot (the client serves such watches from the recursive watch instead), a one-shot
 * child watch set before it becomes recursive and deaf to child changes (the client arms it again after),
 * and the recursive watch's removal (removeWatches of type Any) takes the path's one-shot watches along
 * (the client arms them again). Each case here is a stream that would go deaf without that handling.
 */
import { firstValueFrom, filter, type Observable, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { children$, data$, tree$, type TreeSnapshot, type ZkClient } from '../src/index.js';
import { eventually, zkSuite } from './support/fixture.js';
import { watchesBySession } from './support/fourLetter.js';
import { OpCode, startProxy } from './support/proxy.js';

const zk = zkSuite({ tickTime: 500 });

/** The latest value of a stream, kept as it comes. */
function follow<T>(stream: Observable<T>): { value: () => T | undefined; sub: Subscription } {
  let last: T | undefined;
  const sub = stream.subscribe((v) => (last = v));
  return { value: () => last, sub };
}

const treeData = (t: TreeSnapshot | undefined) =>
  new Map([...(t?.nodes ?? new Map())].map(([p, n]) => [p, n.data.toString()]));

/** The paths the server holds a watch on for `client`'s session. */
async function watchedPaths(client: ZkClient): Promise<string[]> {
  return ((await watchesBySession(zk.connectString)).get(`0x${client.sessionId}`) ?? []).sort();
}

describe('tree$ on a recursive watch', () => {
  it('primes with one watch and a plain read per node, a listing only where there are children', async () => {
    const w = zk.client();
    const r = `${zk.root}/t`;
    await w.create(r, 'root');
    for (let i = 0; i < 5; i++) {
      await w.create(`${r}/c${i}`, `c${i}`);
      for (let j = 0; j < 4; j++) await w.create(`${r}/c${i}/g${j}`, `g${j}`);
    }
    const proxy = await startProxy(zk.server.connectString);
    try {
      const c = zk.client({ connectString: proxy.connectString });
      await c.ready();
      const before = proxy.listeners[0]!.requestsByType();
      const t = follow(tree$(c, r));
      await eventually(() => expect(t.value()?.nodes.size).toBe(26));
      const after = proxy.listeners[0]!.requestsByType();
      const sent = (op: number) => (after.get(op) ?? 0) - (before.get(op) ?? 0);
      // 26 nodes: 1 + 5 have children (listed), 20 leaves (their Stat says none: not listed).
      expect(sent(OpCode.addWatch)).toBe(1);
      expect(sent(OpCode.getData)).toBe(26);
      expect(sent(OpCode.getChildren2)).toBe(6);
      expect(await watchedPaths(c)).toEqual([r]);

      // It follows creates, data changes and deletes anywhere below, with no further watches.
      await w.create(`${r}/c0/g0/deep`, 'd');
      await w.set(`${r}/c1/g1`, 'changed');
      await w.delete(`${r}/c2/g2`);
      await w.create(`${r}/c9`, 'late');
      await eventually(() => {
        const data = treeData(t.value());
        expect(data.get(`${r}/c0/g0/deep`)).toBe('d');
        expect(data.get(`${r}/c1/g1`)).toBe('changed');
        expect(data.has(`${r}/c2/g2`)).toBe(false);
        expect(data.get(`${r}/c9`)).toBe('late');
      });
      expect(await watchedPaths(c)).toEqual([r]);
      t.sub.unsubscribe();
      await eventually(async () => expect(await watchedPaths(c)).toEqual([]));
    } finally {
      await proxy.close();
    }
  });

  it('a data$ and a children$ on the root path, before and after the tree, and after it leaves', async () => {
    const c = zk.client();
    const w = zk.client();
    const r = `${zk.root}/t`;
    await w.create(`${r}/a`, '1', { createParents: true });
    // children$ first: its one-shot child watch takes the recursive watch's mode (deaf to child changes)
    // unless the client arms it again after the recursive one.
    const kids = follow(children$(c, r));
    await eventually(() => expect(kids.value()?.children).toEqual(['a']));
    const t = follow(tree$(c, r));
    await eventually(() => expect(t.value()?.nodes.size).toBe(2));
    // data$ after: a one-shot data watch set now would turn the recursive watch into a one-shot.
    const root = follow(data$(c, r));
    await eventually(() => expect(root.value()).not.toBeUndefined());

    await w.create(`${r}/b`, '2');
    await w.set(r, 'root changed');
    await w.create(`${r}/b/below`, '3');
    await eventually(() => {
      expect([...(kids.value()?.children ?? [])].sort()).toEqual(['a', 'b']);
      expect(root.value()?.data.toString()).toBe('root changed');
      expect(treeData(t.value()).get(`${r}/b/below`)).toBe('3');
    });
    // More than once: a watch served or re-armed must keep going, not fire once and stop.
    await w.create(`${r}/c`, '4');
    await w.set(r, 'again');
    await w.set(`${r}/b/below`, 'again');
    await eventually(() => {
      expect([...(kids.value()?.children ?? [])].sort()).toEqual(['a', 'b', 'c']);
      expect(root.value()?.data.toString()).toBe('again');
      expect(treeData(t.value()).get(`${r}/b/below`)).toBe('again');
    });

    // The tree leaves: its removal (removeWatches of type Any) takes the root's one-shot watches with
    // it; the streams still see what follows.
    t.sub.unsubscribe();
    await w.create(`${r}/d`, '5');
    await w.set(r, 'after the tree');
    await eventually(() => {
      expect([...(kids.value()?.children ?? [])].sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(root.value()?.data.toString()).toBe('after the tree');
    });
    expect(await watchedPaths(c)).toEqual([r]);
    kids.sub.unsubscribe();
    root.sub.unsubscribe();
    await eventually(async () => expect(await watchedPaths(c)).toEqual([]));
  });

  it('a children$ whose watch is on its way when the tree arms its own still hears child changes', async () => {
    // The dashboard's election view: leader$ (children$ of the election) and tree$ of the same path,
    // subscribed together. The children read goes out first; the recursive watch after it takes its mode.
    const c = zk.client();
    const w = zk.client();
    const r = `${zk.root}/e`;
    await w.create(`${r}/a`, '1', { createParents: true });
    await c.ready();
    const kids = follow(children$(c, r));
    const t = follow(tree$(c, r, { depth: 1 }));
    await eventually(() => {
      expect(kids.value()?.children).toEqual(['a']);
      expect(t.value()?.nodes.size).toBe(2);
    });
    await w.create(`${r}/b`, '2');
    await w.delete(`${r}/a`);
    await eventually(() => {
      expect(kids.value()?.children).toEqual(['b']);
      expect([...treeData(t.value()).keys()].sort()).toEqual([r, `${r}/b`]);
    });
    kids.sub.unsubscribe();
    t.sub.unsubscribe();
    await eventually(async () => expect(await watchedPaths(c)).toEqual([]));
  });

  it('a data$ on the root path that leaves while the tree stays does not take the tree watch with it', async () => {
    // data$ first: its one-shot joins the recursive watch armed after it (3.8: one mode per session and
    // path); its removal, removeWatches(data), would then take the recursive watch's data half, and the
    // tree would hear no more creates or changes below.
    const c = zk.client();
    const w = zk.client();
    const r = `${zk.root}/t`;
    await w.create(`${r}/a`, '1', { createParents: true });
    const root = follow(data$(c, r));
    await eventually(() => expect(root.value()).not.toBeUndefined());
    const t = follow(tree$(c, r));
    await eventually(() => expect(t.value()?.nodes.size).toBe(2));
    root.sub.unsubscribe();
    await w.create(`${r}/b`, '2');
    await w.set(`${r}/a`, 'changed');
    await eventually(() => {
      const data = treeData(t.value());
      expect(data.get(`${r}/b`)).toBe('2');
      expect(data.get(`${r}/a`)).toBe('changed');
    });
    t.sub.unsubscribe();
    await eventually(async () => expect(await watchedPaths(c)).toEqual([]));
  });

  it('nested trees and a descendant stream share the events; each tree removes only its own watch', async () => {
    const c = zk.client();
    const w = zk.client();
    const r = `${zk.root}/t`;
    const inner = `${r}/e`;
    await w.create(`${inner}/x`, '1', { createParents: true });
    const outer = follow(tree$(c, r));
    const nested = follow(tree$(c, inner, { depth: 1 }));
    const x = follow(data$(c, `${inner}/x`));
    await eventually(() => {
      expect(outer.value()?.nodes.size).toBe(3);
      expect(nested.value()?.nodes.size).toBe(2);
      expect(x.value()?.data.toString()).toBe('1');
    });
    await w.set(`${inner}/x`, '2');
    await w.create(`${inner}/y`, 'y');
    await eventually(() => {
      expect(treeData(outer.value()).get(`${inner}/x`)).toBe('2');
      expect(treeData(nested.value()).get(`${inner}/y`)).toBe('y');
      expect(x.value()?.data.toString()).toBe('2');
    });
    nested.sub.unsubscribe();
    await w.set(`${inner}/x`, '3');
    await w.create(`${inner}/z`, 'z');
    await eventually(() => {
      expect(treeData(outer.value()).get(`${inner}/z`)).toBe('z');
      expect(x.value()?.data.toString()).toBe('3');
    });
    outer.sub.unsubscribe();
    x.sub.unsubscribe();
    await eventually(async () => expect(await watchedPaths(c)).toEqual([]));
  });

  it('a dropped connection: armed again and read again, so changes made meanwhile are seen', async () => {
    const proxy = await startProxy(zk.server.connectString);
    try {
      const c = zk.client({ connectString: proxy.connectString, sessionTimeout: 10_000 });
      const w = zk.client();
      const r = `${zk.root}/t`;
      await w.create(`${r}/a`, '1', { createParents: true });
      const t = follow(tree$(c, r));
      const root = follow(data$(c, r));
      await eventually(() => expect(t.value()?.nodes.size).toBe(2));
      const sessionId = c.sessionId;
      await proxy.blackhole();
      await eventually(() => expect(c.state.type).toBe('suspended'), 10_000);
      await w.create(`${r}/b`, '2');
      await w.set(`${r}/a`, 'changed');
      await w.set(r, 'root changed');
      await proxy.reset();
      await proxy.pass();
      await eventually(() => expect(c.state.type).toBe('reconnected'), 10_000);
      expect(c.sessionId).toBe(sessionId);
      await eventually(() => {
        const data = treeData(t.value());
        expect(data.get(`${r}/b`)).toBe('2');
        expect(data.get(`${r}/a`)).toBe('changed');
        expect(root.value()?.data.toString()).toBe('root changed');
      });
      // And it goes on hearing changes after it.
      await w.create(`${r}/c`, '3');
      await w.set(r, 'later');
      await eventually(() => {
        expect(treeData(t.value()).get(`${r}/c`)).toBe('3');
        expect(root.value()?.data.toString()).toBe('later');
      });
      t.sub.unsubscribe();
      root.sub.unsubscribe();
      await eventually(async () => expect(await watchedPaths(c)).toEqual([]));
    } finally {
      await proxy.close();
    }
  });

  it('first snapshot of a missing root is empty; its creation, then a subtree, show', async () => {
    const c = zk.client();
    const w = zk.client();
    const r = `${zk.root}/later`;
    const first = await firstValueFrom(tree$(c, r));
    expect(first.nodes.size).toBe(0);
    const t = follow(tree$(c, r));
    await w.create(`${r}/a/b`, 'x', { createParents: true });
    await firstValueFrom(tree$(c, r).pipe(filter((s) => treeData(s).get(`${r}/a/b`) === 'x')));
    expect(treeData(t.value()).get(`${r}/a/b`)).toBe('x');
    t.sub.unsubscribe();
    await eventually(async () => expect(await watchedPaths(c)).toEqual([]));
  });
});
