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
 * 2. Handoff throughput with 8 contenders on one lock (BENCH_THROUGHPUT_ROUNDS, default 5, interleaved,
 *    after one warm-up round of each):
 *    floor: 8 raw handles queue ephemeral-sequential nodes, each watching its predecessor; the first
 *           deletes its node, and each next one, on the notification, reads the listing (getChildren)
 *           and deletes its own: one delete + one notification + one read per handoff;
 *    raw loop: the same lock protocol hand-written on the 8 raw handles (create, getChildren, getData
 *           watch on the predecessor, getChildren on wake, delete), each looping BENCH_TURNS times:
 *           what the floor becomes once every holder queues again (a create and reads per turn);
 *    rxzk:  8 clients each loop BENCH_TURNS (default 200) times: `await acquire()`, `await release()`.
 * 3. Queue throughput: 2,000 items enqueued, then consumed one at a time (concatMap + ack) with
 *    queue(..., { mode: 'at-most-once' }) and 'at-least-once', items/s, against a floor of raw
 *    sequential creates, then one getChildren and a sequential delete per item, on the handle.
 * 4. Queue throughput at 1 producer / 4 consumers, both modes: the producer awaits each enqueue()
 *    while 4 clients consume (concatMap + ack); items/s from the first enqueue to the last ack, against
 *    the same producer's ceiling: raw sequential creates alone, measured in the same rounds.
 */
import { concatMap, lastValueFrom, take, type Subscription } from 'rxjs';
import {
  acquire,
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
const CONTENDERS = 8;
const TURNS = Number(process.env['BENCH_TURNS'] ?? 200);
const THROUGHPUT_ROUNDS = Number(process.env['BENCH_THROUGHPUT_ROUNDS'] ?? 5);
const empty = new Uint8Array(0);
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

/**
 * Raw floor for 8 contenders: a chain of 7 handoffs, each one delete, one notification and one read
 * (getChildren) by the next in line, who then deletes its own node. Returns handoffs/s.
 */
async function floorChain(handles: readonly TransportHandle[], path: string): Promise<number> {
  const names: string[] = [];
  for (const h of handles) {
    names.push((await h.create({ path: `${path}/n-`, data: empty, mode: 'ephemeral-sequential' })).path);
  }
  let finished!: (t: number) => void;
  const end = new Promise<number>((resolve) => (finished = resolve));
  let failed: unknown;
  for (let i = 1; i < handles.length; i++) {
    const [h, mine, last] = [handles[i]!, names[i]!, i === handles.length - 1];
    await h.exists(names[i - 1]!, (event) => {
      if (event.type !== 'deleted') return;
      h.children(path)
        .then(() => (last ? finished(now()) : h.delete(mine, -1)))
        .catch((error: unknown) => (failed = error));
    });
  }
  await pause(2);
  const t = now();
  await handles[0]!.delete(names[0]!, -1);
  const elapsed = (await end) - t;
  if (failed) throw failed;
  await handles.at(-1)!.delete(names.at(-1)!, -1);
  return ((handles.length - 1) / elapsed) * 1000;
}

/** One turn of the lock protocol on a raw handle, as Curator's InterProcessMutex does it. */
async function rawTurn(h: TransportHandle, dir: string): Promise<void> {
  const { path: mine } = await h.create({
    path: `${dir}/_c_raw-lock-`,
    data: empty,
    mode: 'ephemeral-sequential',
  });
  const name = mine.slice(dir.length + 1);
  for (;;) {
    const { children } = await h.children(dir);
    children.sort((x, y) => x.slice(-10).localeCompare(y.slice(-10)));
    const index = children.indexOf(name);
    if (index === 0) break;
    await new Promise<void>((resolve, reject) => {
      h.get(`${dir}/${children[index - 1]}`, () => resolve()).catch((error: unknown) =>
        (error as { code?: number }).code === -101 ? resolve() : reject(error),
      );
    });
  }
  await h.delete(mine, -1);
}

/** The raw loop: 8 handles, each `TURNS` turns of rawTurn(). Returns acquisitions/s. */
async function rawThroughput(handles: readonly TransportHandle[], dir: string): Promise<number> {
  await handles[0]!.create({ path: dir, data: empty, mode: 'persistent' });
  const t = now();
  await Promise.all(
    handles.map(async (h) => {
      for (let i = 0; i < TURNS; i++) await rawTurn(h, dir);
    }),
  );
  return ((handles.length * TURNS) / (now() - t)) * 1000;
}

/** 8 clients, each `TURNS` times: acquire(), then release(). Returns acquisitions/s. */
async function lockThroughput(clients: readonly ZkClient[], path: string): Promise<number> {
  const t = now();
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < TURNS; i++) await (await acquire(c, path)).release();
    }),
  );
  return ((clients.length * TURNS) / (now() - t)) * 1000;
}

/** The producer's ceiling: ITEMS sequential raw creates. Returns items/s. */
async function rawProducer(c: ZkClient, path: string): Promise<number> {
  const h = handleOf(c);
  await h.create({ path, data: empty, mode: 'persistent' });
  const t = now();
  for (let i = 0; i < ITEMS; i++) {
    await h.create({ path: `${path}/qn-`, data: Buffer.from(`item ${i}`), mode: 'persistent-sequential' });
  }
  return (ITEMS / (now() - t)) * 1000;
}

/** 1 producer awaiting each enqueue() while 4 consumers take and ack: items/s end to end. */
async function queueOneToFour(
  producer: ZkClient,
  consumers: readonly ZkClient[],
  path: string,
  mode: DeliveryMode,
): Promise<number> {
  await producer.create(path, '');
  let consumed = 0;
  let drained!: () => void;
  const all = new Promise<void>((resolve) => (drained = resolve));
  const subscriptions = consumers.map((c) =>
    queue(c, path, { mode })
      .pipe(
        concatMap(async (item) => {
          await item.ack();
          if (++consumed === ITEMS) drained();
        }),
      )
      .subscribe(),
  );
  const t = now();
  for (let i = 0; i < ITEMS; i++) await enqueue(producer, path, `item ${i}`);
  await all;
  const rate = (ITEMS / (now() - t)) * 1000;
  for (const s of subscriptions) s.unsubscribe();
  return rate;
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

    const many = Array.from({ length: CONTENDERS }, () => connect(server.connectString));
    await Promise.all(many.map((c) => c.ready()));
    const chain: number[] = [];
    const contended: number[] = [];
    const rawLoop: number[] = [];
    const chainDir = `${root}/chain`;
    await a.create(chainDir, '').catch(() => undefined);
    await floorChain(many.map(handleOf), chainDir);
    await lockThroughput(many, `${root}/warm-lock`);
    await rawThroughput(many.map(handleOf), `${root}/warm-raw`);
    for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
      const order = r % 2 ? (['floor', 'raw', 'rx'] as const) : (['rx', 'raw', 'floor'] as const);
      for (const variant of order) {
        if (variant === 'floor') {
          // Each floor measure is 7 handoffs: take several per round for a stable median.
          for (let k = 0; k < 20; k++) chain.push(await floorChain(many.map(handleOf), chainDir));
        } else if (variant === 'raw')
          rawLoop.push(await rawThroughput(many.map(handleOf), `${root}/rawlock-${r}`));
        else contended.push(await lockThroughput(many, `${root}/contended`));
      }
    }

    const pipeline = {
      producer: [] as number[],
      'at-most-once': [] as number[],
      'at-least-once': [] as number[],
    };
    const consumers = many.slice(0, 4);
    for (let r = 0; r < QUEUE_ROUNDS; r++) {
      pipeline.producer.push(await rawProducer(b, `${root}/producer-${r}`));
      for (const mode of ['at-most-once', 'at-least-once'] as const) {
        pipeline[mode].push(await queueOneToFour(b, consumers, `${root}/p1c4-${mode}-${r}`, mode));
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
    const chain50 = pct(chain, 50);
    const contended50 = pct(contended, 50);
    console.log(
      `\n| lock handoff throughput, ${CONTENDERS} contenders (median of ${THROUGHPUT_ROUNDS} rounds) | acquisitions/s | ms per handoff | vs floor |`,
    );
    console.log('|---|---|---|---|');
    console.log(
      `| floor: delete + notification + getChildren, chained (${chain.length} chains of 7) | ${chain50.toFixed(0)} | ${(1000 / chain50).toFixed(3)} | 1.00 |`,
    );
    const raw50 = pct(rawLoop, 50);
    console.log(
      `| raw loop: the same protocol on the raw handles, ${CONTENDERS} x ${TURNS} turns | ${raw50.toFixed(0)} | ${(1000 / raw50).toFixed(3)} | ${(chain50 / raw50).toFixed(2)}x the floor's time |`,
    );
    console.log(
      `| rxzk: ${CONTENDERS} clients x ${TURNS} turns of await acquire(); await release() | ${contended50.toFixed(0)} | ${(1000 / contended50).toFixed(3)} | ${(chain50 / contended50).toFixed(2)}x the floor's time, ${(raw50 / contended50).toFixed(2)}x the raw loop's |`,
    );
    const ceiling = med(pipeline.producer);
    console.log(
      `\n| queue, 1 producer (awaits each enqueue) / 4 consumers, ${ITEMS} items (median of ${QUEUE_ROUNDS}) | items/s | vs producer ceiling |`,
    );
    console.log('|---|---|---|');
    console.log(`| ceiling: the producer alone, raw sequential creates | ${ceiling.toFixed(0)} | 1.00 |`);
    for (const mode of ['at-most-once', 'at-least-once'] as const) {
      console.log(
        `| queue ${mode}, end to end (first enqueue -> last ack) | ${med(pipeline[mode]).toFixed(0)} | ${(med(pipeline[mode]) / ceiling).toFixed(2)} |`,
      );
    }
    await Promise.all([a.close(), b.close(), ...many.map((c) => c.close())]);
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
