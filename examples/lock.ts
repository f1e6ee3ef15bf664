/**
 * A lock: several workers take turns on a shared resource (a counter in a plain znode, read and
 * written without versions: only the lock keeps the increments from clobbering each other).
 *
 * On a real ensemble, run it in several shells at once; on the embedded engine, workers share a process:
 *   ZK_CONNECT=127.0.0.1:2181 npx tsx examples/lock.ts
 *   npx tsx examples/lock.ts
 */
import { connect } from '../src/index.js';
import { withLock } from '../src/recipes/with-lock.js';

export interface LockExampleOptions {
  readonly connectString?: string;
  readonly path?: string;
  readonly workers?: number;
  readonly turns?: number;
}

/** Runs `workers` clients, each incrementing the counter `turns` times under the lock; resolves to its final value. */
export async function main(options: LockExampleOptions = {}): Promise<number> {
  const connectString = options.connectString ?? process.env['ZK_CONNECT'] ?? 'memory://';
  const path = options.path ?? '/rxzk-example/lock';
  const counter = `${path}-counter`;
  const clients = Array.from({ length: options.workers ?? 3 }, () => connect(connectString));
  try {
    await clients[0]!.create(counter, '0', { createParents: true }).catch(() => undefined);
    await Promise.all(
      clients.map(async (client, worker) => {
        for (let turn = 0; turn < (options.turns ?? 5); turn++) {
          await withLock(
            client,
            path,
            async ({ token }) => {
              const { data } = await client.get(counter);
              const next = Number(data.toString()) + 1;
              await client.set(counter, String(next));
              console.log(`worker ${worker} holds the lock (token ${token}): counter -> ${next}`);
            },
            { timeout: 30_000 },
          );
        }
      }),
    );
    return Number((await clients[0]!.get(counter)).data.toString());
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (value) => {
      console.log(`final counter: ${value}`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
