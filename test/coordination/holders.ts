/**
 * The parent's side of the workers that take turns (runTurns and holdMarked in worker-io.ts), for
 * rwlock.test.ts and semaphore.test.ts: workers with an ID that report `ready`, start together on the
 * GO node, then report one `held` event per turn with the markers they saw under `holders/`.
 */
import { expect } from 'vitest';
import type { ZkClient } from '../../src/index.js';
import { eventually } from '../support/fixture.js';
import { allExited, type WorkerPool, type WorkerProcess } from '../support/processes.js';

/** A turn holding, reported once its marker is gone: its fencing token and the markers it listed. */
export interface Held {
  ev: 'held';
  token: number;
  saw: string[];
  sawEnd: string[];
}

export type Holder<H extends Held> = WorkerProcess<
  { ev: string; message?: string; t: number } | (H & { t: number })
> & { readonly id: string };

/** Starts `file` as the worker `id` (its env ID) in `pool`. */
export function spawnHolder<H extends Held>(
  pool: WorkerPool,
  file: URL,
  id: string,
  env: Record<string, string>,
): Holder<H> {
  const w = pool.spawn<Holder<H>['events'][number]>(file, { ID: id, ...env });
  return Object.assign(w, { id });
}

/**
 * Starts `workers` together: waits until every one is connected (`ready`), creates `go`, then waits for
 * them all to exit (bounded). Returns their exit codes and the ms from GO to the last exit.
 */
export async function goTogether<H extends Held>(
  admin: ZkClient,
  go: string,
  workers: readonly Holder<H>[],
  timeoutMs: number,
): Promise<{ codes: (number | null)[]; elapsed: number }> {
  await eventually(
    () => expect(workers.every((w) => w.events.some((e) => e.ev === 'ready'))).toBe(true),
    60_000,
    50,
  );
  const started = performance.now();
  await admin.create(go);
  const codes = await allExited(workers, timeoutMs);
  return { codes, elapsed: performance.now() - started };
}

/** The `held` reports of `w`, in order. */
export const heldBy = <H extends Held>(w: Holder<H>): H[] =>
  w.events.filter((e): e is H & { t: number } => e.ev === 'held');
