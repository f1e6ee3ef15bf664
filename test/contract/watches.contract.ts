/**
 * Watch trigger rules: which change fires which watch with which event, one-shot delivery, and the
 * ordering promise (a client sees the event before it sees the change in a later read).
 */
import { describe, expect, it } from 'vitest';
import {
  BadVersionError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  type WatchEvent,
  type ZkClient,
} from '../../src/index.js';
import { recorder, type Target } from './target.js';

const poll = { timeout: 10_000 } as const;

/**
 * Proves that nothing more arrives at `events`: arms a fresh watch, fires it, and waits for its event.
 * The server sends a session's notifications in order, so anything due before it has arrived by then.
 */
async function settle(t: Target, watcher: ZkClient, writer: ZkClient): Promise<void> {
  const probe = `${t().root}/probe-${Math.random().toString(36).slice(2, 8)}`;
  const seen = recorder();
  expect(await watcher.exists(probe, { watch: seen.watch })).toBeNull();
  await writer.create(probe, '');
  await expect.poll(() => seen.events, poll).toEqual([{ type: 'created', path: probe }]);
  await writer.delete(probe);
}

/** Repeats `read` until it returns a value (bounded), and returns that value. */
async function firstRead<T>(read: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`no read saw the change within ${timeoutMs} ms`);
  }
}

export function watchesContract(t: Target): void {
  describe('watch triggers', () => {
    it('data watch (get): set fires changed, delete fires deleted; child changes fire nothing', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/d`;
      await w.create(p, 'a');
      const changed = recorder();
      await c.get(p, { watch: changed.watch });
      await w.create(`${p}/kid`, '');
      await w.delete(`${p}/kid`);
      await w.set(p, 'b');
      await expect.poll(() => changed.events, poll).toEqual([{ type: 'changed', path: p }]);
      const deleted = recorder();
      await c.get(p, { watch: deleted.watch });
      await w.delete(p);
      await expect.poll(() => deleted.events, poll).toEqual([{ type: 'deleted', path: p }]);
      await settle(t, c, w);
      expect(changed.events).toHaveLength(1);
    });

    it('exists watch on a node that exists: set fires changed, delete fires deleted', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/d`;
      await w.create(p, 'a');
      const changed = recorder();
      expect(await c.exists(p, { watch: changed.watch })).not.toBeNull();
      await w.set(p, 'b');
      await expect.poll(() => changed.events, poll).toEqual([{ type: 'changed', path: p }]);
      const deleted = recorder();
      expect(await c.exists(p, { watch: deleted.watch })).not.toBeNull();
      await w.delete(p);
      await expect.poll(() => deleted.events, poll).toEqual([{ type: 'deleted', path: p }]);
    });

    it('exists watch on a missing node: create fires created; it stays one-shot after', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/later`;
      const seen = recorder();
      expect(await c.exists(p, { watch: seen.watch })).toBeNull();
      // A set or delete elsewhere does not fire it.
      await w.create(`${t().root}/other`, '');
      await w.create(p, 'x');
      await expect.poll(() => seen.events, poll).toEqual([{ type: 'created', path: p }]);
      await w.set(p, 'y');
      await w.delete(p);
      await settle(t, c, w);
      expect(seen.events).toEqual([{ type: 'created', path: p }]);
    });

    it('child watch: child create and child delete fire children; data changes of parent or child do not', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/parent`;
      await w.create(p, '');
      await w.create(`${p}/old`, '');
      const created = recorder();
      await c.children(p, { watch: created.watch });
      await w.set(p, 'x');
      await w.set(`${p}/old`, 'x');
      await w.create(`${p}/old/grandkid`, '');
      await settle(t, c, w);
      expect(created.events).toEqual([]);
      await w.create(`${p}/new`, '');
      await expect.poll(() => created.events, poll).toEqual([{ type: 'children', path: p }]);

      const deleted = recorder();
      await c.children(p, { watch: deleted.watch });
      await w.delete(`${p}/old/grandkid`);
      await w.delete(`${p}/old`);
      await expect.poll(() => deleted.events, poll).toEqual([{ type: 'children', path: p }]);

      const sequential = recorder();
      await c.children(p, { watch: sequential.watch });
      await w.create(`${p}/s-`, '', { mode: 'ephemeral-sequential' });
      await expect.poll(() => sequential.events, poll).toEqual([{ type: 'children', path: p }]);
    });

    it('child watch on a parent that is deleted fires deleted for the parent', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/parent`;
      await w.create(p, '');
      const seen = recorder();
      await c.children(p, { watch: seen.watch });
      await w.delete(p);
      await expect.poll(() => seen.events, poll).toEqual([{ type: 'deleted', path: p }]);
    });

    it('a delete fires data, exists and child watches of the node together, and the parent child watch', async () => {
      const c = await t().client();
      const w = await t().client();
      const r = t().root;
      const p = `${r}/n`;
      await w.create(p, '');
      const data = recorder();
      const kids = recorder();
      const parent = recorder();
      await c.get(p, { watch: data.watch });
      await c.children(p, { watch: kids.watch });
      await c.children(r, { watch: parent.watch });
      await w.delete(p);
      await expect.poll(() => data.events, poll).toEqual([{ type: 'deleted', path: p }]);
      await expect.poll(() => kids.events, poll).toEqual([{ type: 'deleted', path: p }]);
      await expect.poll(() => parent.events, poll).toEqual([{ type: 'children', path: r }]);
    });

    it('one-shot: a second change without a new registration fires nothing', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/n`;
      await w.create(p, '');
      const data = recorder();
      const kids = recorder();
      await c.get(p, { watch: data.watch });
      await c.children(p, { watch: kids.watch });
      await w.set(p, '1');
      await w.set(p, '2');
      await w.create(`${p}/a`, '');
      await w.create(`${p}/b`, '');
      await settle(t, c, w);
      expect(data.events).toEqual([{ type: 'changed', path: p }]);
      expect(kids.events).toEqual([{ type: 'children', path: p }]);
      // A new registration fires again.
      await c.get(p, { watch: data.watch });
      await w.set(p, '3');
      await expect.poll(() => data.events, poll).toHaveLength(2);
    });

    it('a change made by the watching client itself fires its watch', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, '');
      const seen = recorder();
      await c.get(p, { watch: seen.watch });
      await c.set(p, 'mine');
      await expect.poll(() => seen.events, poll).toEqual([{ type: 'changed', path: p }]);
    });

    it('every listener of the same path and kind hears the event, in one client and in two', async () => {
      const c = await t().client();
      const d = await t().client();
      const w = await t().client();
      const p = `${t().root}/n`;
      await w.create(p, '');
      const one = recorder();
      const two = recorder();
      const three = recorder();
      await c.get(p, { watch: one.watch });
      await c.exists(p, { watch: two.watch });
      await d.get(p, { watch: three.watch });
      await w.set(p, 'x');
      for (const r of [one, two, three]) {
        await expect.poll(() => r.events, poll).toEqual([{ type: 'changed', path: p }]);
      }
    });

    it('the event arrives before the reply of a later read that sees the change', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/n`;
      await w.create(p, 'old');
      for (let round = 0; round < 5; round++) {
        const seen: WatchEvent[] = [];
        await c.get(p, { watch: (e) => seen.push(e) });
        const writing = w.set(p, `new-${round}`);
        // Read until the change shows; the event must already be in by then.
        const eventsAtChange = await firstRead(async () => {
          const { data } = await c.get(p);
          return data.toString() === `new-${round}` ? [...seen] : undefined;
        });
        expect(eventsAtChange).toEqual([{ type: 'changed', path: p }]);
        await writing;
      }
      // Children too: a child watch fires before children() lists the new child.
      const kids: WatchEvent[] = [];
      await c.children(p, { watch: (e) => kids.push(e) });
      const creating = w.create(`${p}/kid`, '');
      const eventsAtChange = await firstRead(async () => {
        const { children } = await c.children(p);
        return children.includes('kid') ? [...kids] : undefined;
      });
      expect(eventsAtChange).toEqual([{ type: 'children', path: p }]);
      await creating;
      // And an exists watch fires before exists() sees the node.
      const born: WatchEvent[] = [];
      expect(await c.exists(`${p}/b`, { watch: (e) => born.push(e) })).toBeNull();
      const making = w.create(`${p}/b`, '');
      const eventsAtBirth = await firstRead(async () =>
        (await c.exists(`${p}/b`)) === null ? undefined : [...born],
      );
      expect(eventsAtBirth).toEqual([{ type: 'created', path: `${p}/b` }]);
      await making;
    });

    it('a read that fails (NoNode) leaves no watch behind', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/missing`;
      const seen = recorder();
      await expect(c.get(p, { watch: seen.watch })).rejects.toBeInstanceOf(NoNodeError);
      await expect(c.children(p, { watch: seen.watch })).rejects.toBeInstanceOf(NoNodeError);
      expect(await t().watchCount()).toBe(0);
      await w.create(p, '');
      await w.create(`${p}/kid`, '');
      await w.set(p, 'x');
      await settle(t, c, w);
      expect(seen.events).toEqual([]);
    });

    it('one session hears its events in the order the changes were made', async () => {
      const c = await t().client();
      const w = await t().client();
      const r = t().root;
      const seen = recorder();
      for (const n of ['a', 'b', 'c']) await w.create(`${r}/${n}`, '');
      for (const n of ['c', 'a', 'b']) await c.get(`${r}/${n}`, { watch: seen.watch });
      expect(await c.exists(`${r}/d`, { watch: seen.watch })).toBeNull();
      await c.children(r, { watch: seen.watch });
      for (const n of ['b', 'c', 'a']) await w.set(`${r}/${n}`, 'x');
      // One create fires the node's exists watch first, then the parent's child watch.
      await w.create(`${r}/d`, '');
      await expect.poll(() => seen.events.length, poll).toBe(5);
      expect(seen.events).toEqual([
        { type: 'changed', path: `${r}/b` },
        { type: 'changed', path: `${r}/c` },
        { type: 'changed', path: `${r}/a` },
        { type: 'created', path: `${r}/d` },
        { type: 'children', path: r },
      ]);
      // And a delete: the node's watches first, then the parent's.
      const gone = recorder();
      await c.exists(`${r}/d`, { watch: gone.watch });
      await c.children(r, { watch: gone.watch });
      await w.delete(`${r}/d`);
      await expect.poll(() => gone.events.length, poll).toBe(2);
      expect(gone.events).toEqual([
        { type: 'deleted', path: `${r}/d` },
        { type: 'children', path: r },
      ]);
    });

    it("the client's own write: the event is in before the write's reply", async () => {
      const c = await t().client();
      const r = t().root;
      const p = `${r}/n`;
      await c.create(p, '');
      const seen = recorder();
      await c.get(p, { watch: seen.watch });
      await c.children(r, { watch: seen.watch });
      await c.set(p, 'mine');
      expect(seen.events).toEqual([{ type: 'changed', path: p }]);
      await c.create(`${r}/m`, '');
      expect(seen.events).toEqual([
        { type: 'changed', path: p },
        { type: 'children', path: r },
      ]);
    });

    it('failed writes, setACL and sync fire no watch', async () => {
      const c = await t().client();
      const w = await t().client();
      const r = t().root;
      const p = `${r}/n`;
      await w.create(p, '');
      await w.create(`${p}/kid`, '');
      const seen = recorder();
      await c.get(p, { watch: seen.watch });
      await c.children(p, { watch: seen.watch });
      await c.children(r, { watch: seen.watch });
      await expect(w.set(p, 'x', 7)).rejects.toBeInstanceOf(BadVersionError);
      await expect(w.delete(p)).rejects.toBeInstanceOf(NotEmptyError);
      await expect(w.create(`${p}/kid`, '')).rejects.toBeInstanceOf(NodeExistsError);
      await w.setACL(p, [{ perms: 31, scheme: 'world', id: 'anyone' }]);
      await w.setACL(`${p}/kid`, [{ perms: 31, scheme: 'world', id: 'anyone' }]);
      await w.sync(p);
      await settle(t, c, w);
      // settle's probe node is a child of the root: only that fired the root's child watch.
      expect(seen.events).toEqual([{ type: 'children', path: r }]);
    });

    it('the server counts one watch per session, path and kind, and none once they fired', async () => {
      const c = await t().client();
      const d = await t().client();
      const w = await t().client();
      const p = `${t().root}/n`;
      const q = `${t().root}/missing`;
      await w.create(p, '');
      expect(await t().watchCount()).toBe(0);
      const [a, b, k, e, m] = [recorder(), recorder(), recorder(), recorder(), recorder()];
      const fired = () => [a, b, k, e, m].reduce((n, r) => n + r.events.length, 0);
      await c.get(p, { watch: a.watch });
      await c.exists(p, { watch: b.watch });
      await expect.poll(() => t().watchCount(), poll).toBe(1);
      await c.children(p, { watch: k.watch });
      await expect.poll(() => t().watchCount(), poll).toBe(2);
      await d.get(p, { watch: e.watch });
      expect(await c.exists(q, { watch: m.watch })).toBeNull();
      await expect.poll(() => t().watchCount(), poll).toBe(4);
      await w.set(p, 'x');
      await expect.poll(fired, poll).toBe(3);
      // The child watch of c and the exists watch on q are left.
      await expect.poll(() => t().watchCount(), poll).toBe(2);
      await w.create(`${p}/kid`, '');
      await w.create(q, '');
      await expect.poll(fired, poll).toBe(5);
      expect(k.events).toEqual([{ type: 'children', path: p }]);
      expect(m.events).toEqual([{ type: 'created', path: q }]);
      await expect.poll(() => t().watchCount(), poll).toBe(0);
    });

    it('unwatch of the last listener removes the watch from the server', async () => {
      const c = await t().client();
      const p = `${t().root}/n`;
      await c.create(p, '');
      const data = recorder();
      const kids = recorder();
      await c.get(p, { watch: data.watch });
      await c.children(p, { watch: kids.watch });
      await expect.poll(() => t().watchCount(), poll).toBe(2);
      c.unwatch(data.watch);
      await expect.poll(() => t().watchCount(), poll).toBe(1);
      c.unwatch(kids.watch);
      await expect.poll(() => t().watchCount(), poll).toBe(0);
      await c.set(p, 'x');
      await c.create(`${p}/kid`, '');
      const other = await t().client();
      await settle(t, c, other);
      expect(data.events).toEqual([]);
      expect(kids.events).toEqual([]);
    });
  });
}
