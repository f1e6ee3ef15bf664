/**
 * Graceful leadership failover against its floor, measured side by side in one run on one local
 * server, interleaved run by run so machine drift hits both alike:
 * - rxzk: the leader unsubscribes from leadership() (its node is deleted); time until the next
 *   candidate's stream emits `leader` (which includes its ranking read and the ownership check);
 * - floor: on the raw client, one delete, the watch notification of the waiting client, one read
 *   (getChildren of the election path): the least any sequential-node election can do.
 *
 *   npm run build && RXZK_ZK_IMAGE=rxzk/zookeeper:3.8-local npx tsx bench/leadership.ts
 *
 * It measures the built library (dist/), as the other benchmarks do.
 *
 * Both sides use the same ZkClient (the session layer), so both carry the same tsx overhead.
 */
import type { Subscription } from 'rxjs';
import { connect, leadership, type Leadership, type ZkClient } from '../dist/src/index.js';
import { startZooKeeper } from '../test/support/zookeeper.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 200);
const now = (): number => performance.now();

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One candidate: its last transition, and listeners waiting for the next. */
interface Seat {
  last: Leadership | undefined;
  subscription: Subscription | undefined;
  readonly listeners: Set<() => void>;
  join(): void;
}

function seat(client: ZkClient, id: string, path: string): Seat {
  const s: Seat = {
    last: undefined,
    subscription: undefined,
    listeners: new Set(),
    join: () => {
      s.subscription = leadership(client, path, { id }).subscribe((v) => {
        s.last = v;
        for (const l of [...s.listeners]) l();
      });
    },
  };
  s.join();
  return s;
}

function until(s: Seat, type: Leadership['type']): Promise<number> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (s.last?.type !== type) return;
      s.listeners.delete(check);
      resolve(now());
    };
    s.listeners.add(check);
    check();
  });
}

async function rxzkRun(seats: Seat[]): Promise<number> {
  const leader = seats.find((s) => s.last?.type === 'leader')!;
  // Whoever is next in line (the leader's successor) takes over.
  const led = Promise.race(seats.filter((s) => s !== leader).map((s) => until(s, 'leader')));
  const t0 = now();
  leader.subscription!.unsubscribe();
  leader.last = undefined;
  const t1 = await led;
  leader.join();
  await until(leader, 'follower');
  return t1 - t0;
}

async function floorRun(a: ZkClient, b: ZkClient, path: string): Promise<number> {
  const node = await a.create(`${path}/latch-`, 'x', { mode: 'ephemeral-sequential' });
  let t1 = 0;
  const done = new Promise<void>((resolve) => {
    void b.get(node, {
      watch: () => {
        void b.children(path).then(() => {
          t1 = now();
          resolve();
        });
      },
    });
  });
  // Let the watch be armed before the clock starts.
  await b.exists(node);
  const t0 = now();
  await a.delete(node);
  await done;
  return t1 - t0;
}

async function main(): Promise<void> {
  const server = await startZooKeeper({ tickTime: 500 });
  const clients = [0, 1, 2].map(() => connect(server.connectString, { sessionTimeout: 10_000 }));
  try {
    await Promise.all(clients.map((c) => c.ready()));
    const [a, b] = clients as [ZkClient, ZkClient, ZkClient];
    await a.create('/bench/floor', '', { createParents: true });
    const seats = clients.map((c, i) => seat(c, `c${i}`, '/bench/election'));
    await Promise.all(seats.map((s) => Promise.race([until(s, 'leader'), until(s, 'follower')])));
    const rx: number[] = [];
    const floor: number[] = [];
    // Warm-up, then interleaved runs.
    for (let i = 0; i < 20; i++) {
      await rxzkRun(seats);
      await floorRun(a, b, '/bench/floor');
    }
    for (let i = 0; i < RUNS; i++) {
      rx.push(await rxzkRun(seats));
      floor.push(await floorRun(a, b, '/bench/floor'));
    }
    const rows = [
      ['floor (delete + notification + getChildren, raw client)', floor],
      ['leadership() graceful failover', rx],
    ] as const;
    const p50floor = percentile(
      [...floor].sort((x, y) => x - y),
      50,
    );
    console.log(`\nGraceful failover, ${RUNS} interleaved runs, one local ZooKeeper 3.8 (ms)\n`);
    console.log('| variant | p50 | p99 | mean | p50 / floor p50 |');
    console.log('|---|---:|---:|---:|---:|');
    for (const [name, xs] of rows) {
      const sorted = [...xs].sort((x, y) => x - y);
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      console.log(
        `| ${name} | ${percentile(sorted, 50).toFixed(3)} | ${percentile(sorted, 99).toFixed(3)} | ${mean.toFixed(3)} | ${(percentile(sorted, 50) / p50floor).toFixed(2)}x |`,
      );
    }
    for (const s of seats) s.subscription?.unsubscribe();
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
