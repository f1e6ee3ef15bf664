/**
 * Every Stat field after create, set, child create/delete and setACL. Zxids and times are compared by
 * relation and order, never by value: the two targets count from different starts.
 */
import { describe, expect, it } from 'vitest';
import type { Stat } from '../../src/index.js';
import type { Target } from './target.js';

export function statContract(t: Target): void {
  describe('Stat', () => {
    it('after create: versions 0, czxid = mzxid = pzxid, ctime = mtime, sizes, no owner', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, 'héllo');
      const { stat } = await c.get(p);
      expect(stat).toMatchObject({
        version: 0,
        cversion: 0,
        aversion: 0,
        dataLength: Buffer.byteLength('héllo'),
        numChildren: 0,
        ephemeralOwner: '0',
      });
      expect(stat.mzxid).toBe(stat.czxid);
      expect(stat.pzxid).toBe(stat.czxid);
      expect(stat.mtime).toBe(stat.ctime);
      expect(Math.abs(stat.ctime - Date.now())).toBeLessThan(60_000);
      // Every read reports the same Stat.
      expect(await c.exists(p)).toEqual(stat);
      expect((await c.children(p)).stat).toEqual(stat);
      expect((await c.getACL(p)).stat).toEqual(stat);
      await c.create(`${p}-empty`);
      expect((await c.exists(`${p}-empty`))?.dataLength).toBe(0);
    });

    it('each write gets a larger zxid than the one before', async () => {
      const c = await t().client();
      const a = `${t().root}/a`;
      const b = `${t().root}/b`;
      await c.create(a, '');
      await c.create(b, '');
      const sa = (await c.exists(a))!;
      const sb = (await c.exists(b))!;
      expect(sb.czxid).toBeGreaterThan(sa.czxid);
      const setA = await c.set(a, 'x');
      expect(setA.mzxid).toBeGreaterThan(sb.czxid);
      const setB = await c.set(b, 'x');
      expect(setB.mzxid).toBeGreaterThan(setA.mzxid);
      expect(setB.mtime).toBeGreaterThanOrEqual(setA.mtime);
    });

    it('after set: version+1, new mzxid and mtime, dataLength; czxid, ctime, pzxid, cversion, aversion kept', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, 'a');
      const before = (await c.exists(p))!;
      const returned = await c.set(p, 'bcd');
      const after = (await c.exists(p))!;
      expect(returned).toEqual(after);
      expect(after.version).toBe(1);
      expect(after.mzxid).toBeGreaterThan(before.mzxid);
      expect(after.mtime).toBeGreaterThanOrEqual(before.mtime);
      expect(after.dataLength).toBe(3);
      expect(after).toMatchObject({
        czxid: before.czxid,
        ctime: before.ctime,
        pzxid: before.pzxid,
        cversion: 0,
        aversion: 0,
        numChildren: 0,
        ephemeralOwner: '0',
      });
      // The same bytes again still count as a change.
      const same = await c.set(p, 'bcd');
      expect(same.version).toBe(2);
      expect(same.mzxid).toBeGreaterThan(after.mzxid);
      // Empty data.
      expect((await c.set(p, '')).dataLength).toBe(0);
      // A set changes nothing on the parent.
      const parent = (await c.exists(t().root))!;
      expect(parent.pzxid).toBe(before.czxid);
      expect(parent.cversion).toBe(1);
    });

    it('after a child create: parent cversion+1, numChildren+1, pzxid = the child czxid; its data untouched', async () => {
      const c = await t().client();
      const p = `${t().root}/parent`;
      await c.create(p, 'data');
      const before = (await c.exists(p))!;
      await c.create(`${p}/kid`, '');
      const kid = (await c.exists(`${p}/kid`))!;
      const after = (await c.exists(p))!;
      expect(after).toMatchObject({
        cversion: 1,
        numChildren: 1,
        pzxid: kid.czxid,
        version: before.version,
        mzxid: before.mzxid,
        mtime: before.mtime,
        czxid: before.czxid,
        aversion: 0,
        dataLength: 4,
      });
      expect(kid.czxid).toBeGreaterThan(before.pzxid);
      // A change below the child is not a change of the parent's children.
      await c.create(`${p}/kid/grandkid`, '');
      await c.set(`${p}/kid`, 'x');
      expect(await c.exists(p)).toEqual(after);
    });

    it('after a child delete: parent cversion+1, numChildren-1, pzxid moves past the child czxid', async () => {
      const c = await t().client();
      const p = `${t().root}/parent`;
      await c.create(p, '');
      await c.create(`${p}/a`, '');
      await c.create(`${p}/b`, '');
      const b = (await c.exists(`${p}/b`))!;
      const before = (await c.exists(p))!;
      expect(before).toMatchObject({ cversion: 2, numChildren: 2, pzxid: b.czxid });
      await c.delete(`${p}/a`);
      const after = (await c.exists(p))!;
      expect(after).toMatchObject({ cversion: 3, numChildren: 1, mzxid: before.mzxid, version: 0 });
      expect(after.pzxid).toBeGreaterThan(before.pzxid);
      // The delete's zxid sits between the writes before and after it.
      await c.create(`${t().root}/later`, '');
      expect((await c.exists(`${t().root}/later`))!.czxid).toBeGreaterThan(after.pzxid);
      await c.delete(`${p}/b`);
      expect(await c.exists(p)).toMatchObject({ cversion: 4, numChildren: 0 });
    });

    it('after setACL: aversion+1; data version, mzxid and mtime kept', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, 'x');
      const before = (await c.exists(p))!;
      await c.setACL(p, [{ perms: 31, scheme: 'world', id: 'anyone' }]);
      const after = (await c.exists(p))!;
      const expected: Partial<Stat> = { ...before, aversion: 1 };
      expect(after).toEqual(expected);
      await c.setACL(p, [{ perms: 31, scheme: 'world', id: 'anyone' }], 1);
      expect((await c.getACL(p)).stat.aversion).toBe(2);
      // setACL is not a change of the parent's children either.
      expect((await c.exists(t().root))?.cversion).toBe(1);
    });

    it('an ephemeral node is owned by the session that made it', async () => {
      const c = await t().client();
      const other = await t().client();
      const p = `${t().root}/e`;
      await c.create(p, '', { mode: 'ephemeral' });
      await other.ready();
      expect((await other.exists(p))?.ephemeralOwner).toBe(c.sessionId);
      expect(c.sessionId).not.toBe(other.sessionId);
      const seq = await c.create(`${t().root}/es-`, '', { mode: 'ephemeral-sequential' });
      expect((await other.exists(seq))?.ephemeralOwner).toBe(c.sessionId);
    });

    it('a delete then re-create gives a new czxid and mzxid and versions from 0', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, 'a');
      await c.set(p, 'b');
      const first = (await c.exists(p))!;
      await c.delete(p);
      await c.create(p, 'b');
      const second = (await c.exists(p))!;
      expect(second.czxid).toBeGreaterThan(first.mzxid);
      expect(second.mzxid).toBe(second.czxid);
      expect(second.version).toBe(0);
    });
  });
}
