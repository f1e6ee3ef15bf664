/**
 * Persistent recursive watches (ZooKeeper 3.6+ addWatch, mode PERSISTENT_RECURSIVE) through the transport
 * port (`addRecursiveWatch`, `removeRecursiveWatch` of a client's current handle; the client API does not
 * expose them yet). What the 3.8 server does with them, measured, including where it surprises: it
 * registers one in both of its watch tables, under one mode per connection and path per table, so a
 * one-shot watch the same session sets on the same path, and a removeWatches of one kind, take half of it.
 *
 * Most tests write through the watching client itself (`w = c`): its own writes fire its watches as
 * anyone's do (see the watch contract), and each client less saves ~1.5 s of teardown on the real target.
 */
import { describe, expect, it } from 'vitest';
import { Code, Perms, type Acl, type WatchEvent, type ZkClient } from '../../src/index.js';
import type { TransportHandle, Watcher } from '../../src/transport/port.js';
import type { Target } from './target.js';

const poll = { timeout: 10_000 } as const;
const OPEN: Acl[] = [{ perms: Perms.All, scheme: 'world', id: 'anyone' }];

interface Recursive extends TransportHandle {
  addRecursiveWatch(path: string, watcher: Watcher): Promise<void>;
  removeRecursiveWatch(path: string): Promise<void>;
}

/** The client's current handle, which must have recursive watches. */
function handleOf(client: ZkClient): Recursive {
  const handle = client.currentHandle();
  if (!handle) throw new Error('the client has no live handle');
  expect(handle.addRecursiveWatch, 'addRecursiveWatch').toBeTypeOf('function');
  expect(handle.removeRecursiveWatch, 'removeRecursiveWatch').toBeTypeOf('function');
  return handle as Recursive;
}

/** A watcher that records `type path` with the test's root cut off (`created /p/a`). */
function recorder(t: Target): { events: string[]; watch: Watcher } {
  const root = t().root;
  const events: string[] = [];
  const show = (path: string) => (path.startsWith(root) ? path.slice(root.length) || '/' : path);
  return { events, watch: (e: WatchEvent) => events.push(`${e.type} ${show(e.path)}`) };
}

/**
 * Proves that nothing more arrives at `handle`'s watchers from changes made before: arms a one-shot watch
 * outside the recursive ones and fires it. The server sends a session's notifications in order.
 */
async function settle(t: Target, handle: TransportHandle, writer: ZkClient): Promise<void> {
  const probe = `${t().root}/probe-${Math.random().toString(36).slice(2, 8)}`;
  const seen: WatchEvent[] = [];
  expect(await handle.exists(probe, (e) => seen.push(e))).toBeNull();
  await writer.create(probe, '');
  await expect.poll(() => seen, poll).toEqual([{ type: 'created', path: probe }]);
  await writer.delete(probe);
}

export function recursiveWatchesContract(t: Target): void {
  describe('persistent recursive watches', () => {
    it('hear created, changed and deleted at the path and below, every time, never children; the path need not exist', async () => {
      const c = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      const seen = recorder(t);
      await handleOf(c).addRecursiveWatch(p, seen.watch);
      await w.create(p, '');
      await w.create(`${p}/a`, '');
      await w.set(`${p}/a`, '1');
      await w.set(`${p}/a`, '2');
      await w.create(`${p}/a/b`, '', { mode: 'ephemeral' });
      await w.delete(`${p}/a/b`);
      await w.set(p, 'x');
      await w.delete(`${p}/a`);
      await w.delete(p);
      await w.create(p, '');
      // A sibling of the path is not below it.
      await w.create(`${t().root}/p2`, '');
      await settle(t, handleOf(c), w);
      expect(seen.events).toEqual([
        'created /p',
        'created /p/a',
        'changed /p/a',
        'changed /p/a',
        'created /p/a/b',
        'deleted /p/a/b',
        'changed /p',
        'deleted /p/a',
        'deleted /p',
        'created /p',
      ]);
    });

    it('one per path: adding it again replaces the watcher; watches on a path and below it both hear an event, deepest first', async () => {
      const c = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      await w.create(p, '');
      await w.create(`${p}/a`, '');
      const [first, second, deeper] = [recorder(t), recorder(t), recorder(t)];
      const h = handleOf(c);
      await h.addRecursiveWatch(p, first.watch);
      await h.addRecursiveWatch(p, second.watch);
      await w.set(p, '1');
      await expect.poll(() => second.events, poll).toEqual(['changed /p']);
      const order: string[] = [];
      await h.addRecursiveWatch(`${p}/a`, (e) => {
        order.push('deeper');
        deeper.watch(e);
      });
      await h.addRecursiveWatch(p, (e) => {
        order.push('second');
        second.watch(e);
      });
      await w.set(`${p}/a`, '1');
      await expect.poll(() => second.events, poll).toEqual(['changed /p', 'changed /p/a']);
      expect(deeper.events).toEqual(['changed /p/a']);
      expect(order).toEqual(['deeper', 'second']);
      await h.removeRecursiveWatch(`${p}/a`);
      await w.set(`${p}/a`, '2');
      await settle(t, h, w);
      expect(first.events).toEqual([]);
      expect(deeper.events).toEqual(['changed /p/a']);
      expect(second.events).toEqual(['changed /p', 'changed /p/a', 'changed /p/a']);
    });

    it('an event that matches a one-shot and a recursive watch of one session reaches both, once each; other sessions hear it too', async () => {
      const c = await t().client();
      const d = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      await w.create(p, '');
      await w.create(`${p}/a`, '');
      const [rc, rd, got, exist, born] = [recorder(t), recorder(t), recorder(t), recorder(t), recorder(t)];
      await handleOf(c).addRecursiveWatch(p, rc.watch);
      await handleOf(d).addRecursiveWatch(p, rd.watch);
      await handleOf(c).get(`${p}/a`, got.watch);
      expect(await handleOf(c).exists(`${p}/a`, exist.watch)).not.toBeNull();
      expect(await handleOf(c).exists(`${p}/m`, born.watch)).toBeNull();
      await w.set(`${p}/a`, '1');
      await w.create(`${p}/m`, '');
      // The one-shots are used up; the recursive watches go on.
      await w.set(`${p}/a`, '2');
      await w.delete(`${p}/m`);
      await settle(t, handleOf(c), w);
      await settle(t, handleOf(d), w);
      expect(got.events).toEqual(['changed /p/a']);
      expect(exist.events).toEqual(['changed /p/a']);
      expect(born.events).toEqual(['created /p/m']);
      const all = ['changed /p/a', 'created /p/m', 'changed /p/a', 'deleted /p/m'];
      expect(rc.events).toEqual(all);
      expect(rd.events).toEqual(all);
    });

    for (const read of ['get', 'exists'] as const) {
      it(`3.8: a one-shot ${read}() watch on the path itself, set after it, leaves it hearing deletes only`, async () => {
        const c = await t().client();
        const w = c;
        const p = `${t().root}/p`;
        await w.create(p, '');
        await w.create(`${p}/x`, '');
        await w.create(`${p}/y`, '');
        const [rw, once] = [recorder(t), recorder(t)];
        const h = handleOf(c);
        await h.addRecursiveWatch(p, rw.watch);
        expect(await t().watchCount()).toBe(2);
        if (read === 'get') await h.get(p, once.watch);
        else expect(await h.exists(p, once.watch)).not.toBeNull();
        // The data half is a one-shot now: creates and changes below go unheard; the child half, still
        // recursive, reports deletes (it never reports anything else).
        await w.set(`${p}/y`, '1');
        await w.create(`${p}/z`, '');
        await w.delete(`${p}/x`);
        // The path's own change fires the one-shot; the recursive watcher hears it with it.
        await w.set(p, '1');
        await expect.poll(() => once.events, poll).toEqual(['changed /p']);
        await expect.poll(() => t().watchCount(), poll).toBe(1);
        await w.set(p, '2');
        await w.set(`${p}/y`, '2');
        await w.delete(`${p}/y`);
        await w.delete(`${p}/z`);
        await w.delete(p);
        await w.create(p, '');
        await settle(t, h, w);
        expect(rw.events).toEqual([
          'deleted /p/x',
          'changed /p',
          'deleted /p/y',
          'deleted /p/z',
          'deleted /p',
        ]);
        expect(once.events).toEqual(['changed /p']);
        expect(await t().watchCount()).toBe(1);
        await h.removeRecursiveWatch(p);
        expect(await t().watchCount()).toBe(0);
      });
    }

    it('a one-shot exists() on the missing path, set after it: its create is heard by both, then nothing below', async () => {
      const c = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      const [rw, once] = [recorder(t), recorder(t)];
      const h = handleOf(c);
      await h.addRecursiveWatch(p, rw.watch);
      expect(await h.exists(p, once.watch)).toBeNull();
      await w.create(p, '');
      await w.create(`${p}/x`, '');
      await w.set(p, '1');
      await settle(t, h, w);
      expect(once.events).toEqual(['created /p']);
      expect(rw.events).toEqual(['created /p']);
    });

    it('a one-shot children() watch on the path itself leaves it whole; it fires children beside it', async () => {
      const c = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      await w.create(p, '');
      const [rw, kids] = [recorder(t), recorder(t)];
      const h = handleOf(c);
      await h.addRecursiveWatch(p, rw.watch);
      await h.children(p, kids.watch);
      // The one-shot took the place of the child half: still 2, until it fires.
      expect(await t().watchCount()).toBe(2);
      await w.create(`${p}/x`, '');
      await expect.poll(() => kids.events, poll).toEqual(['children /p']);
      await expect.poll(() => t().watchCount(), poll).toBe(1);
      await w.create(`${p}/y`, '');
      await w.set(p, '1');
      await w.set(`${p}/x`, '1');
      await w.delete(`${p}/x`);
      await settle(t, h, w);
      expect(rw.events).toEqual([
        'created /p/x',
        'created /p/y',
        'changed /p',
        'changed /p/x',
        'deleted /p/x',
      ]);
      expect(kids.events).toEqual(['children /p']);
    });

    it('a one-shot watch on the path set before it joins it: fired once by the client, the recursive watch stays', async () => {
      const c = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      await w.create(p, '');
      const [rw, once] = [recorder(t), recorder(t)];
      const h = handleOf(c);
      await h.get(p, once.watch);
      await h.addRecursiveWatch(p, rw.watch);
      expect(await t().watchCount()).toBe(2);
      await w.create(`${p}/x`, '');
      await w.set(p, '1');
      await w.set(p, '2');
      await settle(t, h, w);
      expect(once.events).toEqual(['changed /p']);
      expect(rw.events).toEqual(['created /p/x', 'changed /p', 'changed /p']);
      expect(await t().watchCount()).toBe(2);
    });

    it("removal takes the session's one-shot watches on the path itself too, without calling them; those below stay; nothing to remove resolves", async () => {
      const c = await t().client();
      const d = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      await w.create(p, '');
      const [rw, got, kids, below, other] = [recorder(t), recorder(t), recorder(t), recorder(t), recorder(t)];
      const h = handleOf(c);
      await h.get(p, got.watch);
      await h.children(p, kids.watch);
      await h.addRecursiveWatch(p, rw.watch);
      expect(await h.exists(`${p}/a`, below.watch)).toBeNull();
      await handleOf(d).get(p, other.watch);
      expect(await t().watchCount()).toBe(4);
      await h.removeRecursiveWatch(p);
      expect(await t().watchCount()).toBe(2);
      await w.create(`${p}/a`, '');
      await w.set(p, '1');
      await w.create(`${p}/b`, '');
      await settle(t, h, w);
      expect(below.events).toEqual(['created /p/a']);
      expect(other.events).toEqual(['changed /p']);
      expect(rw.events).toEqual([]);
      expect(got.events).toEqual([]);
      expect(kids.events).toEqual([]);
      expect(await t().watchCount()).toBe(0);
      await expect(h.removeRecursiveWatch(p)).resolves.toBeUndefined();
      await expect(h.removeRecursiveWatch(`${t().root}/never`)).resolves.toBeUndefined();
    });

    it('3.8: removeWatches of one kind on the path takes that half of it (the client asks the server even with no watcher of its own there)', async () => {
      const c = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      await w.create(p, '');
      const [dataGone, childGone] = [recorder(t), recorder(t)];
      const h = handleOf(c);
      await h.addRecursiveWatch(p, dataGone.watch);
      await h.removeWatches!(p, 'data');
      expect(await t().watchCount()).toBe(1);
      // The child half alone: deletes only.
      await w.create(`${p}/x`, '');
      await w.set(`${p}/x`, '1');
      await w.delete(`${p}/x`);
      await settle(t, h, w);
      expect(dataGone.events).toEqual(['deleted /p/x']);

      await h.addRecursiveWatch(p, childGone.watch);
      expect(await t().watchCount()).toBe(2);
      await h.removeWatches!(p, 'children');
      expect(await t().watchCount()).toBe(1);
      // The data half alone hears everything (deletes too).
      await w.create(`${p}/y`, '');
      await w.set(`${p}/y`, '1');
      await w.delete(`${p}/y`);
      await settle(t, h, w);
      expect(childGone.events).toEqual(['created /p/y', 'changed /p/y', 'deleted /p/y']);
      await h.removeRecursiveWatch(p);
      expect(await t().watchCount()).toBe(0);
    });

    it('the server counts one twice (its data and child tables), once per session and path', async () => {
      const c = await t().client();
      const d = await t().client();
      const p = `${t().root}/p`;
      const noop: Watcher = () => undefined;
      expect(await t().watchCount()).toBe(0);
      await handleOf(c).addRecursiveWatch(p, noop);
      expect(await t().watchCount()).toBe(2);
      await handleOf(c).addRecursiveWatch(p, noop);
      expect(await t().watchCount()).toBe(2);
      await handleOf(c).addRecursiveWatch(`${p}/a`, noop);
      expect(await t().watchCount()).toBe(4);
      await handleOf(d).addRecursiveWatch(p, noop);
      expect(await t().watchCount()).toBe(6);
      // A one-shot below it is a watch of its own.
      expect(await handleOf(c).exists(`${p}/a/b`, noop)).toBeNull();
      expect(await t().watchCount()).toBe(7);
      await handleOf(c).removeRecursiveWatch(`${p}/a`);
      expect(await t().watchCount()).toBe(5);
      await handleOf(c).removeRecursiveWatch(p);
      await handleOf(d).removeRecursiveWatch(p);
      expect(await t().watchCount()).toBe(1);
    });

    it('gone after a reconnection: the one-shot watches come back, the recursive one neither does nor hears their events; added again, it works', async () => {
      const c = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      await w.create(p, '');
      const [rw, below, again] = [recorder(t), recorder(t), recorder(t)];
      const h = handleOf(c);
      await h.addRecursiveWatch(p, rw.watch);
      expect(await h.exists(`${p}/a`, below.watch)).toBeNull();
      await w.create(`${p}/b`, '');
      await expect.poll(() => rw.events, poll).toEqual(['created /p/b']);
      await t().disconnect(c);
      await t().reconnect(c);
      expect(handleOf(c)).toBe(h);
      // SetWatches re-armed the exists watch only.
      await expect.poll(() => t().watchCount(), poll).toBe(1);
      await w.create(`${p}/a`, '');
      await w.create(`${p}/c`, '');
      await w.set(p, '1');
      await expect.poll(() => below.events, poll).toEqual(['created /p/a']);
      await settle(t, h, w);
      expect(rw.events).toEqual(['created /p/b']);
      await h.addRecursiveWatch(p, again.watch);
      await w.create(`${p}/d`, '');
      await expect.poll(() => again.events, poll).toEqual(['created /p/d']);
      expect(rw.events).toEqual(['created /p/b']);
    });

    it('one added while the connection is down fails (ConnectionLoss) and hears nothing after the reconnection', async () => {
      const c = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      await w.create(p, '');
      const [failed, below] = [recorder(t), recorder(t)];
      const h = handleOf(c);
      expect(await h.exists(`${p}/a`, below.watch)).toBeNull();
      await t().disconnect(c);
      const outcome = await h.addRecursiveWatch(p, failed.watch).then(
        () => 'resolved',
        (error: unknown) => (error as { code?: unknown }).code,
      );
      expect(outcome).toBe(Code.ConnectionLoss);
      await t().reconnect(c);
      // The restored one-shot below it fires: its event must not reach the failed watcher.
      await w.create(`${p}/a`, '');
      await expect.poll(() => below.events, poll).toEqual(['created /p/a']);
      await settle(t, h, w);
      expect(failed.events).toEqual([]);
      expect(await t().watchCount()).toBe(0);
    });

    it('gone with an expired session', async () => {
      const c = await t().client();
      const w = c;
      const p = `${t().root}/p`;
      const rw = recorder(t);
      await handleOf(c).addRecursiveWatch(p, rw.watch);
      expect(await t().watchCount()).toBe(2);
      await t().expire(c);
      await expect.poll(() => c.state.type, poll).toBe('connected');
      await w.create(p, '');
      await settle(t, handleOf(c), w);
      expect(rw.events).toEqual([]);
      expect(await t().watchCount()).toBe(0);
    });

    it('withholds the events of nodes the session may not READ, and goes on with the others', async () => {
      const owner = await t().client({ auth: [{ scheme: 'digest', credentials: 'alice:secret' }] });
      const stranger = await t().client();
      const p = `${t().root}/p`;
      await owner.create(p, '');
      const seen = recorder(t);
      const h = handleOf(stranger);
      await h.addRecursiveWatch(p, seen.watch);
      const mine: Acl[] = [{ perms: Perms.All, scheme: 'auth', id: '' }];
      await owner.create(`${p}/s`, 'x', { acl: mine });
      await owner.set(`${p}/s`, 'y');
      // An open node below an unreadable one is heard.
      await owner.create(`${p}/s/open`, '');
      await owner.set(`${p}/s/open`, '1');
      await owner.delete(`${p}/s/open`);
      await owner.delete(`${p}/s`);
      await owner.create(`${p}/o`, '');
      // The watched path itself made unreadable: its own change is withheld, the watch stays.
      await owner.setACL(p, mine);
      await owner.set(p, '1');
      await owner.create(`${p}/o2`, '');
      await owner.setACL(p, OPEN);
      await owner.set(p, '2');
      await settle(t, h, owner);
      expect(seen.events).toEqual([
        'created /p/s/open',
        'changed /p/s/open',
        'deleted /p/s/open',
        'created /p/o',
        'created /p/o2',
        'changed /p',
      ]);
    });

    it('under a chroot: paths are the client’s, and a watch on / covers the chroot', async () => {
      const c = await t().client({ chroot: t().root });
      const [top, q] = [recorder(t), recorder(t)];
      const h = handleOf(c);
      await h.addRecursiveWatch('/', top.watch);
      await h.addRecursiveWatch('/q', q.watch);
      await c.create('/q', '');
      await c.create('/q/r', '');
      await c.set('/', 'x');
      await c.delete('/q/r');
      await expect.poll(() => q.events, poll).toEqual(['created /q', 'created /q/r', 'deleted /q/r']);
      // In order: nothing else came before the last.
      expect(top.events).toEqual(['created /q', 'created /q/r', 'changed /', 'deleted /q/r']);
      await h.removeRecursiveWatch('/q');
      await h.removeRecursiveWatch('/');
      expect(await t().watchCount()).toBe(0);
    });
  });
}
