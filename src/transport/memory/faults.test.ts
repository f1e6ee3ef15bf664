/**
 * Fault injection and timers on virtual time: connection set-up, suspend/restore with SetWatches,
 * expiry of a session without a connection, server stop/start/close, latency, container/TTL reaping.
 * Time moves in steps; microtasks (deliveries) run between steps.
 */
import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { Code, ZkError } from '../../errors.js';
import type { TransportEvent, TransportHandle, Watcher } from '../port.js';
import type { WatchEvent } from '../../types.js';
import { MemoryZooKeeper, type MemoryZooKeeperOptions } from './server.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

function virtual(options: Omit<MemoryZooKeeperOptions, 'scheduler'> = {}) {
  const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
  const server = new MemoryZooKeeper({ ...options, scheduler });
  /** Moves virtual time to `frame`, running every timer due by then, then lets deliveries happen. */
  const at = async (frame: number) => {
    await drain();
    scheduler.schedule(() => undefined, frame - scheduler.now());
    scheduler.maxFrames = frame;
    scheduler.flush();
    await drain();
  };
  const open = (sessionTimeout = 4_000, connectString = 'memory:1') => {
    const events: TransportEvent[] = [];
    const handle = server.transport.open({ connectString, sessionTimeout, auth: [] }, (e) => events.push(e));
    return { handle, events, types: () => events.map((e) => e.type) };
  };
  return { scheduler, server, at, open };
}

function recorder(): { seen: WatchEvent[]; watch: Watcher } {
  const seen: WatchEvent[] = [];
  return { seen, watch: (e) => seen.push(e) };
}

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: unknown) => (e instanceof ZkError ? e.code : 'not a ZkError'),
  );

const mk = (
  h: TransportHandle,
  path: string,
  mode: 'persistent' | 'ephemeral' | 'container' = 'persistent',
) => h.create({ path, data: bytes(''), mode }).then((created) => created.path);

describe('connection set-up', () => {
  it("delivers 'connected' after a scheduler turn, never inside open(); negotiates the timeout", async () => {
    const { server, at, open } = virtual({ tickTime: 1000 });
    const a = open(500);
    const b = open(60_000);
    const early = a.handle.create({ path: '/early', data: bytes(''), mode: 'persistent' });
    expect(a.events).toEqual([]);
    await drain();
    expect(a.events).toEqual([]);
    expect(server.sessions()).toEqual([]);
    await at(0);
    expect(a.events).toEqual([{ type: 'connected', sessionId: a.handle.sessionId, sessionTimeout: 2_000 }]);
    expect(b.events).toEqual([{ type: 'connected', sessionId: b.handle.sessionId, sessionTimeout: 20_000 }]);
    expect(server.sessions()).toEqual([a.handle.sessionId, b.handle.sessionId]);
    // A request made before the connection was sent once it was up.
    expect((await early).path).toBe('/early');
    server.close();
  });
});

describe('suspend and restore', () => {
  it('drops the connection: disconnected, in-flight replies lost, ops fail fast; restore brings the same session', async () => {
    const { server, at, open } = virtual();
    const c = open();
    await at(0);
    const id = c.handle.sessionId!;
    await mk(c.handle, '/e', 'ephemeral');
    const inFlight = mk(c.handle, '/lost-reply');
    server.suspend(id);
    expect(await code(inFlight)).toBe(Code.ConnectionLoss);
    expect(await code(c.handle.get('/e'))).toBe(Code.ConnectionLoss);
    expect(c.types()).toEqual(['connected', 'disconnected']);
    expect(c.handle.sessionId).toBeUndefined();
    // The create was applied even though its reply was lost.
    expect(server.ephemerals(id)).toEqual(['/e']);
    server.restore(id);
    await drain();
    expect(c.events.at(-1)).toEqual({ type: 'connected', sessionId: id, sessionTimeout: 4_000 });
    expect(await c.handle.exists('/lost-reply')).not.toBeNull();
    server.close();
  });

  it('restores watches as SetWatches does: fires for what changed, re-arms the rest', async () => {
    const { server, at, open } = virtual();
    const c = open();
    const w = open();
    await at(0);
    for (const p of ['/changed', '/deleted', '/parent', '/quiet', '/recreated']) await mk(w.handle, p);
    const [changed, deleted, born, flash, kids, quiet, recreated] = [
      recorder(),
      recorder(),
      recorder(),
      recorder(),
      recorder(),
      recorder(),
      recorder(),
    ];
    await c.handle.get('/changed', changed.watch);
    await c.handle.exists('/deleted', deleted.watch);
    expect(await c.handle.exists('/born', born.watch)).toBeNull();
    expect(await c.handle.exists('/flash', flash.watch)).toBeNull();
    await c.handle.children('/parent', kids.watch);
    await c.handle.get('/quiet', quiet.watch);
    await c.handle.get('/recreated', recreated.watch);
    expect(server.watchCount()).toBe(7);
    const id = c.handle.sessionId!;
    server.suspend(id);
    expect(server.watchCount()).toBe(0);
    await w.handle.set('/changed', bytes('x'), -1);
    await w.handle.delete('/deleted', -1);
    await mk(w.handle, '/born');
    await mk(w.handle, '/flash');
    await w.handle.delete('/flash', -1);
    await mk(w.handle, '/parent/kid');
    await w.handle.delete('/recreated', -1);
    await mk(w.handle, '/recreated');
    await drain();
    server.restore(id);
    await drain();
    expect(changed.seen).toEqual([{ type: 'changed', path: '/changed' }]);
    expect(deleted.seen).toEqual([{ type: 'deleted', path: '/deleted' }]);
    expect(born.seen).toEqual([{ type: 'created', path: '/born' }]);
    expect(kids.seen).toEqual([{ type: 'children', path: '/parent' }]);
    expect(recreated.seen).toEqual([{ type: 'changed', path: '/recreated' }]);
    // The create+delete made meanwhile is missed; that watch and the untouched one are armed again.
    expect(flash.seen).toEqual([]);
    expect(quiet.seen).toEqual([]);
    expect(server.watchesByPath()).toEqual(
      new Map([
        ['/flash', [c.handle.sessionId]],
        ['/quiet', [c.handle.sessionId]],
      ]),
    );
    await mk(w.handle, '/flash');
    await w.handle.set('/quiet', bytes('x'), -1);
    await drain();
    expect(flash.seen).toEqual([{ type: 'created', path: '/flash' }]);
    expect(quiet.seen).toEqual([{ type: 'changed', path: '/quiet' }]);
    server.close();
  });

  it('expires a session without a connection once its timeout has passed (rounded up to a tick)', async () => {
    const { server, at, open } = virtual({ tickTime: 1000 });
    const c = open(4_000);
    const w = open();
    await at(0);
    const id = c.handle.sessionId!;
    await mk(c.handle, '/e', 'ephemeral');
    const gone = recorder();
    await w.handle.exists('/e', gone.watch);
    await at(300);
    server.suspend(id);
    // Suspended at 300 with a 4000 ms timeout: the server's expiry bucket is 5000.
    await at(4_999);
    expect(server.sessions()).toContain(id);
    expect(gone.seen).toEqual([]);
    await at(5_000);
    expect(server.sessions()).not.toContain(id);
    expect(server.ephemerals(id)).toEqual([]);
    expect(gone.seen).toEqual([{ type: 'deleted', path: '/e' }]);
    // The client learns it when it gets through again.
    expect(c.types()).toEqual(['connected', 'disconnected']);
    server.restore(id);
    await drain();
    expect(c.types()).toEqual(['connected', 'disconnected', 'expired']);
    expect(await code(c.handle.get('/'))).toBe(Code.SessionExpired);
    server.close();
  });

  it('a connected session never expires', async () => {
    const { server, at, open } = virtual();
    const c = open();
    await at(0);
    await at(1_000_000);
    expect(server.sessions()).toEqual([c.handle.sessionId]);
    server.close();
  });
});

describe('server stop, start and close', () => {
  it('sessions survive a restart within their timeout; a held-off one expires after it', async () => {
    const { server, at, open } = virtual({ tickTime: 1000 });
    const a = open(4_000);
    const b = open(4_000);
    await at(0);
    await mk(a.handle, '/a', 'ephemeral');
    await mk(b.handle, '/b', 'ephemeral');
    const bId = b.handle.sessionId!;
    server.stop();
    await drain();
    expect([a.types(), b.types()]).toEqual([
      ['connected', 'disconnected'],
      ['connected', 'disconnected'],
    ]);
    expect(await code(a.handle.get('/a'))).toBe(Code.ConnectionLoss);
    // Down for longer than the session timeout: no expiry while the server is down.
    await at(60_000);
    server.suspend(bId);
    server.start();
    await drain();
    expect(a.types()).toEqual(['connected', 'disconnected', 'connected']);
    expect((await a.handle.get('/a')).stat.ephemeralOwner).toBe(a.handle.sessionId);
    await at(64_999);
    expect(server.ephemerals(bId)).toEqual(['/b']);
    await at(65_000);
    expect(server.sessions()).toEqual([a.handle.sessionId]);
    expect(await a.handle.exists('/b')).toBeNull();
    server.close();
  });

  it('close: every handle disconnected, no timer left', async () => {
    const { scheduler, server, at, open } = virtual({ containerCheckInterval: 1000 });
    const a = open();
    await at(0);
    server.setLatency(50);
    const late = open();
    await at(10);
    void a.handle.get('/').catch(() => undefined);
    server.close();
    await drain();
    expect(a.types()).toEqual(['connected', 'disconnected']);
    expect(late.events).toEqual([]);
    expect(scheduler.actions).toEqual([]);
  });
});

describe('latency', () => {
  it('delays replies and events on the scheduler, per session or for all, keeping order', async () => {
    const { server, at, open } = virtual();
    const c = open();
    const w = open();
    await at(0);
    await mk(w.handle, '/n');
    server.setLatency(100, c.handle.sessionId!);
    const log: string[] = [];
    const reading = c.handle.get('/n', (e) => log.push(`event ${e.type}`)).then(() => log.push('reply'));
    await w.handle.set('/n', bytes('x'), -1);
    void c.handle.exists('/n').then(() => log.push('second reply'));
    // w has no latency: its reply came at once.
    await at(99);
    expect(log).toEqual([]);
    await at(100);
    await reading;
    expect(log).toEqual(['reply', 'event changed', 'second reply']);
    // Lowering the latency never lets a later item overtake an earlier one.
    void c.handle.exists('/n').then(() => log.push('slow'));
    server.setLatency(0, c.handle.sessionId!);
    void c.handle.exists('/n').then(() => log.push('fast'));
    await drain();
    expect(log.slice(3)).toEqual([]);
    await at(200);
    expect(log.slice(3)).toEqual(['slow', 'fast']);
    server.close();
  });
});

describe('reaping', () => {
  it('deletes used-and-empty containers and idle empty TTL nodes on the check interval only', async () => {
    const { server, at, open } = virtual({ containerCheckInterval: 1_000 });
    const c = open();
    await at(0);
    const h = c.handle;
    await mk(h, '/box', 'container');
    await mk(h, '/box/kid');
    await mk(h, '/unused', 'container');
    await h.create({ path: '/ttl', data: bytes(''), mode: 'persistent-ttl', ttl: 1_500 });
    await h.create({ path: '/ttl-parent', data: bytes(''), mode: 'persistent-ttl', ttl: 100 });
    await mk(h, '/ttl-parent/kid');
    const seen = recorder();
    await h.get('/box', seen.watch);
    await at(100);
    await h.delete('/box/kid', -1);
    await at(999);
    expect(await h.exists('/box')).not.toBeNull();
    await at(1_000);
    expect(await h.exists('/box')).toBeNull();
    expect(seen.seen).toEqual([{ type: 'deleted', path: '/box' }]);
    // 1000 - 0 is not past the 1500 ms TTL; at 2000 it is.
    expect(await h.exists('/ttl')).not.toBeNull();
    await at(1_600);
    await h.set('/ttl', bytes('touch'), -1);
    await at(3_000);
    expect(await h.exists('/ttl')).not.toBeNull();
    await at(4_000);
    expect(await h.exists('/ttl')).toBeNull();
    expect(await h.exists('/ttl-parent')).not.toBeNull();
    expect(await h.exists('/unused')).not.toBeNull();
    server.close();
  });
});
