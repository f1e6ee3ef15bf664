/**
 * The read/write lock against a real ZooKeeper, every reader and writer a separate OS process
 * (test/coordination/rw-worker.ts). ZooKeeper is the witness: writers increment a counter znode without
 * versions (exact only if they never overlap), readers read it twice across a hold (unchanged only if
 * no writer got in), and every holder puts an ephemeral marker under `holders/` while it holds and lists
 * them: a writer never sees another marker, a reader never sees a writer's, and readers do see each
 * other's (they really share).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, zkSuite } from '../support/fixture.js';
import { workerPool } from '../support/processes.js';
import { goTogether, heldBy, spawnHolder, type Held, type Holder } from './holders.js';

const zk = zkSuite({ tickTime: 500 });
const WORKER = new URL('./rw-worker.ts', import.meta.url);

interface HeldTurn extends Held {
  turn: number;
  before: number;
  after: number;
}

const processes = workerPool();
afterEach(() => processes.stopAll());

const worker = (id: string, env: Record<string, string>): Holder<HeldTurn> =>
  spawnHolder(processes, WORKER, id, { ZK_CONNECT: zk.connectString, ...env });
const turnsOf = (w: Holder<HeldTurn>): HeldTurn[] => heldBy(w);

describe('read/write lock across processes', () => {
  it('3 writers and 5 readers x 6 turns: writers alone, readers never with a writer, readers together', async () => {
    const admin = zk.client();
    const [lock, counter, holders, go] = ['rw', 'counter', 'holders', 'go'].map((p) => `${zk.root}/${p}`);
    await admin.create(counter!, '0');
    await admin.create(holders!);
    const common = { LOCK: lock!, COUNTER: counter!, HOLDERS: holders!, GO: go!, TURNS: '6' };
    const writers = [0, 1, 2].map((i) => worker(`${i}`, { ...common, ROLE: 'write', HOLD_MS: '10' }));
    const readers = [0, 1, 2, 3, 4].map((i) => worker(`${i}`, { ...common, ROLE: 'read', HOLD_MS: '15' }));
    const all = [...writers, ...readers];
    // Everyone connected before anyone contends: the lock is contended from the first turn.
    const { codes, elapsed } = await goTogether(admin, go!, all, 120_000);
    expect(all.flatMap((w) => w.events.filter((e) => e.ev === 'error'))).toEqual([]);
    expect(codes).toEqual(Array(8).fill(0));

    // Writers: the unversioned read-modify-writes never overlapped, so the count is exact...
    expect(Number((await admin.get(counter!)).data.toString())).toBe(18);
    const written = writers.flatMap((w) => turnsOf(w).map((h) => h.after));
    expect(written.sort((a, b) => a - b)).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    // ...and no writer ever saw another holder's marker, reader or writer.
    for (const w of writers) {
      expect(turnsOf(w)).toHaveLength(6);
      for (const h of turnsOf(w)) {
        expect(h.saw, `writer ${w.id} turn ${h.turn}`).toEqual([`w-${w.id}`]);
        expect(h.sawEnd, `writer ${w.id} turn ${h.turn}`).toEqual([`w-${w.id}`]);
      }
    }
    // Readers: no writer while reading (the counter did not move, and no writer's marker was up)...
    let shared = 0;
    for (const r of readers) {
      expect(turnsOf(r)).toHaveLength(6);
      for (const h of turnsOf(r)) {
        const what = `reader ${r.id} turn ${h.turn}`;
        expect(h.after, what).toBe(h.before);
        expect(
          [...h.saw, ...h.sawEnd].filter((m) => m.startsWith('w-')),
          what,
        ).toEqual([]);
        expect(h.saw, what).toContain(`r-${r.id}`);
        expect(h.sawEnd, what).toContain(`r-${r.id}`);
        if ([...h.saw, ...h.sawEnd].some((m) => m !== `r-${r.id}`)) shared++;
      }
    }
    // ...and readers really shared the lock: some held it while another reader did.
    expect(shared, 'reader turns that saw another reader holding').toBeGreaterThan(0);
    // Fencing tokens: one per acquisition, all different.
    expect(new Set(all.flatMap((w) => turnsOf(w).map((h) => h.token))).size).toBe(48);
    const readsSeen = readers.flatMap((r) => turnsOf(r).map((h) => h.before));
    console.log(
      `rw lock: 18 writes and 30 reads by 8 processes in ${elapsed.toFixed(0)} ms; ${shared} of 30 read ` +
        `turns shared with another reader; readers saw counter values ${Math.min(...readsSeen)}..${Math.max(...readsSeen)}`,
    );
    // Nothing left behind: no lock node, no marker.
    await eventually(async () => {
      expect((await admin.children(lock!)).children).toEqual([]);
      expect((await admin.children(holders!)).children).toEqual([]);
    }, 15_000);
  }, 180_000);
});
