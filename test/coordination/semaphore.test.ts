/**
 * The semaphore against a real ZooKeeper: several clients (each its own session) contend for a
 * 3-lease semaphore with random hold times; a counter of concurrent holders proves there are never
 * more than 3, and every lease and mutex node is gone afterwards. Plus the stored limit, checked.
 * And the same with every participant a separate OS process (test/coordination/semaphore-worker.ts),
 * ZooKeeper the witness: each holder puts an ephemeral marker under `holders/` while it holds a lease
 * and lists them; no holder ever sees more markers than leases, and some see exactly that many.
 */
import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ZkClient } from '../../src/index.js';
import { SemaphoreLimitError } from '../../src/recipes/coordination-errors.js';
import { semaphore } from '../../src/recipes/semaphore.js';
import { eventually, zkSuite } from '../support/fixture.js';
import { workerPool } from '../support/processes.js';
import { goTogether, heldBy, spawnHolder, type Held, type Holder } from './holders.js';

const zk = zkSuite();
const WORKER = new URL('./semaphore-worker.ts', import.meta.url);

interface HeldRound extends Held {
  round: number;
}

const processes = workerPool();
afterEach(() => processes.stopAll());

const worker = (id: string, env: Record<string, string>): Holder<HeldRound> =>
  spawnHolder(processes, WORKER, id, { ZK_CONNECT: zk.connectString, ...env });

/** Rejects after `ms` (and clears its timer when `work` settles first). */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const childrenOf = async (client: ZkClient, path: string): Promise<string[]> =>
  (await client.children(path).catch(() => ({ children: [] as string[] }))).children;

describe('semaphore against ZooKeeper', () => {
  it('8 clients x 10 rounds with random holds on 3 leases: never more than 3 holders, all nodes cleaned up', async () => {
    const path = `${zk.root}/sem`;
    const clients = Array.from({ length: 8 }, () => zk.client());
    const holders = { now: 0, max: 0, acquisitions: 0 };
    const tokens: number[] = [];

    /** Subscribes, holds for a random 5..40 ms once acquired, then unsubscribes (releases). */
    const round = (client: ZkClient): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const subscription = semaphore(client, path, { leases: 3 }).subscribe({
          next: (o) => {
            if (o.type === 'lost') return reject(new Error(`lost a lease (${o.reason})`));
            if (o.type !== 'acquired') return;
            holders.now++;
            holders.acquisitions++;
            holders.max = Math.max(holders.max, holders.now);
            tokens.push(o.token);
            setTimeout(
              () => {
                // Counted out before the release is sent: the count can only over-report overlap.
                holders.now--;
                subscription.unsubscribe();
                resolve();
              },
              5 + Math.random() * 35,
            );
          },
          error: reject,
        });
      });

    await within(
      60_000,
      'contention',
      Promise.all(
        clients.map(async (client) => {
          for (let i = 0; i < 10; i++) await round(client);
        }),
      ),
    );
    expect(holders.acquisitions).toBe(80);
    expect(holders.max).toBeLessThanOrEqual(3);
    // It is a semaphore, not a mutex: with 8 contenders the 3 leases were in use together.
    expect(holders.max).toBe(3);
    expect(new Set(tokens).size).toBe(80);

    const admin = zk.client();
    await eventually(async () => {
      expect(await childrenOf(admin, `${path}/leases`)).toEqual([]);
      expect(await childrenOf(admin, `${path}/locks`)).toEqual([]);
    }, 10_000);
    // The limit stays on the semaphore's node for whoever comes next.
    expect((await admin.get(path)).data.toString()).toBe('3');
  });

  it('a participant asking for another limit gets SemaphoreLimitError and leaves no node', async () => {
    const path = `${zk.root}/sem`;
    const [a, b] = [zk.client(), zk.client()];
    let acquired!: () => void;
    const first = new Promise<void>((resolve) => (acquired = resolve));
    const held = semaphore(a, path, { leases: 3 }).subscribe((o) => o.type === 'acquired' && acquired());
    try {
      // a came first: the stored limit is 3.
      await within(10_000, 'first holder', first);
      const failure = await within(
        10_000,
        'mismatch',
        firstValueFrom(semaphore(b, path, { leases: 5 }).pipe(filter(() => false))).catch((e: unknown) => e),
      );
      expect(failure).toBeInstanceOf(SemaphoreLimitError);
      expect(failure).toMatchObject({ stored: 3, requested: 5 });
      expect(await childrenOf(b, `${path}/leases`)).toHaveLength(1);
      expect(await childrenOf(b, `${path}/locks`)).toEqual([]);
    } finally {
      held.unsubscribe();
    }
    await eventually(async () => expect(await childrenOf(b, `${path}/leases`)).toEqual([]), 10_000);
  });

  it('6 processes x 6 rounds on 3 leases: no holder ever sees more than 3 holding, and some see 3', async () => {
    const admin = zk.client();
    const [sem, holders, go] = ['sem', 'holders', 'go'].map((p) => `${zk.root}/${p}`);
    await admin.create(holders!);
    const workers = [0, 1, 2, 3, 4, 5].map((i) =>
      worker(`${i}`, { SEM: sem!, HOLDERS: holders!, GO: go!, LEASES: '3', ROUNDS: '6', HOLD_MS: '20' }),
    );
    // Everyone connected before anyone contends: the leases are contended from the first round.
    const { codes, elapsed } = await goTogether(admin, go!, workers, 120_000);
    expect(workers.flatMap((w) => w.events.filter((e) => e.ev === 'error'))).toEqual([]);
    expect(codes).toEqual(Array(6).fill(0));
    const sightings = workers.flatMap((w) =>
      heldBy(w).flatMap((h) =>
        [h.saw, h.sawEnd].map((seen) => ({ who: `h-${w.id} round ${h.round}`, seen, own: `h-${w.id}` })),
      ),
    );
    expect(sightings).toHaveLength(6 * 6 * 2);
    for (const { who, seen, own } of sightings) {
      expect(seen, who).toContain(own);
      // Never more holders than leases (our own marker included)...
      expect(seen.length, `${who} saw ${seen.join(', ')}`).toBeLessThanOrEqual(3);
    }
    // ...and all of them in use at once: a semaphore, not a mutex.
    const most = Math.max(...sightings.map((s) => s.seen.length));
    expect(most).toBe(3);
    const full = sightings.filter((s) => s.seen.length === 3).length;
    expect(new Set(workers.flatMap((w) => heldBy(w).map((h) => h.token))).size).toBe(36);
    console.log(
      `semaphore: 36 leases held by 6 processes in ${elapsed.toFixed(0)} ms; ${full} of 72 listings saw all 3 held`,
    );
    await eventually(async () => {
      expect(await childrenOf(admin, `${sem}/leases`)).toEqual([]);
      expect(await childrenOf(admin, `${sem}/locks`)).toEqual([]);
      expect(await childrenOf(admin, holders!)).toEqual([]);
    }, 15_000);
    expect((await admin.get(sem!)).data.toString()).toBe('3');
  }, 180_000);
});
