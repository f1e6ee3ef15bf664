/**
 * ACLs: which permission each operation needs, digest identities, addAuth, the `auth` scheme and the
 * ACLs the server refuses. Nodes left restricted are leaves whose parent is open, so cleanup (which
 * needs DELETE on the parent only) can remove them.
 */
import { describe, expect, it } from 'vitest';
import { InvalidACLError, NoAuthError, NoNodeError, Perms, type Acl } from '../../src/index.js';
import { digestId, recorder, type Target } from './target.js';

const OPEN: Acl[] = [{ perms: Perms.All, scheme: 'world', id: 'anyone' }];
const alice = (perms: number = Perms.All): Acl => ({
  perms,
  scheme: 'digest',
  id: digestId('alice', 'secret'),
});

export function aclContract(t: Target): void {
  describe('ACLs', () => {
    it('a new node has the open ACL', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, '');
      expect((await c.getACL(p)).acl).toEqual(OPEN);
    });

    it('a digest ACL shuts out other clients until they addAuth the same identity', async () => {
      const owner = await t().client({ auth: [{ scheme: 'digest', credentials: 'alice:secret' }] });
      const stranger = await t().client();
      const p = `${t().root}/secret`;
      await owner.create(p, 'x');
      await owner.setACL(p, [alice()]);
      const { acl, stat } = await owner.getACL(p);
      expect(acl).toEqual([alice()]);
      expect(stat.aversion).toBe(1);
      expect((await owner.get(p)).data.toString()).toBe('x');

      await expect(stranger.get(p)).rejects.toBeInstanceOf(NoAuthError);
      await expect(stranger.get(p)).rejects.toMatchObject({ code: -102, name: 'NoAuthError' });
      await expect(stranger.set(p, 'y')).rejects.toBeInstanceOf(NoAuthError);
      await expect(stranger.children(p)).rejects.toBeInstanceOf(NoAuthError);
      await expect(stranger.getACL(p)).rejects.toBeInstanceOf(NoAuthError);
      await expect(stranger.setACL(p, OPEN)).rejects.toBeInstanceOf(NoAuthError);
      await expect(stranger.create(`${p}/kid`, '')).rejects.toBeInstanceOf(NoAuthError);
      // exists() checks no ACL.
      expect(await stranger.exists(p)).toMatchObject({ aversion: 1, dataLength: 1 });
      // A wrong password is another identity.
      await stranger.addAuth('digest', 'alice:wrong');
      await expect(stranger.get(p)).rejects.toBeInstanceOf(NoAuthError);
      await stranger.addAuth('digest', 'alice:secret');
      expect((await stranger.get(p)).data.toString()).toBe('x');
      await stranger.set(p, 'y');
      expect((await owner.get(p)).data.toString()).toBe('y');
    });

    it('create({ acl }) makes the node restricted from its first moment; createParents gives the parents the same ACL', async () => {
      const owner = await t().client({ auth: [{ scheme: 'digest', credentials: 'alice:secret' }] });
      const stranger = await t().client();
      const p = `${t().root}/made-secret`;
      await owner.create(p, 'x', { acl: [alice()] });
      expect((await owner.getACL(p)).acl).toEqual([alice()]);
      // aversion 0: the ACL came with the create, not with a later setACL (no window of open access).
      expect((await owner.getACL(p)).stat.aversion).toBe(0);
      await expect(stranger.get(p)).rejects.toBeInstanceOf(NoAuthError);
      await expect(stranger.set(p, 'y')).rejects.toBeInstanceOf(NoAuthError);

      const deep = `${t().root}/a/b/leaf`;
      // 'auth' means whoever this session authenticated as: the server stores the digest identity.
      const auth: Acl[] = [{ perms: Perms.All, scheme: 'auth', id: '' }];
      await owner.create(deep, 'z', { acl: auth, createParents: true });
      for (const q of [`${t().root}/a`, `${t().root}/a/b`, deep]) {
        expect((await owner.getACL(q)).acl).toEqual([alice()]);
      }
      await expect(stranger.get(deep)).rejects.toBeInstanceOf(NoAuthError);
      // Cleanup needs DELETE on each parent: open them again from the leaf up.
      await owner.delete(deep);
      await owner.setACL(`${t().root}/a/b`, OPEN);
      await owner.setACL(`${t().root}/a`, OPEN);
    });

    it('create({ acl }) with an ACL the server cannot use fails with InvalidACL and creates nothing', async () => {
      const c = await t().client();
      const p = `${t().root}/bad-acl`;
      // 'auth' with no authenticated identity, and a digest id without its hash part.
      for (const acl of [
        [{ perms: Perms.All, scheme: 'auth', id: '' }],
        [{ perms: Perms.All, scheme: 'digest', id: 'alice' }],
      ]) {
        await expect(c.create(p, '', { acl })).rejects.toBeInstanceOf(InvalidACLError);
        expect(await c.exists(p)).toBeNull();
      }
    });

    it("create2() answers the new node's Stat from the create itself", async () => {
      const c = await t().client();
      const p = `${t().root}/c2`;
      const { path, stat } = await c.create2(`${p}-`, 'abc', { mode: 'ephemeral-sequential' });
      expect(path.startsWith(`${t().root}/_c_`)).toBe(true);
      expect(stat).toEqual(await c.exists(path));
      expect(stat.ephemeralOwner).toBe(c.sessionId);
      expect(stat.dataLength).toBe(3);
      const plain = await c.create2(p, '', { acl: OPEN });
      expect(plain.path).toBe(p);
      expect(plain.stat.czxid).toBeGreaterThan(stat.czxid);
      expect(plain.stat).toEqual(await c.exists(p));
    });

    it('each operation needs its own permission: READ, WRITE, CREATE, DELETE (on the parent), ADMIN', async () => {
      const c = await t().client();
      const r = t().root;
      const p = `${r}/n`;
      await c.create(p, 'x');
      await c.create(`${p}/kid`, '');
      try {
        await c.setACL(p, [{ perms: Perms.Read | Perms.Admin, scheme: 'world', id: 'anyone' }]);
        expect((await c.get(p)).data.toString()).toBe('x');
        expect((await c.children(p)).children).toEqual(['kid']);
        await expect(c.set(p, 'y')).rejects.toBeInstanceOf(NoAuthError);
        await expect(c.create(`${p}/new`, '')).rejects.toBeInstanceOf(NoAuthError);
        await expect(c.delete(`${p}/kid`)).rejects.toBeInstanceOf(NoAuthError);

        await c.setACL(p, [
          { perms: Perms.Write | Perms.Create | Perms.Admin, scheme: 'world', id: 'anyone' },
        ]);
        await expect(c.get(p)).rejects.toBeInstanceOf(NoAuthError);
        await expect(c.children(p)).rejects.toBeInstanceOf(NoAuthError);
        expect((await c.set(p, 'y')).version).toBe(1);
        await c.create(`${p}/new`, '');
        await expect(c.delete(`${p}/new`)).rejects.toBeInstanceOf(NoAuthError);
        // getACL needs READ or ADMIN: ADMIN alone is enough.
        expect((await c.getACL(p)).acl).toHaveLength(1);

        await c.setACL(p, [{ perms: Perms.Delete, scheme: 'world', id: 'anyone' }]);
        await c.delete(`${p}/new`);
        await expect(c.getACL(p)).rejects.toBeInstanceOf(NoAuthError);
        await expect(c.setACL(p, OPEN)).rejects.toBeInstanceOf(NoAuthError);
        // The node's own ACL does not guard its delete: the parent's does (and the parent is open).
        await c.setACL(`${p}/kid`, [{ perms: 0, scheme: 'world', id: 'anyone' }]);
        await c.delete(`${p}/kid`);
        await c.delete(p);
        expect(await c.exists(p)).toBeNull();
      } finally {
        await c.setACL(p, OPEN).catch(() => undefined);
      }
    });

    it('a missing node is NoNode, not NoAuth, under a parent the client may not read', async () => {
      const c = await t().client();
      const p = `${t().root}/closed`;
      await c.create(p, '');
      await c.setACL(p, [{ perms: Perms.Delete, scheme: 'world', id: 'anyone' }]);
      await expect(c.get(`${p}/missing`)).rejects.toBeInstanceOf(NoNodeError);
      expect(await c.exists(`${p}/missing`)).toBeNull();
    });

    it('a read refused with NoAuth leaves no watch; exists() watches, but events need READ', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/closed`;
      await w.create(p, '');
      await w.setACL(p, [{ perms: Perms.Write | Perms.Admin, scheme: 'world', id: 'anyone' }]);
      const refused = recorder();
      await expect(c.get(p, { watch: refused.watch })).rejects.toBeInstanceOf(NoAuthError);
      await expect(c.children(p, { watch: refused.watch })).rejects.toBeInstanceOf(NoAuthError);
      expect(await t().watchCount()).toBe(0);
      // exists() checks no ACL and arms a watch...
      const unread = recorder();
      expect(await c.exists(p, { watch: unread.watch })).not.toBeNull();
      expect(await t().watchCount()).toBe(1);
      // ...but the server sends the event only to sessions that may READ the node: it is used up unsent.
      await w.set(p, 'x');
      await expect.poll(() => t().watchCount(), { timeout: 10_000 }).toBe(0);
      const probe = `${t().root}/probe`;
      const seen = recorder();
      expect(await c.exists(probe, { watch: seen.watch })).toBeNull();
      await w.create(probe, '');
      await expect.poll(() => seen.events, { timeout: 10_000 }).toEqual([{ type: 'created', path: probe }]);
      expect(unread.events).toEqual([]);
      expect(refused.events).toEqual([]);
      // With READ, the same watch is heard. (A fresh client: c still counts its unsent watch as armed.)
      await w.setACL(p, [{ perms: Perms.Read | Perms.Write | Perms.Admin, scheme: 'world', id: 'anyone' }]);
      const d = await t().client();
      const heard = recorder();
      await d.exists(p, { watch: heard.watch });
      await w.set(p, 'y');
      await expect.poll(() => heard.events, { timeout: 10_000 }).toEqual([{ type: 'changed', path: p }]);
    });

    it('getACL with READ but not ADMIN hides digest passwords', async () => {
      const owner = await t().client({ auth: [{ scheme: 'digest', credentials: 'alice:secret' }] });
      const reader = await t().client();
      const p = `${t().root}/n`;
      await owner.create(p, '');
      await owner.setACL(p, [{ perms: Perms.Read, scheme: 'world', id: 'anyone' }, alice()]);
      expect((await owner.getACL(p)).acl).toEqual([
        { perms: Perms.Read, scheme: 'world', id: 'anyone' },
        alice(),
      ]);
      expect((await reader.getACL(p)).acl).toEqual([
        { perms: Perms.Read, scheme: 'world', id: 'anyone' },
        { perms: Perms.All, scheme: 'digest', id: 'alice:x' },
      ]);
    });

    it("the 'auth' scheme stands for the client's authenticated identities", async () => {
      const c = await t().client({ auth: [{ scheme: 'digest', credentials: 'alice:secret' }] });
      const stranger = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, '');
      await expect(stranger.setACL(p, [{ perms: Perms.All, scheme: 'auth', id: '' }])).rejects.toBeInstanceOf(
        InvalidACLError,
      );
      await c.setACL(p, [{ perms: Perms.Read | Perms.Admin, scheme: 'auth', id: '' }]);
      expect((await c.getACL(p)).acl).toEqual([alice(Perms.Read | Perms.Admin)]);
      await expect(stranger.get(p)).rejects.toBeInstanceOf(NoAuthError);
      await c.addAuth('digest', 'bob:pw');
      await c.setACL(p, [{ perms: Perms.All, scheme: 'auth', id: '' }]);
      expect((await c.getACL(p)).acl.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        alice(),
        { perms: Perms.All, scheme: 'digest', id: digestId('bob', 'pw') },
      ]);
    });

    it('refuses ACLs the server cannot use, with InvalidACL, and keeps the old one', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, '');
      const bad: Acl[][] = [
        [{ perms: Perms.All, scheme: 'digest', id: 'no-colon' }],
        [{ perms: Perms.All, scheme: 'world', id: 'bob' }],
        [{ perms: Perms.All, scheme: 'nonsense', id: 'x' }],
        [{ perms: Perms.All, scheme: 'ip', id: 'not-an-address' }],
        [...OPEN, { perms: Perms.All, scheme: 'digest', id: 'no-colon' }],
      ];
      for (const acl of bad) await expect(c.setACL(p, acl)).rejects.toBeInstanceOf(InvalidACLError);
      expect(await c.getACL(p)).toMatchObject({ acl: OPEN, stat: { aversion: 0 } });
      // Valid schemes other than world and digest.
      await c.setACL(p, [...OPEN, { perms: Perms.Read, scheme: 'ip', id: '10.0.0.0/8' }]);
      expect((await c.getACL(p)).acl).toEqual([
        ...OPEN,
        { perms: Perms.Read, scheme: 'ip', id: '10.0.0.0/8' },
      ]);
    });

    it('drops duplicate ACL entries', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, '');
      await c.setACL(p, [...OPEN, ...OPEN]);
      expect((await c.getACL(p)).acl).toEqual(OPEN);
    });
  });
}
