/** Sequential names, create modes (container, TTL) and chroot. */
import { describe, expect, it } from 'vitest';
import { NodeExistsError, NoNodeError } from '../../src/index.js';
import { recorder, type Target } from './target.js';

const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

export function namingContract(t: Target): void {
  describe('sequential names', () => {
    it("append a 10-digit counter that counts the parent's child creates (deletes do not advance it)", async () => {
      const c = await t().client();
      const r = t().root;
      const seq = (
        prefix: string,
        mode: 'persistent-sequential' | 'ephemeral-sequential' = 'persistent-sequential',
      ) => c.create(`${r}/${prefix}`, '', { mode, protect: false });
      expect(await seq('a-')).toBe(`${r}/a-0000000000`);
      expect(await seq('a-')).toBe(`${r}/a-0000000001`);
      await c.create(`${r}/plain`, '');
      // One counter per parent, whatever the prefix or mode.
      expect(await seq('b-', 'ephemeral-sequential')).toBe(`${r}/b-0000000003`);
      expect((await c.exists(r))?.cversion).toBe(4);
      await c.delete(`${r}/plain`);
      await c.delete(`${r}/a-0000000000`);
      // Stat.cversion counts the deletes, the sequence does not: it goes on from 4, not 6.
      expect((await c.exists(r))?.cversion).toBe(6);
      expect(await seq('a-')).toBe(`${r}/a-0000000004`);
      expect(await seq('')).toBe(`${r}/0000000005`);
      expect((await c.exists(r))?.cversion).toBe(8);
      // Another parent has its own counter.
      await c.create(`${r}/sub`, '');
      expect(await c.create(`${r}/sub/x`, '', { mode: 'persistent-sequential', protect: false })).toBe(
        `${r}/sub/x0000000000`,
      );
      expect((await c.children(r)).children.sort()).toEqual([
        '0000000005',
        'a-0000000001',
        'a-0000000004',
        'b-0000000003',
        'sub',
      ]);
    });

    it('a sequential name that already exists fails with NodeExists and does not advance the counter', async () => {
      const c = await t().client();
      const r = t().root;
      const seq = () => c.create(`${r}/x-`, '', { mode: 'persistent-sequential', protect: false });
      // The parent's cversion is 1 after this: the next sequential name is taken.
      await c.create(`${r}/x-0000000001`, '');
      await expect(seq()).rejects.toBeInstanceOf(NodeExistsError);
      await expect(seq()).rejects.toBeInstanceOf(NodeExistsError);
      expect((await c.exists(r))?.cversion).toBe(1);
      await c.create(`${r}/other`, '');
      expect(await seq()).toBe(`${r}/x-0000000002`);
      expect((await c.exists(r))?.cversion).toBe(3);
    });

    it('are protected by default: _c_<uuid>-<name><counter>, a new uuid per create', async () => {
      const c = await t().client();
      const r = t().root;
      const a = await c.create(`${r}/lock-`, 'a', { mode: 'ephemeral-sequential' });
      const b = await c.create(`${r}/lock-`, 'b', { mode: 'persistent-sequential' });
      expect(a).toMatch(new RegExp(`^${r}/_c_${GUID}-lock-0000000000$`));
      expect(b).toMatch(new RegExp(`^${r}/_c_${GUID}-lock-0000000001$`));
      expect(a.slice(0, -10)).not.toBe(b.slice(0, -10));
      expect((await c.get(a)).data.toString()).toBe('a');
      expect((await c.children(r)).children.sort()).toEqual([a, b].map((p) => p.slice(r.length + 1)).sort());
      const plain = await c.create(`${r}/p`, '', { protect: true });
      expect(plain).toMatch(new RegExp(`^${r}/_c_${GUID}-p$`));
    });

    it('TTL sequential modes count on the same counter', async () => {
      const c = await t().client();
      const r = t().root;
      await c.create(`${r}/first`, '');
      const p = await c.create(`${r}/t-`, '', {
        mode: 'persistent-sequential-ttl',
        ttl: 60_000,
        protect: false,
      });
      expect(p).toBe(`${r}/t-0000000001`);
    });
  });

  describe('create modes', () => {
    it('container: a persistent-looking node that takes children, ephemeral ones too', async () => {
      const c = await t().client();
      const box = `${t().root}/box`;
      expect(await c.create(box, 'd', { mode: 'container' })).toBe(box);
      expect(await c.exists(box)).toMatchObject({ ephemeralOwner: '0', version: 0, dataLength: 1 });
      await c.create(`${box}/e`, '', { mode: 'ephemeral' });
      await c.create(`${box}/p`, '');
      await c.create(`${box}/c`, '', { mode: 'container' });
      expect((await c.children(box)).children.sort()).toEqual(['c', 'e', 'p']);
      expect((await c.set(box, 'x')).version).toBe(1);
    });

    it('TTL: shows no owner, takes children, keeps data and versions like a persistent node', async () => {
      const c = await t().client();
      const p = `${t().root}/t`;
      expect(await c.create(p, 'x', { mode: 'persistent-ttl', ttl: 60_000 })).toBe(p);
      const stat = await c.exists(p);
      expect(stat).toMatchObject({ ephemeralOwner: '0', version: 0, dataLength: 1, cversion: 0 });
      await c.create(`${p}/kid`, '');
      await c.create(`${p}/eph`, '', { mode: 'ephemeral' });
      expect((await c.exists(p))?.numChildren).toBe(2);
      expect((await c.set(p, 'yy')).version).toBe(1);
    });

    it('createParents makes missing ancestors (persistent or container), and leaves existing ones', async () => {
      const c = await t().client();
      const r = t().root;
      await expect(c.create(`${r}/a/b/c`, 'x')).rejects.toBeInstanceOf(NoNodeError);
      expect(await c.create(`${r}/a/b/c`, 'x', { createParents: true })).toBe(`${r}/a/b/c`);
      expect(await c.exists(`${r}/a/b`)).toMatchObject({
        ephemeralOwner: '0',
        numChildren: 1,
        dataLength: 0,
      });
      await c.create(`${r}/k/l`, '', { createParents: 'container' });
      expect((await c.children(`${r}/k`)).children).toEqual(['l']);
      await c.create(`${r}/a/b/d`, '', { createParents: true });
      expect((await c.children(`${r}/a/b`)).children.sort()).toEqual(['c', 'd']);
    });
  });

  describe('chroot', () => {
    it('a client with a chroot sees paths relative to it, in results, children and events', async () => {
      const r = t().root;
      const plain = await t().client();
      const c = await t().client({ chroot: r });
      expect(await c.create('/inside', 'x')).toBe('/inside');
      expect((await plain.get(`${r}/inside`)).data.toString()).toBe('x');
      expect((await c.children('/')).children).toEqual(['inside']);
      expect((await c.exists('/'))?.czxid).toBe((await plain.exists(r))?.czxid);
      const seq = await c.create('/s-', '', { mode: 'persistent-sequential', protect: false });
      expect(seq).toBe('/s-0000000001');
      const guarded = await c.create('/g-', '', { mode: 'ephemeral-sequential' });
      expect(guarded).toMatch(new RegExp(`^/_c_${GUID}-g-0000000002$`));
      expect(await c.create('/deep/er', '', { createParents: true })).toBe('/deep/er');
      expect(await plain.exists(`${r}/deep/er`)).not.toBeNull();

      const data = recorder();
      const kids = recorder();
      const born = recorder();
      await c.get('/inside', { watch: data.watch });
      await c.children('/', { watch: kids.watch });
      expect(await c.exists('/later', { watch: born.watch })).toBeNull();
      await plain.set(`${r}/inside`, 'y');
      await plain.create(`${r}/later`, '');
      await expect
        .poll(() => data.events, { timeout: 10_000 })
        .toEqual([{ type: 'changed', path: '/inside' }]);
      await expect.poll(() => kids.events, { timeout: 10_000 }).toEqual([{ type: 'children', path: '/' }]);
      await expect
        .poll(() => born.events, { timeout: 10_000 })
        .toEqual([{ type: 'created', path: '/later' }]);
    });

    it('a chroot that does not exist: creates fail with NoNode, exists() of it is null', async () => {
      const c = await t().client({ chroot: `${t().root}/nowhere` });
      await expect(c.create('/x', '')).rejects.toBeInstanceOf(NoNodeError);
      expect(await c.exists('/')).toBeNull();
      expect(await c.exists('/x')).toBeNull();
    });
  });
}
