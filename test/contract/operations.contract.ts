/** Operations and their result codes: what each one does, and the typed error it fails with. */
import { describe, expect, it } from 'vitest';
import {
  BadArgumentsError,
  BadVersionError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  type ZkClient,
} from '../../src/index.js';
import type { Target } from './target.js';

/** The transport handle behind the client: lets a test send what the client's validation refuses. */
function handleOf(client: ZkClient) {
  const handle = client.currentHandle();
  if (!handle) throw new Error('the client has no live handle');
  return handle;
}

export function operationsContract(t: Target): void {
  describe('operations and result codes', () => {
    it('create, get, set, delete, exists, children and sync do what they say', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      expect(await c.create(p, 'hello')).toBe(p);
      expect((await c.get(p)).data.toString()).toBe('hello');
      await c.set(p, new Uint8Array([0, 1, 255]));
      expect([...(await c.get(p)).data]).toEqual([0, 1, 255]);
      await c.create(`${p}/b`);
      await c.create(`${p}/a`, '');
      expect((await c.children(p)).children.sort()).toEqual(['a', 'b']);
      expect((await c.get(`${p}/a`)).data.length).toBe(0);
      await expect(c.sync(p)).resolves.toBeUndefined();
      await c.delete(`${p}/a`);
      await c.delete(`${p}/b`, 0);
      await c.delete(p);
      expect(await c.exists(p)).toBeNull();
      expect((await c.children(t().root)).children).toEqual([]);
    });

    it('NoNode: every operation on a missing node but exists(); and a create under a missing parent', async () => {
      const c = await t().client();
      const missing = `${t().root}/missing`;
      await expect(c.get(missing)).rejects.toBeInstanceOf(NoNodeError);
      await expect(c.set(missing, 'x')).rejects.toBeInstanceOf(NoNodeError);
      await expect(c.delete(missing)).rejects.toBeInstanceOf(NoNodeError);
      await expect(c.children(missing)).rejects.toBeInstanceOf(NoNodeError);
      await expect(c.getACL(missing)).rejects.toBeInstanceOf(NoNodeError);
      await expect(c.setACL(missing, [{ perms: 31, scheme: 'world', id: 'anyone' }])).rejects.toBeInstanceOf(
        NoNodeError,
      );
      await expect(c.create(`${missing}/child`, '')).rejects.toBeInstanceOf(NoNodeError);
      await expect(
        c.create(`${missing}/seq-`, '', { mode: 'persistent-sequential', protect: false }),
      ).rejects.toBeInstanceOf(NoNodeError);
      expect(await c.exists(missing)).toBeNull();
      // A missing node wins over a version mismatch.
      await expect(c.set(missing, 'x', 5)).rejects.toBeInstanceOf(NoNodeError);
      await expect(c.delete(missing, 5)).rejects.toBeInstanceOf(NoNodeError);
      await expect(c.get(missing)).rejects.toMatchObject({ code: -101, name: 'NoNodeError' });
    });

    it('NodeExists: a second create of the same path, whatever the mode', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, 'first');
      await expect(c.create(p, 'second')).rejects.toBeInstanceOf(NodeExistsError);
      await expect(c.create(p, '', { mode: 'ephemeral' })).rejects.toBeInstanceOf(NodeExistsError);
      await expect(c.create(p, '', { mode: 'container' })).rejects.toBeInstanceOf(NodeExistsError);
      await expect(c.create(p, '', { mode: 'persistent-ttl', ttl: 60_000 })).rejects.toBeInstanceOf(
        NodeExistsError,
      );
      await expect(c.create(p, '')).rejects.toMatchObject({ code: -110, name: 'NodeExistsError' });
      // The failed creates changed nothing.
      const { data, stat } = await c.get(p);
      expect(data.toString()).toBe('first');
      expect(stat.version).toBe(0);
      expect((await c.exists(t().root))?.cversion).toBe(1);
      await expect(c.create(t().root, '')).rejects.toBeInstanceOf(NodeExistsError);
    });

    it('BadVersion: set, delete and setACL with a version that does not match', async () => {
      const c = await t().client();
      const p = `${t().root}/v`;
      await c.create(p, 'a');
      await expect(c.set(p, 'x', 1)).rejects.toBeInstanceOf(BadVersionError);
      await expect(c.delete(p, 1)).rejects.toBeInstanceOf(BadVersionError);
      await expect(c.setACL(p, [{ perms: 31, scheme: 'world', id: 'anyone' }], 1)).rejects.toBeInstanceOf(
        BadVersionError,
      );
      expect((await c.set(p, 'b', 0)).version).toBe(1);
      await expect(c.set(p, 'c', 0)).rejects.toMatchObject({ code: -103, name: 'BadVersionError' });
      // The data version and the ACL version are separate counters.
      await c.setACL(p, [{ perms: 31, scheme: 'world', id: 'anyone' }], 0);
      await expect(c.setACL(p, [{ perms: 31, scheme: 'world', id: 'anyone' }], 0)).rejects.toBeInstanceOf(
        BadVersionError,
      );
      await expect(c.delete(p, 0)).rejects.toBeInstanceOf(BadVersionError);
      await c.delete(p, 1);
      expect(await c.exists(p)).toBeNull();
    });

    it('NotEmpty: a node with children cannot be deleted; it can once they are gone', async () => {
      const c = await t().client();
      const p = `${t().root}/parent`;
      await c.create(p, '');
      await c.create(`${p}/kid`, '');
      await expect(c.delete(p)).rejects.toBeInstanceOf(NotEmptyError);
      await expect(c.delete(p, 0)).rejects.toMatchObject({ code: -111, name: 'NotEmptyError' });
      expect(await c.exists(p)).not.toBeNull();
      await c.delete(`${p}/kid`);
      await c.delete(p);
      expect(await c.exists(p)).toBeNull();
    });

    it('NoChildrenForEphemerals: no child of any mode under an ephemeral node', async () => {
      const c = await t().client();
      const e = `${t().root}/eph`;
      await c.create(e, '', { mode: 'ephemeral' });
      for (const mode of ['persistent', 'ephemeral', 'container'] as const) {
        await expect(c.create(`${e}/kid`, '', { mode })).rejects.toBeInstanceOf(NoChildrenForEphemeralsError);
      }
      await expect(
        c.create(`${e}/kid-`, '', { mode: 'persistent-sequential', protect: false }),
      ).rejects.toBeInstanceOf(NoChildrenForEphemeralsError);
      await expect(
        c.create(`${e}/kid-`, '', { mode: 'ephemeral-sequential', protect: false }),
      ).rejects.toMatchObject({ code: -108 });
      const s = `${t().root}/eseq-`;
      const seq = await c.create(s, '', { mode: 'ephemeral-sequential', protect: false });
      await expect(c.create(`${seq}/kid`, '')).rejects.toBeInstanceOf(NoChildrenForEphemeralsError);
      expect((await c.exists(e))?.numChildren).toBe(0);
      expect((await c.exists(e))?.cversion).toBe(0);
    });

    it('BadArguments: the server refuses a TTL out of range (sent past the client validation)', async () => {
      const c = await t().client();
      const p = `${t().root}/ttl`;
      const data = new Uint8Array(0);
      for (const ttl of [0, -1, -60_000]) {
        await expect(
          handleOf(c).create({ path: p, data, mode: 'persistent-ttl', ttl }),
        ).rejects.toBeInstanceOf(BadArgumentsError);
        await expect(
          handleOf(c).create({ path: `${p}-`, data, mode: 'persistent-sequential-ttl', ttl }),
        ).rejects.toBeInstanceOf(BadArgumentsError);
      }
      expect(await c.exists(p)).toBeNull();
      expect((await c.children(t().root)).children).toEqual([]);
      // (The server takes TTLs up to 2^40-1 ms; the native transport sends an int32, so 2^31-1 is the
      // largest one both targets can be asked for.)
      await handleOf(c).create({ path: p, data, mode: 'persistent-ttl', ttl: 2 ** 31 - 1 });
      expect(await c.exists(p)).not.toBeNull();
    });

    it('errors name the path the caller gave, also under a chroot', async () => {
      const c = await t().client();
      const missing = `${t().root}/missing`;
      await expect(c.get(missing)).rejects.toMatchObject({ path: missing, message: `no node: ${missing}` });
      await expect(c.delete(missing)).rejects.toMatchObject({ path: missing });
      await c.create(missing, '');
      await expect(c.create(missing, '')).rejects.toMatchObject({ path: missing });
      const rooted = await t().client({ chroot: t().root });
      await expect(rooted.get('/nope')).rejects.toMatchObject({ name: 'NoNodeError', path: '/nope' });
      await expect(rooted.create('/missing', '')).rejects.toMatchObject({
        name: 'NodeExistsError',
        path: '/missing',
      });
    });

    it('sync needs no node at the path', async () => {
      const c = await t().client();
      await expect(c.sync(`${t().root}/missing/deeper`)).resolves.toBeUndefined();
      await expect(c.sync('/')).resolves.toBeUndefined();
    });

    it('session ids are hex, one per client', async () => {
      const a = await t().client();
      const b = await t().client();
      expect(a.sessionId).toMatch(/^[0-9a-f]{1,16}$/);
      expect(b.sessionId).toMatch(/^[0-9a-f]{1,16}$/);
      expect(a.sessionId).not.toBe(b.sessionId);
    });

    it('the root and /zookeeper exist and cannot be deleted (BadArguments)', async () => {
      const c = await t().client();
      const stat = await c.exists('/');
      expect(stat).not.toBeNull();
      expect((await c.children('/')).children).toEqual(
        expect.arrayContaining(['zookeeper', t().root.slice(1)]),
      );
      expect(await c.exists('/zookeeper')).toMatchObject({ ephemeralOwner: '0' });
      await expect(c.delete('/')).rejects.toBeInstanceOf(BadArgumentsError);
      await expect(c.delete('/zookeeper')).rejects.toBeInstanceOf(BadArgumentsError);
      expect(await c.exists('/')).not.toBeNull();
      // The server's own nodes: /zookeeper/config is read-only for everyone.
      expect((await c.children('/zookeeper')).children.sort()).toEqual(['config', 'quota']);
      expect((await c.getACL('/zookeeper/config')).acl).toEqual([
        { perms: 1, scheme: 'world', id: 'anyone' },
      ]);
      await expect(c.set('/zookeeper/config', 'x')).rejects.toBeInstanceOf(NoAuthError);
      expect((await c.getACL('/')).acl).toEqual([{ perms: 31, scheme: 'world', id: 'anyone' }]);
    });
  });
}
