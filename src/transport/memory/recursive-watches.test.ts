/**
 * Persistent recursive watches in the engine: the watch tables' modes (unit), and what a memory handle
 * does where the contract suite cannot reach (failed adds, a server restart, a closed handle). The
 * behaviour both targets share is in test/contract/recursive-watches.contract.ts.
 */
import { describe, expect, it } from 'vitest';
import { Code, ZkError } from '../../errors.js';
import type { TransportEvent, TransportHandle, Watcher } from '../port.js';
import type { WatchEvent } from '../../types.js';
import { MemoryZooKeeper } from './server.js';
import { WatchManager } from './watches.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1_000 && !check(); i++) await tick();
  expect(check()).toBe(true);
}

async function open(server: MemoryZooKeeper): Promise<{ handle: TransportHandle; events: TransportEvent[] }> {
  const events: TransportEvent[] = [];
  const handle = server.transport.open({ connectString: 'memory:1', sessionTimeout: 10_000, auth: [] }, (e) =>
    events.push(e),
  );
  await until(() => events.some((e) => e.type === 'connected'));
  return { handle, events };
}

function recorder(): { seen: WatchEvent[]; watch: Watcher } {
  const seen: WatchEvent[] = [];
  return { seen, watch: (e) => seen.push(e) };
}

const mk = (h: TransportHandle, path: string) =>
  h.create({ path, data: bytes(''), mode: 'persistent' }).then(() => undefined);

describe('WatchManager modes', () => {
  it('a recursive registration fires for its path and below, for all but children, and stays', () => {
    const m = new WatchManager();
    m.add('data', '/p', 's', 'recursive');
    expect([...m.trigger('data', '/p/a/b', 'created')]).toEqual(['s']);
    expect([...m.trigger('data', '/p', 'changed')]).toEqual(['s']);
    expect([...m.trigger('data', '/p', 'children')]).toEqual([]);
    expect([...m.trigger('data', '/q', 'created')]).toEqual([]);
    expect([...m.trigger('data', '/pq', 'created')]).toEqual([]);
    expect(m.count()).toBe(1);
  });

  it('a standard one fires on its own path only, once; matches of one session count once', () => {
    const m = new WatchManager();
    m.add('data', '/p', 's', 'recursive');
    m.add('data', '/p/a', 's');
    m.add('data', '/p/a', 't');
    m.add('data', '/p', 't');
    expect([...m.trigger('data', '/p/a', 'changed')].sort()).toEqual(['s', 't']);
    expect(m.count()).toBe(2);
    // t's standard watch on /p is not fired from below, s's one-shot on /p/a is gone.
    expect([...m.trigger('data', '/p/a', 'changed')]).toEqual(['s']);
    expect([...m.trigger('data', '/p', 'changed')].sort()).toEqual(['s', 't']);
    expect(m.count()).toBe(1);
  });

  it('the last registration of a session on a path sets its mode, per table', () => {
    const m = new WatchManager();
    m.add('data', '/p', 's', 'recursive');
    m.add('child', '/p', 's', 'recursive');
    m.add('data', '/p', 's');
    expect([...m.trigger('data', '/p/x', 'created')]).toEqual([]);
    expect([...m.trigger('child', '/p/x', 'deleted')]).toEqual(['s']);
    expect([...m.trigger('data', '/p', 'changed')]).toEqual(['s']);
    expect(m.count()).toBe(1);
    m.add('data', '/p', 's', 'recursive');
    expect([...m.trigger('data', '/p/x', 'created')]).toEqual(['s']);
  });

  it('remove takes a registration whatever its mode; skip leaves sessions told already', () => {
    const m = new WatchManager();
    m.add('data', '/p', 's', 'recursive');
    m.add('data', '/p', 't', 'recursive');
    expect([...m.trigger('data', '/p/x', 'deleted', new Set(['t']))]).toEqual(['s']);
    expect(m.remove('data', '/p', 's')).toBe(true);
    expect(m.remove('data', '/p', 's')).toBe(false);
    // Added back standard, it is a one-shot: the removal took its mode too.
    m.add('data', '/p', 's');
    expect([...m.trigger('data', '/p/x', 'created')]).toEqual(['t']);
    m.removeSession('t');
    expect([...m.trigger('data', '/p/x', 'created')]).toEqual([]);
    m.clear();
    expect(m.count()).toBe(0);
  });
});

describe('recursive watches on a memory handle', () => {
  it('an add that fails leaves no watcher: a bad path, and one sent while the connection is down', async () => {
    const server = new MemoryZooKeeper();
    const [c, w] = [await open(server), await open(server)];
    const h = c.handle;
    await mk(w.handle, '/p');
    const [bad, lost] = [recorder(), recorder()];
    await expect(h.addRecursiveWatch!('p/', bad.watch)).rejects.toMatchObject({ code: Code.BadArguments });
    const id = h.sessionId!;
    server.suspend(id);
    await until(() => c.events.some((e) => e.type === 'disconnected'));
    const failed = await h.addRecursiveWatch!('/p', lost.watch).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ZkError);
    expect((failed as ZkError).code).toBe(Code.ConnectionLoss);
    server.restore(id);
    await until(() => c.events.filter((e) => e.type === 'connected').length === 2);
    // A one-shot watch below it: the event reaches the handle, and must not reach the failed watcher.
    const below = recorder();
    expect(await h.exists('/p/a', below.watch)).toBeNull();
    await mk(w.handle, '/p/a');
    await until(() => below.seen.length === 1);
    expect(lost.seen).toEqual([]);
    expect(server.watchCount()).toBe(0);
    server.close();
  });

  it('a server restart drops it with every watch; the one-shot ones are re-sent, not it', async () => {
    const server = new MemoryZooKeeper();
    const [c, w] = [await open(server), await open(server)];
    await mk(w.handle, '/p');
    const [rw, below] = [recorder(), recorder()];
    await c.handle.addRecursiveWatch!('/p', rw.watch);
    expect(await c.handle.exists('/p/a', below.watch)).toBeNull();
    expect(server.watchCount()).toBe(3);
    server.stop();
    expect(server.watchCount()).toBe(0);
    server.start();
    await until(() => c.events.filter((e) => e.type === 'connected').length === 2);
    await until(() => w.events.filter((e) => e.type === 'connected').length === 2);
    expect(server.watchCount()).toBe(1);
    await mk(w.handle, '/p/a');
    await w.handle.set('/p', bytes('x'), -1);
    await until(() => below.seen.length === 1);
    await tick();
    expect(rw.seen).toEqual([]);
    server.close();
  });

  it('a closed handle hears nothing; its session takes the watch with it', async () => {
    const server = new MemoryZooKeeper();
    const [c, w] = [await open(server), await open(server)];
    const rw = recorder();
    await c.handle.addRecursiveWatch!('/p', rw.watch);
    const writing = mk(w.handle, '/p');
    // The event is on its way when the handle closes.
    void c.handle.close();
    await writing;
    await tick();
    expect(rw.seen).toEqual([]);
    expect(server.watchCount()).toBe(0);
    await expect(c.handle.addRecursiveWatch!('/p', rw.watch)).rejects.toMatchObject({
      code: Code.SessionExpired,
    });
    server.close();
  });
});
