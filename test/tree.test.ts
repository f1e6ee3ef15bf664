/** tree$ and treeEvents$ against a real server. */
import { firstValueFrom, filter, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { tree$, treeEvents$, type TreeEvent, type TreeSnapshot, type ZkClient } from '../src/index.js';
import { expireSession } from '../src/testing/index.js';
import { countingTransport } from './support/counting.js';
import { eventually, zkSuite } from './support/fixture.js';

const zk = zkSuite({ tickTime: 500 });

/** A fresh full read of the subtree: path -> data. */
async function fullRead(c: ZkClient, root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string): Promise<void> => {
    const [{ data }, { children }] = await Promise.all([c.get(path), c.children(path)]);
    out.set(path, data.toString());
    await Promise.all(children.map((k) => walk(path === '/' ? `/${k}` : `${path}/${k}`)));
  };
  await walk(root);
  return out;
}

const asData = (t: TreeSnapshot) => new Map([...t.nodes].map(([p, n]) => [p, n.data.toString()]));

/** Rebuilds the tree from events alone and fails on any impossible event. */
function replay(events: TreeEvent[]): Map<string, string> {
  const tree = new Map<string, string>();
  for (const e of events) {
    if (e.type === 'initialized') continue;
    const has = tree.has(e.node.path);
    if (e.type === 'added') expect(has, `added twice: ${e.node.path}`).toBe(false);
    else expect(has, `${e.type} of unknown ${e.node.path}`).toBe(true);
    if (e.type === 'removed') tree.delete(e.node.path);
    else tree.set(e.node.path, e.node.data.toString());
  }
  return tree;
}

describe('tree$', () => {
  it('loads the subtree, follows adds, updates and removes, and events rebuild the same tree', async () => {
    const c = zk.client();
    const w = zk.client();
    const r = `${zk.root}/t`;
    await w.create(`${r}/a/x`, '1', { createParents: true });
    await w.create(`${r}/b`, '2');
    const events: TreeEvent[] = [];
    const sub = treeEvents$(c, r).subscribe((e) => events.push(e));
    const first = await firstValueFrom(tree$(c, r));
    expect(asData(first)).toEqual(await fullRead(w, r));
    await eventually(() => expect(events.at(-1)?.type).toBe('initialized'));
    expect(events.filter((e) => e.type === 'added')).toHaveLength(4);

    await w.set(`${r}/a/x`, 'changed');
    await w.create(`${r}/a/y`, 'new');
    await w.create(`${r}/b/deep`, 'd');
    await w.delete(`${r}/a/x`);
    const expected = await fullRead(w, r);
    await eventually(async () => expect(asData(await firstValueFrom(tree$(c, r)))).toEqual(expected));
    expect(replay(events)).toEqual(expected);
    expect(events.some((e) => e.type === 'updated' && e.node.path === `${r}/a/x`)).toBe(true);

    // A late subscriber: added for what is there, then initialized.
    const late: TreeEvent[] = [];
    const lateSub = treeEvents$(c, r).subscribe((e) => late.push(e));
    expect(late.at(-1)?.type).toBe('initialized');
    expect(replay(late)).toEqual(expected);
    lateSub.unsubscribe();
    sub.unsubscribe();
  });

  it('a missing root is an empty tree until created; removing it empties the tree', async () => {
    const c = zk.client();
    const r = `${zk.root}/later`;
    const snaps: TreeSnapshot[] = [];
    const sub = tree$(c, r).subscribe((t) => snaps.push(t));
    await eventually(() => expect(snaps.at(-1)?.nodes.size).toBe(0));
    await c.create(`${r}/k`, 'v', { createParents: true });
    await eventually(() => expect([...(snaps.at(-1)?.nodes.keys() ?? [])].sort()).toEqual([r, `${r}/k`]));
    await c.delete(`${r}/k`);
    await c.delete(r);
    await eventually(() => expect(snaps.at(-1)?.nodes.size).toBe(0));
    sub.unsubscribe();
  });

  it('honours depth', async () => {
    const c = zk.client();
    const r = `${zk.root}/d`;
    await c.create(`${r}/1/2/3`, '', { createParents: true });
    const t = await firstValueFrom(tree$(c, r, { depth: 1 }));
    expect([...t.nodes.keys()].sort()).toEqual([r, `${r}/1`]);
  });

  it('re-primes after session expiry and converges with what changed meanwhile', async () => {
    const c = zk.client({ sessionTimeout: 4_000 });
    const w = zk.client();
    const r = `${zk.root}/e`;
    await w.create(`${r}/a`, '1', { createParents: true });
    const events: TreeEvent[] = [];
    const sub: Subscription = treeEvents$(c, r).subscribe((e) => events.push(e));
    await firstValueFrom(tree$(c, r));
    await expireSession(c);
    await w.create(`${r}/b`, '2');
    await w.delete(`${r}/a`);
    const expected = await fullRead(w, r);
    await eventually(async () => expect(asData(await firstValueFrom(tree$(c, r)))).toEqual(expected), 15_000);
    expect(replay(events)).toEqual(expected);
    sub.unsubscribe();
  });

  it('primes 10,000 nodes with pipelined reads, not one at a time', async () => {
    const w = zk.client();
    const r = `${zk.root}/big`;
    await w.create(r, '');
    const parents = Array.from({ length: 100 }, (_, i) => `${r}/p${i}`);
    await Promise.all(parents.map((p) => w.create(p, '')));
    await Promise.all(
      parents.flatMap((p) => Array.from({ length: 99 }, (_, j) => w.create(`${p}/c${j}`, 'x'))),
    );
    const counting = countingTransport();
    const c = zk.client({ transport: counting.transport });
    await c.ready();
    counting.reset();
    const started = Date.now();
    const t = await firstValueFrom(tree$(c, r).pipe(filter((s) => s.initialized)));
    const ms = Date.now() - started;
    expect(t.nodes.size).toBe(1 + 100 + 100 * 99);
    // Serial priming would keep one request in flight; pipelining keeps hundreds.
    expect(counting.stats.maxInFlight).toBeGreaterThan(500);
    console.log(
      `tree$ primed ${t.nodes.size} nodes in ${ms} ms: ${counting.stats.requests} requests, up to ${counting.stats.maxInFlight} in flight`,
    );
  });
});
