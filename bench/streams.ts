/**
 * Znode streams against hand-written raw watch loops, measured side by side in one run on one local
 * server, interleaved round by round.
 *
 *   npm run build && RXZK_ZK_IMAGE=rxzk/zookeeper:3.8-local npx tsx bench/streams.ts
 *
 * It measures the built library (dist/), as users run it: run through tsx, the sources carry esbuild's
 * keepNames wrappers on every closure, a cost that only rxzk's side of the comparison pays.
 *
 * 1. Read overhead: first emission of data$ on 1,000 paths vs raw get-with-watch on the same connection.
 * 2. Change latency: writer's set resolves -> subscriber has the value; data$ vs a raw one-shot watch +
 *    re-read loop (same client library, same connection kind).
 * 3. Fan-out: 10,000 subscribers over 1,000 paths: heap per subscription; delivery of one change to
 *    its 10 subscribers.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { filter, firstValueFrom, type Subscription } from 'rxjs';
import { connect, data$, type TransportHandle, type Watcher, type ZkClient } from '../dist/src/index.js';
import { startZooKeeper } from '../test/support/zookeeper.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const now = () => Number(process.hrtime.bigint()) / 1e6;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** Each round times REPS passes of each variant over the 1,000 paths, alternating which goes first. */
const REPS = 6;

async function readOverhead(c: ZkClient, paths: string[]): Promise<{ raw: number; rxzk: number }> {
  const handle = c.currentHandle() as TransportHandle;
  const spent = { raw: 0, rxzk: 0 };
  const passes = {
    raw: async () => {
      await Promise.all(paths.map((p) => handle.get(p, () => undefined)));
      // Leave the server and the client's watch tables as they were, so passes do not pile up watches.
      await Promise.all(paths.map((p) => handle.removeWatches?.(p, 'data')));
    },
    rxzk: async () => {
      const subs: Subscription[] = [];
      await Promise.all(
        paths.map(
          (p) =>
            new Promise<void>((resolve) => {
              subs.push(data$(c, p).subscribe(() => resolve()));
            }),
        ),
      );
      // Unsubscribing removes the watches (the same removeWatches the raw pass sends).
      for (const s of subs) s.unsubscribe();
      while (c.armedWatchCount > 0) await new Promise((r) => setImmediate(r));
    },
  };
  for (let k = 0; k < REPS; k++) {
    for (const variant of (k % 2 ? ['raw', 'rxzk'] : ['rxzk', 'raw']) as ('raw' | 'rxzk')[]) {
      const t = now();
      await passes[variant]();
      spent[variant] += now() - t;
    }
  }
  const rate = (ms: number) => ((REPS * paths.length) / ms) * 1000;
  return { raw: rate(spent.raw), rxzk: rate(spent.rxzk) };
}

/** A raw one-shot watch + re-read loop, as one would write it by hand on the client. */
function rawLoop(c: ZkClient, path: string, onValue: (data: string) => void): () => void {
  let active = true;
  const watch: Watcher = () => void read();
  const read = async () => {
    if (!active) return;
    const { data } = await c.get(path, { watch });
    onValue(data.toString());
  };
  void read();
  return () => {
    active = false;
    c.unwatch(watch);
  };
}

/**
 * Both watchers run at once, each on its own path, and the samples alternate between them (the order
 * flipping every iteration): measuring one block after the other showed a position bias larger than
 * the difference being measured.
 */
async function changeLatency(writer: ZkClient, reader: ZkClient, paths: [string, string], n: number) {
  const out = { raw: [] as number[], rx: [] as number[] };
  const expected = { raw: '', rx: '' };
  const seen: { raw?: (at: number) => void; rx?: (at: number) => void } = {};
  const onValue = (variant: 'raw' | 'rx') => (value: string) => {
    if (value === expected[variant] && seen[variant]) {
      seen[variant]!(now());
      seen[variant] = undefined;
    }
  };
  const stopRaw = rawLoop(reader, paths[0], onValue('raw'));
  const sub = data$(reader, paths[1]).subscribe((v) => v && onValue('rx')(v.data.toString()));
  await firstValueFrom(data$(reader, paths[1]).pipe(filter((v) => v !== null)));
  for (let i = 0; i < n; i++) {
    for (const variant of (i % 2 ? ['raw', 'rx'] : ['rx', 'raw']) as ('raw' | 'rx')[]) {
      expected[variant] = `${variant}-${i}-${Math.random()}`;
      const seenAt = new Promise<number>((r) => (seen[variant] = r));
      await writer.set(paths[variant === 'raw' ? 0 : 1], expected[variant]);
      const resolvedAt = now();
      // The watch may beat the writer's own reply: that counts as zero latency, not as negative.
      out[variant].push(Math.max(0, (await seenAt) - resolvedAt));
    }
  }
  stopRaw();
  sub.unsubscribe();
  return out;
}

async function fanOut(c: ZkClient, writer: ZkClient, paths: string[]) {
  gc();
  const before = process.memoryUsage().heapUsed;
  const subs: Subscription[] = [];
  const seen = new Map<string, number>();
  let target = '';
  let started = 0;
  let delivered: number[] = [];
  await Promise.all(
    paths.map(async (p) => {
      for (let k = 0; k < 10; k++) {
        subs.push(
          data$(c, p).subscribe((v) => {
            if (v && p === target && v.data.toString() === 'fan') {
              delivered.push(now() - started);
              seen.set(p, (seen.get(p) ?? 0) + 1);
            }
          }),
        );
      }
      await firstValueFrom(data$(c, p));
    }),
  );
  gc();
  const perSub = (process.memoryUsage().heapUsed - before) / subs.length;
  const lastDelivery: number[] = [];
  for (const p of paths.slice(0, 50)) {
    delivered = [];
    target = p;
    started = now();
    await writer.set(p, 'fan');
    while (delivered.length < 10) await new Promise((r) => setImmediate(r));
    lastDelivery.push(Math.max(...delivered));
    await writer.set(p, 'x');
  }
  for (const s of subs) s.unsubscribe();
  return { perSub, lastDelivery };
}

async function main(): Promise<void> {
  const server = await startZooKeeper();
  try {
    const c = connect(server.connectString);
    const writer = connect(server.connectString);
    await c.ready();
    const root = '/bench-streams';
    const paths = Array.from({ length: 1_000 }, (_, i) => `${root}/n${i}`);
    await writer.create(root, '').catch(() => undefined);
    await Promise.all(paths.map((p) => writer.create(p, 'x').catch(() => undefined)));

    const reads: { raw: number[]; rxzk: number[] } = { raw: [], rxzk: [] };
    let latency = { raw: [] as number[], rx: [] as number[] };
    await readOverhead(c, paths); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      const o = await readOverhead(c, paths);
      reads.raw.push(o.raw);
      reads.rxzk.push(o.rxzk);
      const l = await changeLatency(writer, c, [paths[0]!, paths[1]!], 200);
      latency = { raw: [...latency.raw, ...l.raw], rx: [...latency.rx, ...l.rx] };
    }
    const fan = await fanOut(c, writer, paths);

    const med = (xs: number[]) => pct(xs, 50);
    console.log(`znode streams vs raw watch loops; ${ROUNDS} interleaved rounds; node ${process.version}`);
    console.log('\n| read: first emission on 1,000 paths (+ watch removal) | per second (median) | ratio |');
    console.log('|---|---|---|');
    console.log(`| raw get + watch (same connection) | ${med(reads.raw).toFixed(0)} | 1.00 |`);
    console.log(
      `| data$ | ${med(reads.rxzk).toFixed(0)} | ${(med(reads.rxzk) / med(reads.raw)).toFixed(2)} |`,
    );
    console.log('\n| change latency (set resolved -> value seen) | p50 ms | p99 ms | p50 ratio |');
    console.log('|---|---|---|---|');
    console.log(
      `| raw watch + re-read loop | ${pct(latency.raw, 50).toFixed(3)} | ${pct(latency.raw, 99).toFixed(3)} | 1.00 |`,
    );
    console.log(
      `| data$ | ${pct(latency.rx, 50).toFixed(3)} | ${pct(latency.rx, 99).toFixed(3)} | ${(pct(latency.rx, 50) / pct(latency.raw, 50)).toFixed(2)} |`,
    );
    console.log(
      `\nfan-out: 10,000 subscriptions over 1,000 paths: ${(fan.perSub / 1024).toFixed(2)} KiB heap per subscription; ` +
        `a change reaches all 10 subscribers of its path in p50 ${pct(fan.lastDelivery, 50).toFixed(3)} ms, p99 ${pct(fan.lastDelivery, 99).toFixed(3)} ms (after set resolved)`,
    );
    await c.close();
    await writer.close();
  } finally {
    await server.close();
  }
}

await main();
