/**
 * The dashboard's event stream as plain HTTP clients see it:
 * - backpressure: a client that stops reading while thousands of updates happen costs the server a
 *   bounded amount (one pending value per key, a write buffer of about one high-water mark), never
 *   one entry per update; when it reads again it converges to the current state;
 * - sharing: 50 concurrent clients cost the same watches (and, on a real server, not one more read)
 *   as one, because rxzk shares its streams per client and path; when they disconnect, the watches go
 *   back to the baseline.
 */
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { preview } from '../../examples/dashboard/views.js';
import { startDashboard, type Dashboard } from '../../examples/dashboard/server.js';
import { connect, enqueue, join, leadership, lock, treeEvents$, type ZkClient } from '../../src/index.js';
import { liveStreamCount } from '../../src/testing/index.js';
import { embeddedServer } from '../../src/session/embedded.js';
import { watchCount, watchesBySession } from '../support/fourLetter.js';
import { countingTransport } from '../support/counting.js';
import { eventually, zkSuite } from '../support/fixture.js';
import { OpCode, startProxy } from '../support/proxy.js';
import { openSse, type SseClient } from './sse-client.js';

/**
 * One turn of the event loop. The embedded engine replies on microtasks, so a test that awaits write
 * after write would never let the server write to its sockets (a writer in another process never
 * starves it like this).
 */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Waits (bounded) for `check`, a turn of the event loop at a time. */
async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await turn();
  }
}

/** Node's default highWaterMark for a response: what a channel's write buffer may reach before it conflates. */
const HIGH_WATER_MARK = 16 * 1024;

describe('a paused reader (embedded engine)', () => {
  it(
    'costs the server one pending value per key, however many updates; it converges when it reads again',
    { timeout: 150_000 },
    async () => {
      const name = `sse-${randomUUID()}`;
      const writer = connect(`memory://${name}`);
      const client = connect(`memory://${name}`);
      const nodes = Array.from({ length: 100 }, (_, i) => `/bp/n-${String(i).padStart(3, '0')}`);
      await writer.create('/bp', '');
      for (const path of nodes) await writer.create(path, '');
      const dashboard = await startDashboard({ client, root: '/bp' });
      const sse = await openSse(dashboard.url);
      const payload = (round: number, i: number) => JSON.stringify({ round, i, pad: 'x'.repeat(60) });
      try {
        await sse.until('the tree', (s) => s.has('tree') && nodes.every((p) => s.has(`node:${p}`)));
        sse.pause();
        // What the dashboard's tree reports (the same shared source, so no extra reads or watches).
        const seen = { added: new Set<string>(), removed: new Set<string>() };
        const events = treeEvents$(client, '/bp').subscribe((e) => {
          if (e.type === 'added') seen.added.add(e.node.path);
          if (e.type === 'removed') seen.removed.add(e.node.path);
        });

        // Write until the server's channel is congested: the kernel's socket buffers and the client's own
        // have filled up, then the response's write buffer.
        let round = 0;
        const writeRound = async () => {
          round++;
          await Promise.all(nodes.map((path, i) => writer.set(path, payload(round, i))));
          await turn();
        };
        const started = performance.now();
        while (!stats(dashboard).congested) {
          if (performance.now() - started > 90_000) throw new Error(`no congestion after ${round} rounds`);
          await writeRound();
        }
        const atCongestion = stats(dashboard);

        // Now many more updates, and nodes that come and go under new names (as a queue's items do),
        // all while the reader is paused. Sample what the server holds for it after each round.
        const peak = { pendingKeys: 0, pendingBytes: 0, bufferedBytes: 0 };
        const sample = () => {
          const s = stats(dashboard);
          peak.pendingKeys = Math.max(peak.pendingKeys, s.pendingKeys);
          peak.pendingBytes = Math.max(peak.pendingBytes, s.pendingBytes);
          peak.bufferedBytes = Math.max(peak.bufferedBytes, s.bufferedBytes);
        };
        const paused = { updates: 0, transient: 0 };
        for (let r = 0; r < 30; r++) {
          await writeRound();
          paused.updates += nodes.length;
          const transient = Array.from({ length: 10 }, (_, k) => `/bp/tmp-${r}-${k}`);
          await Promise.all(transient.map((path) => writer.create(path, 'short-lived')));
          await until(() => transient.every((path) => seen.added.has(path)));
          await Promise.all(transient.map((path) => writer.delete(path)));
          await until(() => transient.every((path) => seen.removed.has(path)));
          paused.transient += transient.length;
          sample();
        }
        events.unsubscribe();
        const final = stats(dashboard);
        console.log(
          `paused reader: congested after ${atCongestion.written} messages (${round - 30} rounds of ${nodes.length} updates);` +
            ` then ${paused.updates} updates and ${paused.transient} short-lived nodes while paused:` +
            ` peak ${peak.pendingKeys} pending keys (${peak.pendingBytes} bytes), write buffer peak ${peak.bufferedBytes} bytes,` +
            ` ${final.conflated} updates conflated`,
        );
        // Bounded by the state (100 nodes, the tree, the session), not by the updates (3,000 + 300).
        expect(peak.pendingKeys).toBeLessThanOrEqual(nodes.length + 3);
        expect(peak.bufferedBytes).toBeLessThanOrEqual(HIGH_WATER_MARK + 1024);
        expect(final.conflated).toBeGreaterThan(paused.updates / 2);

        // Reading again: the latest data of every node arrives, and no short-lived node is left over.
        sse.resume();
        await sse.until(
          'the latest data of every node',
          (s) =>
            nodes.every(
              (p, i) =>
                (s.get(`node:${p}`) as { data?: string } | undefined)?.data ===
                preview(Buffer.from(payload(round, i))),
            ),
          60_000,
        );
        expect([...sse.state.keys()].filter((k) => k.includes('/tmp-'))).toEqual([]);
        await sse.until(
          'the conflated count',
          (s) => ((s.get('link') as { conflated?: number })?.conflated ?? 0) > 0,
        );
        console.log(
          `paused reader: ${sse.messages} messages received in all, ${(sse.bytes / 1e6).toFixed(1)} MB`,
        );
      } finally {
        sse.close();
        await dashboard.close();
        await client.close();
        await writer.close();
      }
    },
  );
});

/** A static coordination state: an election of 3, a group of 2, a lock with a holder and a waiter, a queue of 5. */
async function staticState(
  connectString: string,
  root: string,
): Promise<{ clients: ZkClient[]; settled: Promise<void> }> {
  const setup = connect(connectString);
  for (const path of ['elections', 'groups', 'locks', 'queues']) {
    await setup.create(`${root}/${path}`, '', { createParents: true });
  }
  for (let i = 0; i < 5; i++) await enqueue(setup, `${root}/queues/jobs`, `job ${i}`);
  await setup.close();
  const clients = Array.from({ length: 5 }, () => connect(connectString));
  const firsts: Observable<unknown>[] = [
    ...['a', 'b', 'c'].map((id, i) => leadership(clients[i]!, `${root}/elections/e`, { id })),
    join(clients[3]!, `${root}/groups/g`, 'm1', 'one'),
    join(clients[4]!, `${root}/groups/g`, 'm2', 'two'),
    lock(clients[0]!, `${root}/locks/l`, { data: 'holder' }),
    lock(clients[1]!, `${root}/locks/l`, { data: 'waiter' }),
  ];
  let left = firsts.length;
  let ready = (): void => undefined;
  const settled = new Promise<void>((resolve) => (ready = resolve));
  for (const stream of firsts) {
    let first = true;
    stream.subscribe(() => {
      if (first && --left === 0) ready();
      first = false;
    });
  }
  return { clients, settled };
}

/** Every view the static state has, as the client has received it. */
const complete = (root: string) => (s: ReadonlyMap<string, unknown>) =>
  s.has('tree') &&
  (s.get(`election:${root}/elections/e`) as { candidates?: unknown[] } | undefined)?.candidates?.length ===
    3 &&
  (s.get(`group:${root}/groups/g`) as unknown[] | undefined)?.length === 2 &&
  (s.get(`lock:${root}/locks/l`) as { waiters?: unknown[] } | undefined)?.waiters?.length === 1 &&
  (s.get(`queue:${root}/queues/jobs`) as { depth?: number } | undefined)?.depth === 5;

async function openMany(dashboard: Dashboard, n: number, root: string): Promise<SseClient[]> {
  const opened = await Promise.all(Array.from({ length: n }, () => openSse(dashboard.url)));
  await Promise.all(opened.map((c) => c.until('every view', complete(root))));
  return opened;
}

describe('50 browsers (embedded engine)', () => {
  it(
    'share the one set of watches of a single browser; when they leave, the watches go',
    { timeout: 60_000 },
    async () => {
      const name = `sse-share-${randomUUID()}`;
      const connectString = `memory://${name}`;
      const server = embeddedServer(name);
      const { clients, settled } = await staticState(connectString, '/app');
      // The dashboard's client counts its requests (it only reads).
      const counting = countingTransport(server.transport);
      const client = connect(connectString, { transport: counting.transport });
      const dashboard = await startDashboard({ client, root: '/app' });
      const browsers: SseClient[] = [];
      try {
        await settled;
        await client.ready();
        const baseline = server.watchCount(); // the candidates' and lock waiter's own
        expect(client.armedWatchCount).toBe(0);

        browsers.push(...(await openMany(dashboard, 1, '/app')));
        const one = {
          server: server.watchCount(),
          client: client.armedWatchCount,
          streams: liveStreamCount(client),
          reads: counting.stats.requests,
        };
        expect(one.client).toBeGreaterThan(10);

        browsers.push(...(await openMany(dashboard, 49, '/app')));
        expect(dashboard.channels()).toHaveLength(50);
        const fifty = {
          server: server.watchCount(),
          client: client.armedWatchCount,
          streams: liveStreamCount(client),
          reads: counting.stats.requests,
        };
        // The same watches, and not one read more: late subscribers of a live shared stream get its
        // latest value at once.
        expect(fifty).toEqual(one);
        console.log(
          `embedded: 1 and 50 browsers: ${one.client} armed watches, ${one.streams} shared streams, ${one.reads} reads; server watches ${baseline} -> ${one.server} -> ${fifty.server}`,
        );

        for (const b of browsers.splice(0)) b.close();
        await eventually(() => expect(dashboard.channels()).toHaveLength(0));
        await eventually(() => {
          expect(liveStreamCount(client)).toBe(0);
          expect(client.armedWatchCount).toBe(0);
          expect(server.watchCount()).toBe(baseline);
        });
      } finally {
        for (const b of browsers) b.close();
        await dashboard.close();
        await client.close();
        await Promise.all(clients.map((c) => c.close()));
      }
    },
  );
});

describe('50 browsers (real ZooKeeper)', () => {
  const zk = zkSuite();
  const READS = [OpCode.getData, OpCode.exists, OpCode.getChildren, OpCode.getChildren2];

  it(
    'cost no read and no watch more than one; when they leave, the server is back to its baseline',
    { timeout: 120_000 },
    async () => {
      const root = `${zk.root}/app`;
      const { clients, settled } = await staticState(zk.connectString, root);
      // The dashboard talks to the server through a proxy that counts its requests (and only its).
      const proxy = await startProxy(zk.connectString);
      const client = connect(proxy.connectString, { sessionTimeout: 10_000 });
      const dashboard = await startDashboard({ client, root });
      const reads = () => {
        const byType = proxy.requestsByType();
        return READS.reduce((sum, op) => sum + (byType.get(op) ?? 0), 0);
      };
      const session = async () =>
        (await watchesBySession(zk.connectString)).get(`0x${client.sessionId}`) ?? [];
      const browsers: SseClient[] = [];
      try {
        await settled;
        await client.ready();
        const baseline = await watchCount(zk.connectString);
        expect(await session()).toEqual([]);

        browsers.push(...(await openMany(dashboard, 1, root)));
        const one = { watches: await watchCount(zk.connectString), paths: await session(), reads: reads() };
        expect(one.watches).toBeGreaterThan(baseline);
        // The tree is followed by one recursive watch on the root, not by a watch per node: the
        // session watches the root and what the other views watch (elections, members, locks, the
        // queue's missing claims node for its creation), each path once, all under the root.
        const tree = [...browsers[0]!.state.keys()]
          .filter((k) => k.startsWith('node:'))
          .map((k) => k.slice(5));
        expect(one.paths).toContain(root);
        expect(one.paths.every((p) => p === root || p.startsWith(`${root}/`))).toBe(true);
        expect(new Set(one.paths).size).toBe(one.paths.length);
        expect(one.paths.length).toBeLessThan(tree.length);

        browsers.push(...(await openMany(dashboard, 49, root)));
        const fifty = { watches: await watchCount(zk.connectString), paths: await session(), reads: reads() };
        expect(fifty.watches).toBe(one.watches);
        expect(fifty.paths).toEqual(one.paths);
        // Late subscribers of a live shared stream get its latest value at once: no read at all.
        expect(fifty.reads - one.reads).toBe(0);
        console.log(
          `real ZooKeeper: server watches ${baseline} -> ${one.watches} (1 browser) -> ${fifty.watches} (50);` +
            ` the dashboard's session watches ${one.paths.length} paths; reads ${one.reads} for the first browser, +${fifty.reads - one.reads} for 49 more`,
        );

        for (const b of browsers.splice(0)) b.close();
        await eventually(() => expect(dashboard.channels()).toHaveLength(0));
        await eventually(async () => {
          expect(client.armedWatchCount).toBe(0);
          expect(await session()).toEqual([]);
          expect(await watchCount(zk.connectString)).toBe(baseline);
        }, 15_000);
      } finally {
        for (const b of browsers) b.close();
        await dashboard.close();
        await client.close();
        await Promise.all(clients.map((c) => c.close()));
        await proxy.close();
      }
    },
  );
});

function stats(dashboard: Dashboard) {
  const [channel] = dashboard.channels();
  if (!channel) throw new Error('no channel');
  return channel;
}
