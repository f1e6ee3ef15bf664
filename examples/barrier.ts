/**
 * Barriers: workers wait at a barrier until a coordinator lifts it, then meet at a double barrier
 * (enter when all have arrived, leave when all have left).
 *
 *   npx tsx examples/barrier.ts                               (embedded engine, one process)
 *   ZK_CONNECT=127.0.0.1:2181 npx tsx examples/barrier.ts     (a real ensemble)
 */
import { lastValueFrom, tap, timer } from 'rxjs';
import { connect } from '../src/index.js';
import { barrier } from '../src/recipes/barrier.js';
import { doubleBarrier } from '../src/recipes/double-barrier.js';

export interface BarrierOptions {
  readonly connectString?: string;
  readonly path?: string;
  readonly workers?: number;
}

/** Resolves to each worker's transitions. */
export async function main(options: BarrierOptions = {}): Promise<string[][]> {
  const connectString = options.connectString ?? process.env['ZK_CONNECT'] ?? 'memory://';
  const path = options.path ?? '/rxzk-example/barriers';
  const coordinator = connect(connectString);
  const workers = Array.from({ length: options.workers ?? 3 }, () => connect(connectString));
  const gate = `${path}/start`;
  try {
    await coordinator.create(gate, '', { createParents: true });
    const runs = workers.map(async (client, w) => {
      const seen: string[] = [];
      await lastValueFrom(barrier(client, gate).pipe(tap((s) => seen.push(`gate ${s}`))));
      await lastValueFrom(
        doubleBarrier(client, `${path}/round`, {
          members: workers.length,
          // Each worker does its part for a different time, then leaves; all leave together.
          leave: timer(100 * (w + 1)),
        }).pipe(
          tap((s) => {
            seen.push(s);
            console.log(`worker ${w}: ${s}`);
          }),
        ),
      );
      return seen;
    });
    await lastValueFrom(timer(200));
    console.log('coordinator lifts the barrier');
    await coordinator.delete(gate);
    return await Promise.all(runs);
  } finally {
    await Promise.all([coordinator, ...workers].map((c) => c.close()));
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
