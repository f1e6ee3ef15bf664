/**
 * A work queue: producers enqueue jobs, consumers pull them one at a time (at-least-once: a job whose
 * consumer dies before acknowledging it goes to another consumer).
 *
 *   npx tsx examples/work-queue.ts                              (embedded engine, one process)
 *   ZK_CONNECT=127.0.0.1:2181 npx tsx examples/work-queue.ts    (a real ensemble)
 */
import { concatMap, firstValueFrom, merge, scan, filter } from 'rxjs';
import { connect } from '../src/index.js';
import { enqueue } from '../src/recipes/enqueue.js';
import { queue } from '../src/recipes/queue.js';

export interface WorkQueueOptions {
  readonly connectString?: string;
  readonly path?: string;
  readonly producers?: number;
  readonly consumers?: number;
  readonly jobs?: number;
}

/** Producers enqueue `jobs` each; consumers process until all are done. Resolves to the jobs each consumer did. */
export async function main(options: WorkQueueOptions = {}): Promise<string[][]> {
  const connectString = options.connectString ?? process.env['ZK_CONNECT'] ?? 'memory://';
  const path = options.path ?? '/rxzk-example/jobs';
  const jobs = options.jobs ?? 5;
  const producers = Array.from({ length: options.producers ?? 2 }, () => connect(connectString));
  const consumers = Array.from({ length: options.consumers ?? 2 }, () => connect(connectString));
  const done = consumers.map((): string[] => []);
  const total = jobs * producers.length;
  try {
    const work$ = merge(
      ...consumers.map((client, c) =>
        queue(client, path, { mode: 'at-least-once', decode: (b) => b.toString() }).pipe(
          // The pull: concatMap asks for the next job only after this one is acknowledged.
          concatMap(async (item) => {
            if (item.type === 'item') {
              console.log(`consumer ${c} runs ${item.value}`);
              done[c]!.push(item.value);
            } else {
              console.log(`consumer ${c} drops a bad payload: ${item.error.message}`);
            }
            await item.ack();
          }),
        ),
      ),
    );
    const finished = firstValueFrom(
      work$.pipe(
        scan((n) => n + 1, 0),
        filter((n) => n === total),
      ),
    );
    await Promise.all(
      producers.map(async (client, p) => {
        for (let j = 0; j < jobs; j++) await enqueue(client, path, `job ${p}.${j}`);
      }),
    );
    await finished;
    return done;
  } finally {
    await Promise.all([...producers, ...consumers].map((c) => c.close()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
