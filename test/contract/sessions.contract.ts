/**
 * Sessions: ephemerals end with their session (close or expiry) and the watches of others fire for
 * them; watches survive a dropped connection and report what changed meanwhile.
 */
import { describe, expect, it } from 'vitest';
import type { SessionState } from '../../src/index.js';
import { recorder, type Target } from './target.js';

const poll = { timeout: 15_000 } as const;

export function sessionsContract(t: Target): void {
  describe('ephemerals', () => {
    it('are removed when their session closes, and fire the watches of other clients', async () => {
      const owner = await t().client();
      const w = await t().client();
      const r = t().root;
      const e = `${r}/e`;
      await owner.create(e, 'x', { mode: 'ephemeral' });
      const seq = await owner.create(`${r}/s-`, '', { mode: 'ephemeral-sequential' });
      await w.create(`${r}/mine`, '', { mode: 'ephemeral' });
      const data = recorder();
      const exists = recorder();
      const kids = recorder();
      await w.get(e, { watch: data.watch });
      await w.exists(seq, { watch: exists.watch });
      await w.children(r, { watch: kids.watch });
      await owner.close();
      await expect.poll(() => data.events, poll).toEqual([{ type: 'deleted', path: e }]);
      await expect.poll(() => exists.events, poll).toEqual([{ type: 'deleted', path: seq }]);
      await expect.poll(() => kids.events, poll).toEqual([{ type: 'children', path: r }]);
      expect(await w.exists(e)).toBeNull();
      expect(await w.exists(seq)).toBeNull();
      // Only the closed session's nodes went.
      expect((await w.children(r)).children).toEqual(['mine']);
      // Both deletes count on the parent.
      expect((await w.exists(r))?.cversion).toBe(5);
    });

    it('are removed when their session expires; the client goes on in a new session', async () => {
      const owner = await t().client();
      const w = await t().client();
      const r = t().root;
      const e = `${r}/e`;
      await owner.create(e, '', { mode: 'ephemeral' });
      const oldSession = owner.sessionId!;
      const states: SessionState['type'][] = [];
      owner.state$.subscribe((s) => states.push(s.type));
      const data = recorder();
      const kids = recorder();
      await w.exists(e, { watch: data.watch });
      await w.children(r, { watch: kids.watch });
      await t().expire(owner);
      await expect.poll(() => data.events, poll).toEqual([{ type: 'deleted', path: e }]);
      await expect.poll(() => kids.events, poll).toEqual([{ type: 'children', path: r }]);
      expect(await w.exists(e)).toBeNull();
      await expect.poll(() => owner.state.type, poll).toBe('connected');
      // (Expiring a real session moves it to another handle first: suspended/reconnected may come before.)
      expect(states[0]).toBe('connected');
      expect(states.slice(-2)).toEqual(['lost', 'connected']);
      expect(states.filter((s) => s === 'lost')).toHaveLength(1);
      expect(owner.sessionId).not.toBe(oldSession);
      await owner.create(e, '', { mode: 'ephemeral' });
      expect((await w.exists(e))?.ephemeralOwner).toBe(owner.sessionId);
    });

    it("a session's end removes only its own nodes: not a node another client put at the same path", async () => {
      const owner = await t().client();
      const w = await t().client();
      const r = t().root;
      await owner.create(`${r}/a`, '', { mode: 'ephemeral' });
      await owner.create(`${r}/b`, '', { mode: 'ephemeral' });
      // Another session may delete an ephemeral; a node of its own then takes the path.
      await w.delete(`${r}/a`);
      await w.create(`${r}/a`, 'mine');
      await w.delete(`${r}/b`);
      await w.create(`${r}/b`, 'mine too', { mode: 'ephemeral' });
      await t().expire(owner);
      await owner.close();
      const seen = recorder();
      await w.children(r, { watch: seen.watch });
      expect((await w.get(`${r}/a`)).data.toString()).toBe('mine');
      expect((await w.exists(`${r}/b`))?.ephemeralOwner).toBe(w.sessionId);
      expect((await w.children(r)).children.sort()).toEqual(['a', 'b']);
    });

    it('watches of an expired session are gone: the new session hears nothing of them', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/n`;
      await w.create(p, '');
      const seen = recorder();
      await c.get(p, { watch: seen.watch });
      await expect.poll(() => t().watchCount(), poll).toBe(1);
      await t().expire(c);
      await expect.poll(() => t().watchCount(), poll).toBe(0);
      await expect.poll(() => c.state.type, poll).toBe('connected');
      await w.set(p, 'x');
      // Prove delivery is done: a fresh watch on the new session fires.
      const fresh = recorder();
      await c.get(p, { watch: fresh.watch });
      await w.set(p, 'y');
      await expect.poll(() => fresh.events, poll).toEqual([{ type: 'changed', path: p }]);
      expect(seen.events).toEqual([]);
    });

    it('a session that expires takes its ephemerals only; persistent nodes it made stay', async () => {
      const c = await t().client();
      const w = await t().client();
      const r = t().root;
      await c.create(`${r}/p`, '');
      await c.create(`${r}/e`, '', { mode: 'ephemeral' });
      await c.create(`${r}/t`, '', { mode: 'persistent-ttl', ttl: 600_000 });
      await c.create(`${r}/box`, '', { mode: 'container' });
      await t().expire(c);
      await expect.poll(async () => (await w.children(r)).children.sort(), poll).toEqual(['box', 'p', 't']);
    });
  });

  describe('session timeout', () => {
    it('is negotiated into 2..20 ticks of the server (tickTime 500 on both targets)', async () => {
      const cases: [number, number][] = [
        [100, 1_000],
        [4_000, 4_000],
        [30_000, 10_000],
      ];
      for (const [asked, granted] of cases) {
        const c = await t().client({ sessionTimeout: asked });
        expect(c.state).toMatchObject({ type: 'connected', sessionTimeout: granted });
      }
    });
  });

  describe('disconnect and reconnect', () => {
    it('the session, its ephemerals and its watches live through a short disconnect', async () => {
      const c = await t().client();
      const w = await t().client();
      const r = t().root;
      const e = `${r}/e`;
      await c.create(e, '', { mode: 'ephemeral' });
      const sessionId = c.sessionId;
      const quiet = recorder();
      await c.get(e, { watch: quiet.watch });
      await t().disconnect(c);
      expect(c.state).toMatchObject({ type: 'suspended', sessionId });
      expect((await w.exists(e))?.ephemeralOwner).toBe(sessionId);
      // A read issued while suspended waits for the connection.
      const reading = c.exists(e);
      await t().reconnect(c);
      expect(c.state).toMatchObject({ type: 'reconnected', sessionId });
      expect((await reading)?.ephemeralOwner).toBe(sessionId);
      // The watch is still armed and fires for a change after the reconnect, not before.
      expect(quiet.events).toEqual([]);
      await w.set(e, 'later');
      await expect.poll(() => quiet.events, poll).toEqual([{ type: 'changed', path: e }]);
    });

    it('changes made while disconnected are delivered after reconnect', async () => {
      const c = await t().client();
      const w = await t().client();
      const r = t().root;
      const changed = `${r}/changed`;
      const deleted = `${r}/deleted`;
      const born = `${r}/born`;
      const parent = `${r}/parent`;
      const viaExists = `${r}/via-exists`;
      for (const p of [changed, deleted, parent, viaExists]) await w.create(p, '');
      const [a, b, d, k, x] = [recorder(), recorder(), recorder(), recorder(), recorder()];
      await c.get(changed, { watch: a.watch });
      await c.get(deleted, { watch: b.watch });
      expect(await c.exists(born, { watch: d.watch })).toBeNull();
      await c.children(parent, { watch: k.watch });
      await c.exists(viaExists, { watch: x.watch });
      await expect.poll(() => t().watchCount(), poll).toBe(5);

      await t().disconnect(c);
      await w.set(changed, 'x');
      await w.delete(deleted);
      await w.create(born, '');
      await w.create(`${parent}/kid`, '');
      await w.set(viaExists, 'x');
      expect([a, b, d, k, x].every((rec) => rec.events.length === 0)).toBe(true);
      await t().reconnect(c);

      await expect.poll(() => a.events, poll).toEqual([{ type: 'changed', path: changed }]);
      await expect.poll(() => b.events, poll).toEqual([{ type: 'deleted', path: deleted }]);
      await expect.poll(() => d.events, poll).toEqual([{ type: 'created', path: born }]);
      await expect.poll(() => k.events, poll).toEqual([{ type: 'children', path: parent }]);
      await expect.poll(() => x.events, poll).toEqual([{ type: 'changed', path: viaExists }]);
      await expect.poll(() => t().watchCount(), poll).toBe(0);
    });

    it('an exists() watch misses a create and delete made meanwhile, and stays armed', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/flash`;
      const q = `${t().root}/gone`;
      await w.create(q, '');
      const flash = recorder();
      const gone = recorder();
      expect(await c.exists(p, { watch: flash.watch })).toBeNull();
      await c.children(q, { watch: gone.watch });
      await t().disconnect(c);
      await w.create(p, '');
      await w.delete(p);
      // The child watch does not miss its node's delete-and-re-create: the new node's pzxid is newer.
      await w.delete(q);
      await w.create(q, '');
      await t().reconnect(c);
      await expect.poll(() => gone.events, poll).toEqual([{ type: 'children', path: q }]);
      expect(flash.events).toEqual([]);
      expect(await t().watchCount()).toBe(1);
      await w.create(p, 'again');
      await expect.poll(() => flash.events, poll).toEqual([{ type: 'created', path: p }]);
    });

    it('a data watch reports a delete and re-create made meanwhile as a change, not as two events', async () => {
      const c = await t().client();
      const w = await t().client();
      const p = `${t().root}/n`;
      await w.create(p, 'v1');
      const seen = recorder();
      await c.get(p, { watch: seen.watch });
      await t().disconnect(c);
      await w.delete(p);
      await w.create(p, 'v2');
      await t().reconnect(c);
      await expect.poll(() => seen.events, poll).toEqual([{ type: 'changed', path: p }]);
      expect((await c.get(p)).data.toString()).toBe('v2');
    });

    it('the same session is back after the disconnect: its id and its ephemerals are the same', async () => {
      const c = await t().client();
      const w = await t().client();
      await c.ready();
      const sessionId = c.sessionId;
      const states: SessionState['type'][] = [];
      c.state$.subscribe((s) => states.push(s.type));
      await t().disconnect(c);
      await w.create(`${t().root}/meanwhile`, '');
      await t().reconnect(c);
      expect(c.sessionId).toBe(sessionId);
      expect(states).toEqual(['connected', 'suspended', 'reconnected']);
      expect((await c.children(t().root)).children).toEqual(['meanwhile']);
      await t().disconnect(c);
      await t().reconnect(c);
      expect(states).toEqual(['connected', 'suspended', 'reconnected', 'suspended', 'reconnected']);
    });
  });
}
