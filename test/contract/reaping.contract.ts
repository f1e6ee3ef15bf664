/**
 * The server's reaper: a container whose last child went is deleted, a TTL node without children is
 * deleted once unmodified for its TTL. Needs a target whose reaper runs every few seconds at most.
 */
import { describe, expect, it } from 'vitest';
import { recorder, type Target } from './target.js';

export function reapingContract(t: Target, reapIntervalMs: number | undefined): void {
  describe.skipIf(reapIntervalMs === undefined)('reaping of containers and TTL nodes', () => {
    const interval = reapIntervalMs ?? 0;
    // Long enough for a few rounds of the reaper.
    const rounds = { timeout: interval * 4 + 5_000, interval: 100 } as const;
    const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('a container is deleted once its last child is gone, and watches on it fire', async () => {
      const c = await t().client();
      const w = await t().client();
      const box = `${t().root}/box`;
      await c.create(box, '', { mode: 'container' });
      await c.create(`${box}/kid`, '');
      const seen = recorder();
      await w.get(box, { watch: seen.watch });
      // While it has a child, it stays.
      await wait(interval * 2 + 500);
      expect(await c.exists(box)).not.toBeNull();
      await c.delete(`${box}/kid`);
      await expect.poll(() => c.exists(box), rounds).toBeNull();
      await expect.poll(() => seen.events, rounds).toEqual([{ type: 'deleted', path: box }]);
    });

    it('a TTL above 2^32 ms is kept whole, not wrapped to a few milliseconds', async () => {
      const c = await t().client();
      const p = `${t().root}/long-ttl`;
      // An unpatched binding passed the TTL through 32 bits: 2^32 + 5 became 5 ms and was reaped.
      await c.create(p, '', { mode: 'persistent-ttl', ttl: 2 ** 32 + 5 });
      await wait(interval * 2 + 500);
      expect(await c.exists(p)).not.toBeNull();
    });

    it('a container that never had a child stays', async () => {
      const c = await t().client();
      const box = `${t().root}/never-used`;
      await c.create(box, '', { mode: 'container' });
      await wait(interval * 2 + 500);
      expect(await c.exists(box)).not.toBeNull();
    });

    it('a container whose children left before a round goes even if it got new data meanwhile', async () => {
      const c = await t().client();
      const box = `${t().root}/box`;
      await c.create(`${box}/kid`, '', { createParents: 'container' });
      await c.delete(`${box}/kid`);
      await c.set(box, 'still here?');
      await expect.poll(() => c.exists(box), rounds).toBeNull();
    });

    it('a container emptied by the end of a session (its ephemeral child) is reaped', async () => {
      const c = await t().client();
      const owner = await t().client();
      const box = `${t().root}/box`;
      await c.create(box, '', { mode: 'container' });
      await owner.create(`${box}/member`, '', { mode: 'ephemeral' });
      await owner.close();
      await expect.poll(() => c.exists(box), rounds).toBeNull();
    });

    it('a TTL counts from the last change of the data', async () => {
      const c = await t().client();
      const p = `${t().root}/t`;
      const ttl = 2_000;
      await c.create(p, '', { mode: 'persistent-ttl', ttl });
      await wait(1_500);
      await c.set(p, 'touched');
      await wait(1_200);
      // 2.7 s after the create, but only 1.2 s after the set.
      expect(await c.exists(p)).not.toBeNull();
      await expect.poll(() => c.exists(p), rounds).toBeNull();
    });

    it('a TTL node without children goes after its TTL; one with a child stays', async () => {
      const c = await t().client();
      const r = t().root;
      const ttl = 1_000;
      await c.create(`${r}/short`, '', { mode: 'persistent-ttl', ttl });
      await c.create(`${r}/parent`, '', { mode: 'persistent-ttl', ttl });
      await c.create(`${r}/parent/kid`, '');
      const seq = await c.create(`${r}/s-`, '', { mode: 'persistent-sequential-ttl', ttl, protect: false });
      await c.create(`${r}/long`, '', { mode: 'persistent-ttl', ttl: 600_000 });
      await expect.poll(() => c.exists(`${r}/short`), rounds).toBeNull();
      await expect.poll(() => c.exists(seq), rounds).toBeNull();
      expect(await c.exists(`${r}/parent`)).not.toBeNull();
      expect(await c.exists(`${r}/long`)).not.toBeNull();
      // Once the child is gone, the parent's TTL (counted from its last change) has long passed.
      await c.delete(`${r}/parent/kid`);
      await expect.poll(() => c.exists(`${r}/parent`), rounds).toBeNull();
    });
  });
}
