/**
 * Lock handoff latency and queue throughput against floors measured in the same run on one local
 * server, on the raw transport handle (same client library, same connection kind), interleaved.
 *
 *   npm run build && RXZK_ZK_IMAGE=rxzk/zookeeper:3.8-local npx tsx bench/lock.ts
 *
 * It measures the built library (dist/): run `npm run build` first.
 *
 * 1. Handoff latency (BENCH_RUNS, default 200, alternating which variant goes first):
 *    floor: one handle deletes a node another handle watches (exists watch) -> the watcher's callback
 *           runs (one delete + one notification);
 *    rxzk:  two clients contend on lock(); the holder unsubscribes -> the waiter's `acquired` arrives.
 * 2. Queue throughput: 2,000 items enqueued, then consumed one at a time (concatMap + ack) with
 *    queue(..., { mode: 'at-most-once' }) and 'at-least-once', items/s, against a floor of raw
 *    sequential creates, then one getChildren and a sequential delete per item, on the handle.
 */
import { concatMap, lastValueFrom, take, type Subscription } from 'rxjs';
import {
  connect,
  enqueue,
  lock,
  queue,
  type DeliveryMode,
  type TransportHandle,
  type ZkClient,
} from '../dist/src/index.js';
import { startZooKeeper } from '../test/support/zookeeper.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 200);
const QUEUE_ROUNDS = Number(process.env['BENCH_QUEUE_ROUNDS'] ?? 3);
const ITEMS = 2_000;
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const handleOf = (c: ZkClient): TransportHandle => c.currentHandle() as TransportHandle;

/** One delete + one notification, on the raw handles. */
async function floorHandoff(a: ZkClient, b: ZkClient, path: string): Promise<number> {
  const [ha, hb] = [handleOf(a), handleOf(b)];
  await ha.create({ path, data: new Uint8Array(0), mode: 'persistent' });
  let fired!: (t: number) => void;
  const notified = new Promise<number>((resolve) => (fired = resolve));
  await hb.exists(path, (event) => event.type === 'deleted' && fired(now()));
  await pause(2);
  const t = now();
  await ha.delete(path, -1);
  return (await notified) - t;
}

/** The holder unsubscribes -> the waiter's `acquired`. */
async function lockHandoff(a: ZkClient, b: ZkClient, path: string): Promise<number> {
  const held = lock(a, path);
  let holder: Subscription | undefined;
  await new Promise<void>((resolve) => {
    holder = held.subscribe((o) => o.type === 'acquired' && resolve());
  });
  let waiter: Subscription | undefined;
  let acquiredAt!: (t: number) => void;
  const acquired = new Promise<number>((resolve) => (acquiredAt = resolve));
  await new Promise<void>((resolve) => {
    waiter = lock(b, path).subscribe((o) => {
      if (o.type === 'waiting') resolve();
      if (o.type === 'acquired') acquiredAt(now());
    });
  });
  // Let the waiter's watch on the holder's node be armed, as the floor's is.
  await pause(2);
  const t = now();
  holder!.unsubscribe();
  const latency = (await acquired) - t;
  waiter!.unsubscribe();
  // Leave an empty lock for the next run: the waiter's delete has landed.
  while ((await a.children(path).catch(() => ({ children: [] }))).children.length > 0) await pause(1);
  return latency;
}

/** Raw floor: ITEMS sequential creates; then one listing and ITEMS sequential deletes (timed). */
async function floorQueue(c: ZkClient, path: string): Promise<number> {
  const h = handleOf(c);
  await h.create({ path, data: new Uint8Array(0), mode: 'persistent' });
  for (let i = 0; i < ITEMS; i++) {
    await h.create({ path: `${path}/qn-`, data: Buffer.from(`item ${i}`), mode: 'persistent-sequential' });
  }
  const t = now();
  const { children } = await h.children(path);
  children.sort((x, y) => x.slice(-10).localeCompare(y.slice(-10)));
  for (const name of children) await h.delete(`${path}/${name}`, -1);
  return (ITEMS / (now() - t)) * 1000;
}

/** ITEMS enqueue() calls (sequential, not timed); then one consumer takes them all, acking each. */
async function rxzkQueue(c: ZkClient, path: string, mode: DeliveryMode): Promise<number> {
  for (let i = 0; i < ITEMS; i++) await enqueue(c, path, `item ${i}`);
  const t = now();
  await lastValueFrom(
    queue(c, path, { mode }).pipe(
      concatMap(async (item) => {
        await item.ack();
        return item;
      }),
      take(ITEMS),
    ),
  );
  return (ITEMS / (now() - t)) * 1000;
}

async function main(): Promise<void> {
  const server = await startZooKeeper();
  try {
    const [a, b] = [connect(server.connectString), connect(server.connectString)];
    await Promise.all([a.ready(), b.ready()]);
    const root = '/bench-lock';
    await a.create(root, '').catch(() => undefined);

    const floor: number[] = [];
    const rx: number[] = [];
    for (let r = 0; r < 10; r++) {
      await floorHandoff(a, b, `${root}/warm`);
      await lockHandoff(a, b, `${root}/lock`);
    }
    for (let r = 0; r < RUNS; r++) {
      const order = r % 2 ? (['floor', 'rx'] as const) : (['rx', 'floor'] as const);
      for (const variant of order) {
        if (variant === 'floor') floor.push(await floorHandoff(a, b, `${root}/node`));
        else rx.push(await lockHandoff(a, b, `${root}/lock`));
      }
    }

    const rates = { floor: [] as number[], 'at-most-once': [] as number[], 'at-least-once': [] as number[] };
    for (let r = 0; r < QUEUE_ROUNDS; r++) {
      rates.floor.push(await floorQueue(a, `${root}/raw-${r}`));
      rates['at-most-once'].push(await rxzkQueue(a, `${root}/amo-${r}`, 'at-most-once'));
      rates['at-least-once'].push(await rxzkQueue(a, `${root}/alo-${r}`, 'at-least-once'));
    }

    const f50 = pct(floor, 50);
    console.log(`lock handoff and queue throughput vs raw floors; node ${process.version}`);
    console.log(`\n| lock handoff, ${RUNS} interleaved runs | p50 ms | p99 ms | p50 / floor |`);
    console.log('|---|---|---|---|');
    console.log(
      `| floor: delete -> exists watch fires | ${f50.toFixed(3)} | ${pct(floor, 99).toFixed(3)} | 1.00 |`,
    );
    console.log(
      `| lock(): holder unsubscribes -> waiter acquired | ${pct(rx, 50).toFixed(3)} | ${pct(rx, 99).toFixed(3)} | ${(pct(rx, 50) / f50).toFixed(2)} |`,
    );
    const med = (xs: number[]): number => pct(xs, 50);
    const base = med(rates.floor);
    console.log(
      `\n| queue: consume ${ITEMS} items, 1 consumer (median of ${QUEUE_ROUNDS}) | items/s | vs floor |`,
    );
    console.log('|---|---|---|');
    console.log(`| floor: getChildren + sequential delete | ${base.toFixed(0)} | 1.00 |`);
    for (const mode of ['at-most-once', 'at-least-once'] as const) {
      console.log(
        `| queue ${mode} (ack each) | ${med(rates[mode]).toFixed(0)} | ${(med(rates[mode]) / base).toFixed(2)} |`,
      );
    }
    await Promise.all([a.close(), b.close()]);
  } finally {
    await server.close();
  }
}

// Fails loudly rather than hang: a run that does not finish in 10 minutes is broken.
const watchdog = setTimeout(() => {
  console.error('bench/lock.ts: did not finish within 10 minutes');
  process.exit(1);
}, 600_000);
watchdog.unref();
await main();
