/**
 * Row 12's soak process (run with --expose-gc): three clients churn through every kind of stream and
 * recipe in cycles for SOAK_MS, and between cycles, every SAMPLE_MS, report a sample (one JSON line):
 * heap used after a full GC (less the code spaces, which grow while the JIT warms up), rxzk's open
 * handles, clients and live streams, armed watches, the
 * process's active resources, and the server's watch count. Then it calibrates what a leak costs (the
 * heap of LEAK_PROBES data$ subscriptions held at once), stops, reports the state once the churn has
 * settled and once the clients are closed, and exits.
 *
 * A cycle, on paths under ROOT (each step awaited; every wait bounded):
 * - data$, children$ and tree$ subscribed on three clients, a change made that each must show, all
 *   unsubscribed (and the change undone, so the server's state is the same every cycle);
 * - two leadership candidates: one leads, it resigns, the other leads, it resigns;
 * - three withLock() calls at once on three clients (they take turns);
 * - three items enqueued and taken at-least-once (ack) by a queue() consumer that then unsubscribes;
 * - two members join, members$ on a third client sees both, they leave, it sees none;
 * - a semaphore with one lease and two participants: one holds, leaves, the other holds, leaves.
 */
import { setTimeout as delay } from 'node:timers/promises';
import v8 from 'node:v8';
import type { Observable } from 'rxjs';
import {
  children$,
  connect,
  data$,
  enqueue,
  join,
  leadership,
  members$,
  queue,
  semaphore,
  tree$,
  withLock,
  type ZkClient,
} from '../../src/index.js';
import { liveStreamCount, openClientCount, openHandleCount } from '../../src/testing/index.js';
import { watchCount } from '../support/fourLetter.js';
import { env, run, say } from '../coordination/worker-io.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const root = env('ROOT');
const server = env('ZK_CONNECT');
const soakMs = Number(env('SOAK_MS'));
const sampleMs = Number(env('SAMPLE_MS', '2000'));
const probes = Number(env('LEAK_PROBES', '300'));
const WAIT_MS = 15_000;

/** Subscribes, and resolves (still subscribed) once a value passes `match`; `stop()` unsubscribes. */
function hold<T>(what: string, source: Observable<T>, match: (v: T) => boolean) {
  let last: T | undefined;
  let failed: unknown;
  let wake: () => void = () => undefined;
  const subscription = source.subscribe({
    next: (v) => {
      last = v;
      wake();
    },
    error: (e: unknown) => {
      failed = e;
      wake();
    },
  });
  const until = async (check: (v: T) => boolean, label: string): Promise<T> => {
    const deadline = performance.now() + WAIT_MS;
    for (;;) {
      if (failed !== undefined) throw failed;
      if (last !== undefined && check(last)) return last;
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(`${what}: ${label} not within ${WAIT_MS} ms (last ${JSON.stringify(last)})`);
      // One timer per wait, cleared when a value comes: no timers left behind to count as resources.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  return {
    ready: () => until(match, 'first match'),
    until,
    stop: () => subscription.unsubscribe(),
  };
}

const clients: ZkClient[] = [];
const baselineResources = process.getActiveResourcesInfo();

async function cycle([a, b, c]: ZkClient[], n: number): Promise<void> {
  // Znode streams.
  const key = `${root}/data`;
  const kids = `${root}/kids`;
  const tree = `${root}/tree`;
  const d = hold('data$', data$(a!, key), (v) => v !== null);
  const k = hold('children$', children$(b!, kids), (v) => v !== null);
  const t = hold('tree$', tree$(c!, tree), (v) => v.initialized);
  await Promise.all([d.ready(), k.ready(), t.ready()]);
  await Promise.all([a!.set(key, `v${n}`), a!.create(`${kids}/k${n}`), a!.create(`${tree}/t${n}`)]);
  await Promise.all([
    d.until((v) => v?.data.toString() === `v${n}`, 'the new data'),
    k.until((v) => v?.children.includes(`k${n}`) ?? false, 'the new child'),
    t.until((v) => v.nodes.has(`${tree}/t${n}`), 'the new tree node'),
  ]);
  d.stop();
  k.stop();
  t.stop();
  await Promise.all([a!.delete(`${kids}/k${n}`), a!.delete(`${tree}/t${n}`)]);

  // Leadership: a leads (it joined first), resigns; b leads, resigns.
  const election = `${root}/election`;
  const la = hold('leadership a', leadership(a!, election, { id: 'a' }), (s) => s.type === 'leader');
  await la.ready();
  const lb = hold('leadership b', leadership(b!, election, { id: 'b' }), (s) => s.type === 'follower');
  await lb.ready();
  la.stop();
  await lb.until((s) => s.type === 'leader', 'b leads');
  lb.stop();

  // Locks: three at once, one after another.
  let inside = 0;
  const turn = async (): Promise<void> => {
    inside++;
    if (inside !== 1) throw new Error(`${inside} holders at once`);
    await delay(1);
    inside--;
  };
  await Promise.all(
    [a!, b!, c!].map((client) => withLock(client, `${root}/lock`, turn, { timeout: WAIT_MS })),
  );

  // Queue: three items, taken at-least-once.
  const jobs = `${root}/jobs`;
  for (let i = 0; i < 3; i++) await enqueue(a!, jobs, `job-${n}-${i}`);
  const taken: string[] = [];
  const consumer = hold('queue', queue(b!, jobs, { mode: 'at-least-once' }), () => true);
  for (let i = 0; i < 3; i++) {
    const item = await consumer.until((it) => !taken.includes(it.name), `item ${i}`);
    taken.push(item.name);
    await item.ack();
  }
  consumer.stop();

  // Membership.
  const group = `${root}/group`;
  const ja = hold('join a', join(a!, group, 'a'), (m) => m.type === 'joined');
  const jb = hold('join b', join(b!, group, 'b'), (m) => m.type === 'joined');
  await Promise.all([ja.ready(), jb.ready()]);
  const seen = hold('members$', members$(c!, group), (m) => m.size === 2);
  await seen.ready();
  ja.stop();
  jb.stop();
  await seen.until((m) => m.size === 0, 'nobody');
  seen.stop();

  // Semaphore: one lease, two participants.
  const pool = `${root}/pool`;
  const sa = hold('semaphore a', semaphore(a!, pool, { leases: 1 }), (o) => o.type === 'acquired');
  await sa.ready();
  const sb = hold('semaphore b', semaphore(c!, pool, { leases: 1 }), (o) => o.type === 'waiting');
  await sb.ready();
  sa.stop();
  await sb.until((o) => o.type === 'acquired', 'b holds');
  sb.stop();
}

/** One sample: everything that a leak would make grow. */
async function sample(label: string, cycles: number, started: number) {
  // Let what the last unsubscriptions sent (deletes, watch removals) land before counting.
  await delay(100);
  gc!();
  gc!();
  // Code spaces left out: they grow as the JIT compiles hot functions (warm-up, not a leak).
  const code = v8
    .getHeapSpaceStatistics()
    .filter((space) => space.space_name.startsWith('code'))
    .reduce((n, space) => n + space.space_used_size, 0);
  const { heapUsed } = process.memoryUsage();
  return {
    ev: 'sample',
    label,
    cycles,
    ms: Math.round(performance.now() - started),
    heap: heapUsed - code,
    heapUsed,
    handles: openHandleCount(),
    clients: openClientCount(),
    streams: clients.reduce((n, client) => n + liveStreamCount(client), 0),
    armed: clients.reduce((n, client) => n + client.armedWatchCount, 0),
    resources: process.getActiveResourcesInfo().length,
    watches: await watchCount(server),
  };
}

run(async () => {
  for (let i = 0; i < 3; i++)
    clients.push(connect(server, { sessionTimeout: 30_000, connectionTimeout: 20_000 }));
  const [a] = clients;
  await Promise.all(clients.map((client) => client.ready()));
  for (const path of ['data', 'kids', 'tree']) await a!.create(`${root}/${path}`, '');
  const started = performance.now();
  say(await sample('start', 0, started));
  let cycles = 0;
  let nextSample = started + sampleMs;
  while (performance.now() - started < soakMs) {
    await cycle(clients, cycles++);
    if (performance.now() >= nextSample) {
      say(await sample('churn', cycles, started));
      nextSample += sampleMs;
    }
  }
  // The churn stopped: every stream, watch and node of it must go.
  const deadline = performance.now() + WAIT_MS;
  let settled = await sample('settled', cycles, started);
  while ((settled.streams > 0 || settled.armed > 0 || settled.watches > 0) && performance.now() < deadline) {
    await delay(200);
    settled = await sample('settled', cycles, started);
  }
  say(settled);

  // What one leaked subscription costs: many held at once, on distinct paths (each its own stream
  // and watch), measured after a full GC, then released.
  const before = await sample('calibration', cycles, started);
  const held = Array.from({ length: probes }, (_, i) =>
    hold('probe', data$(a!, `${root}/probe-${i}`), () => true),
  );
  await Promise.all(held.map((h) => h.ready()));
  const during = await sample('calibration', cycles, started);
  held.forEach((h) => h.stop());
  held.length = 0;
  say({
    ev: 'calibration',
    probes,
    bytesPerSubscription: (during.heap - before.heap) / probes,
    watchesPerSubscription: (during.watches - before.watches) / probes,
  });

  for (const client of clients) await client.close();
  // Taken before the sample: its own four-letter-word socket would count.
  await delay(200);
  const resourcesNow = process.getActiveResourcesInfo();
  const closed = await sample('closed', cycles, started);
  say({ ...closed, baselineResources, resourcesNow });
});
