/**
 * The JavaScript cost of data$ alone, with no network: a transport whose replies resolve at once.
 * What remains is rxzk's own work per subscription cycle (subscribe, first emission, unsubscribe with
 * watch removal) against the same calls made on the transport handle directly.
 *
 *   npm run build && npx tsx bench/streams-cpu.ts   (measures the built library, as users run it)
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Subscription } from 'rxjs';
import { connect, data$, type Stat, type Transport, type TransportHandle } from '../dist/src/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
/** CPU time of this process (user + system), in ms: steadier than wall time on a shared machine. */
const now = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const stat: Stat = {
  czxid: 1,
  mzxid: 2,
  pzxid: 1,
  ctime: 0,
  mtime: 0,
  version: 1,
  cversion: 0,
  aversion: 0,
  ephemeralOwner: '0',
  dataLength: 1,
  numChildren: 0,
};

/** Replies at once (on a resolved promise), as if the server answered with no delay. */
const instant: Transport = {
  name: 'instant',
  open(_options, onEvent) {
    const data = Buffer.from('x');
    const handle: TransportHandle = {
      sessionId: '0000000000000001',
      sessionPassword: '00',
      create: async (r) => ({ path: r.path, stat }),
      get: async () => ({ data, stat }),
      set: async () => stat,
      delete: async () => undefined,
      exists: async () => stat,
      children: async () => ({ children: [], stat }),
      sync: async () => undefined,
      getACL: async () => ({ acl: [], stat }),
      setACL: async () => undefined,
      addAuth: async () => undefined,
      removeWatches: async () => undefined,
      close: () => undefined,
    };
    queueMicrotask(() =>
      onEvent({ type: 'connected', sessionId: '0000000000000001', sessionTimeout: 30_000 }),
    );
    return handle;
  },
};

const client = connect('127.0.0.1:1', { transport: instant });
await client.ready();
const handle = client.currentHandle()!;
const paths = Array.from({ length: 1_000 }, (_, i) => `/n${i}`);

async function raw(): Promise<void> {
  await Promise.all(paths.map((p) => handle.get(p, () => undefined)));
  await Promise.all(paths.map((p) => handle.removeWatches!(p, 'data')));
}

async function clientGet(): Promise<void> {
  const w = () => undefined;
  await Promise.all(paths.map((p) => client.get(p, { watch: w })));
  client.unwatch(w);
  while (client.armedWatchCount > 0) await new Promise((r) => setImmediate(r));
}

async function streams(): Promise<void> {
  const subs: Subscription[] = [];
  await Promise.all(
    paths.map((p) => new Promise<void>((resolve) => subs.push(data$(client, p).subscribe(() => resolve())))),
  );
  for (const s of subs) s.unsubscribe();
  while (client.armedWatchCount > 0) await new Promise((r) => setImmediate(r));
}

const all = { raw, clientGet, streams };
const only = process.env['ONLY'];
const variants = (only ? { raw, [only]: all[only as keyof typeof all] } : all) as typeof all;
const spent: Record<string, number> = { raw: 0, clientGet: 0, streams: 0 };
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 200);
for (let r = 0; r < 20; r++) for (const v of Object.values(variants)) await v();
gc();
for (let r = 0; r < ROUNDS; r++) {
  const order = Object.keys(variants) as (keyof typeof variants)[];
  if (r % 2) order.reverse();
  for (const name of order) {
    const t = now();
    await variants[name]();
    spent[name]! += now() - t;
  }
}
const per = (ms: number) => (ms * 1000) / (ROUNDS * paths.length);
console.log(`no-network cost per cycle (${ROUNDS} rounds x 1,000 paths); node ${process.version}`);
console.log('| variant | µs per cycle | over raw |');
console.log('|---|---|---|');
for (const name of Object.keys(variants)) {
  console.log(
    `| ${name} | ${per(spent[name]!).toFixed(2)} | +${(per(spent[name]!) - per(spent['raw']!)).toFixed(2)} |`,
  );
}
await client.close();
