/**
 * Operation cost of each layer against the raw binding (the floor), measured side by side in one run
 * on one local server, interleaved round by round so machine drift hits every variant alike.
 *
 *   npm run build && RXZK_ZK_IMAGE=rxzk/zookeeper:3.8-local npx tsx bench/operations.ts
 *
 * It measures the built library (dist/), as users run it: run through tsx, the sources carry esbuild's
 * keepNames wrappers on every closure, a cost that only rxzk's side of the comparison pays.
 */
import { createRequire } from 'node:module';
import { connect, nativeTransport, type TransportHandle } from '../dist/src/index.js';
import { startZooKeeper } from '../test/support/zookeeper.js';

const require = createRequire(import.meta.url);
interface RawZk {
  on(event: string, listener: () => void): void;
  init(config: object): void;
  close(): void;
  /** The addon itself (the package's JS wrapper formats a log line per call; the floor skips it). */
  native: { a_get(path: string, watch: boolean, cb: (rc: number) => void): number };
}
type GetFn = (path: string) => Promise<unknown>;

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const SEQUENTIAL = 2_000;
const PIPELINED = 20_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

async function sequentialLatencies(get: GetFn, path: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = process.hrtime.bigint();
    await get(path);
    out.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  return out;
}

async function pipelinedRate(get: GetFn, path: string): Promise<number> {
  const t = process.hrtime.bigint();
  for (let done = 0; done < PIPELINED; done += 1_000) {
    await Promise.all(Array.from({ length: 1_000 }, () => get(path)));
  }
  return PIPELINED / (Number(process.hrtime.bigint() - t) / 1e9);
}

async function main(): Promise<void> {
  const server = await startZooKeeper();
  const path = '/bench-node';
  try {
    const raw = await new Promise<RawZk>((resolve) => {
      const Ctor = require('zookeeper') as new (c: object) => RawZk;
      const zk = new Ctor({ connect: server.connectString, timeout: 10_000, debug_level: 0 });
      zk.on('connect', () => resolve(zk));
      zk.init({});
    });
    const handle = await new Promise<TransportHandle>((resolve) => {
      const h = nativeTransport().open(
        { connectString: server.connectString, sessionTimeout: 10_000, auth: [] },
        (e) => {
          if (e.type === 'connected') resolve(h);
        },
      );
    });
    const client = connect(server.connectString);
    await client.create(path, Buffer.alloc(100));

    const variants: [string, GetFn][] = [
      [
        'raw binding (floor)',
        (p) =>
          new Promise<void>((res, rej) =>
            raw.native.a_get(p, false, (rc) => (rc === 0 ? res() : rej(new Error(`${rc}`)))),
          ),
      ],
      ['rxzk transport adapter', (p) => handle.get(p)],
      ['rxzk client', (p) => client.get(p)],
    ];
    const latency = new Map<string, number[]>(variants.map(([n]) => [n, []]));
    const rate = new Map<string, number[]>(variants.map(([n]) => [n, []]));
    for (const [, get] of variants) await pipelinedRate(get, path); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, get] of variants) {
        latency.get(name)!.push(...(await sequentialLatencies(get, path)));
        rate.get(name)!.push(await pipelinedRate(get, path));
      }
    }
    const floorP50 = median(latency.get(variants[0]![0])!);
    const floorRate = median(rate.get(variants[0]![0])!);
    console.log(`get of a 100-byte node, ${ROUNDS} interleaved rounds; node ${process.version}`);
    console.log('| variant | p50 µs | p99 µs | p50 / floor | pipelined get/s (median) | rate / floor |');
    console.log('|---|---|---|---|---|---|');
    for (const [name] of variants) {
      const l = [...latency.get(name)!].sort((a, b) => a - b);
      const r = median(rate.get(name)!);
      console.log(
        `| ${name} | ${percentile(l, 50).toFixed(0)} | ${percentile(l, 99).toFixed(0)} | ${(percentile(l, 50) / floorP50).toFixed(2)} | ${r.toFixed(0)} | ${(r / floorRate).toFixed(2)} |`,
      );
    }
    await client.delete(path);
    await client.close();
    handle.close();
    raw.close();
  } finally {
    await server.close();
  }
}

await main();
