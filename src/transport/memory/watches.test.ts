/** Watch trigger rules, one-shot delivery, ordering, removal, sessions ending, chroot and ACLs. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Code, ZkError } from '../../errors.js';
import type { AuthInfo, TransportEvent, TransportHandle, Watcher } from '../port.js';
import type { WatchEvent } from '../../types.js';
import { MemoryZooKeeper } from './server.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Session {
  handle: TransportHandle;
  events: TransportEvent[];
  id: string;
}

async function session(
  server: MemoryZooKeeper,
  connectString = 'memory:1',
  auth: AuthInfo[] = [],
): Promise<Session> {
  const events: TransportEvent[] = [];
  const handle = server.transport.open({ connectString, sessionTimeout: 10_000, auth }, (e) =>
    events.push(e),
  );
  while (!events.some((e) => e.type === 'connected')) await tick();
  return { handle, events, id: handle.sessionId! };
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

const mk = (h: TransportHandle, path: string, mode: 'persistent' | 'ephemeral' = 'persistent') =>
  h.create({ path, data: bytes(''), mode }).then((created) => created.path);

describe('trigger rules', () => {
  it('get: set fires changed, delete fires deleted; child changes do not', async () => {
    const server = new MemoryZooKeeper();
    const [c, w] = [await session(server), await session(server)];
    await mk(w.handle, '/d');
    const r = recorder();
    await c.handle.get('/d', r.watch);
    await mk(w.handle, '/d/kid');
    await w.handle.delete('/d/kid', -1);
    await tick();
    expect(r.seen).toEqual([]);
    await w.handle.set('/d', bytes('x'), -1);
    await tick();
    expect(r.seen).toEqual([{ type: 'changed', path: '/d' }]);
    const gone = recorder();
    await c.handle.get('/d', gone.watch);
    await w.handle.delete('/d', -1);
    await tick();
    expect(gone.seen).toEqual([{ type: 'deleted', path: '/d' }]);
    expect(r.seen).toHaveLength(1);
    server.close();
  });

  it('exists: on a node it is a data watch; on a missing node create fires created', async () => {
    const server = new MemoryZooKeeper();
    const [c, w] = [await session(server), await session(server)];
    const born = recorder();
    expect(await c.handle.exists('/x', born.watch)).toBeNull();
    expect(server.watchesByPath()).toEqual(new Map([['/x', [c.id]]]));
    await mk(w.handle, '/other');
    await mk(w.handle, '/x');
    await tick();
    expect(born.seen).toEqual([{ type: 'created', path: '/x' }]);
    const data = recorder();
    expect(await c.handle.exists('/x', data.watch)).not.toBeNull();
    await w.handle.set('/x', bytes('1'), -1);
    await w.handle.set('/x', bytes('2'), -1);
    await tick();
    expect(data.seen).toEqual([{ type: 'changed', path: '/x' }]);
    expect(born.seen).toHaveLength(1);
    expect(server.watchCount()).toBe(0);
    server.close();
  });

  it('children: child create/delete fire children, a parent delete fires deleted', async () => {
    const server = new MemoryZooKeeper();
    const [c, w] = [await session(server), await session(server)];
    await mk(w.handle, '/p');
    const one = recorder();
    await c.handle.children('/p', one.watch);
    await w.handle.set('/p', bytes('x'), -1);
    await mk(w.handle, '/p/a');
    await tick();
    expect(one.seen).toEqual([{ type: 'children', path: '/p' }]);
    const two = recorder();
    await c.handle.children('/p', two.watch);
    await w.handle.delete('/p/a', -1);
    await tick();
    expect(two.seen).toEqual([{ type: 'children', path: '/p' }]);
    const three = recorder();
    await c.handle.children('/p', three.watch);
    await w.handle.delete('/p', -1);
    await tick();
    expect(three.seen).toEqual([{ type: 'deleted', path: '/p' }]);
    server.close();
  });

  it('one server watch per session, path and kind; every registered callback is called once', async () => {
    const server = new MemoryZooKeeper();
    const [c, d, w] = [await session(server), await session(server), await session(server)];
    await mk(w.handle, '/n');
    const [a, b, e, k] = [recorder(), recorder(), recorder(), recorder()];
    await c.handle.get('/n', a.watch);
    await c.handle.get('/n', a.watch);
    await c.handle.exists('/n', b.watch);
    await c.handle.children('/n', k.watch);
    await d.handle.get('/n', e.watch);
    expect(server.watchCount()).toBe(3);
    expect(server.watchesByPath().get('/n')?.sort()).toEqual([c.id, d.id].sort());
    await w.handle.delete('/n', -1);
    await tick();
    // The same callback registered twice is called twice, as the C client does.
    expect(a.seen).toEqual([
      { type: 'deleted', path: '/n' },
      { type: 'deleted', path: '/n' },
    ]);
    expect([b.seen, e.seen, k.seen]).toEqual([
      [{ type: 'deleted', path: '/n' }],
      [{ type: 'deleted', path: '/n' }],
      [{ type: 'deleted', path: '/n' }],
    ]);
    expect(server.watchCount()).toBe(0);
    server.close();
  });
});

describe('ordering', () => {
  it('an event reaches the session before the reply of any later request', async () => {
    const server = new MemoryZooKeeper();
    const [c, w] = [await session(server), await session(server)];
    await mk(w.handle, '/n');
    const log: string[] = [];
    await c.handle.get('/n', (e) => log.push(`event ${e.type}`));
    await w.handle.set('/n', bytes('new'), -1);
    const read = await c.handle.get('/n');
    log.push(`read ${Buffer.from(read.data).toString()}`);
    expect(log).toEqual(['event changed', 'read new']);
    // Its own write: the event comes before the write's reply.
    await c.handle.get('/n', (e) => log.push(`own ${e.type}`));
    await c.handle.set('/n', bytes('mine'), -1).then(() => log.push('set replied'));
    expect(log.slice(2)).toEqual(['own changed', 'set replied']);
    server.close();
  });

  it('a reply is seen (its continuation has run) before the next event is dispatched', async () => {
    const server = new MemoryZooKeeper();
    const [c, w] = [await session(server), await session(server)];
    await mk(w.handle, '/n');
    const log: string[] = [];
    // Both the reply and the event are queued before either is delivered.
    const reading = c.handle.get('/n', () => log.push('event'));
    void w.handle.set('/n', bytes('x'), -1);
    await reading.then(() => log.push('reply'));
    await tick();
    expect(log).toEqual(['reply', 'event']);
    server.close();
  });
});

describe('removeWatches', () => {
  it('removes the session watch of that kind; the watcher is never called; resolves when none', async () => {
    const server = new MemoryZooKeeper();
    const [c, w] = [await session(server), await session(server)];
    await mk(w.handle, '/n');
    const [data, kids] = [recorder(), recorder()];
    await c.handle.get('/n', data.watch);
    await c.handle.children('/n', kids.watch);
    expect(server.watchCount()).toBe(2);
    await c.handle.removeWatches!('/n', 'data');
    expect(server.watchCount()).toBe(1);
    await c.handle.removeWatches!('/n', 'data');
    await c.handle.removeWatches!('/elsewhere', 'children');
    await w.handle.set('/n', bytes('x'), -1);
    await mk(w.handle, '/n/kid');
    await tick();
    expect(data.seen).toEqual([]);
    expect(kids.seen).toEqual([{ type: 'children', path: '/n' }]);
    server.close();
  });
});

describe('sessions ending', () => {
  it('close: ephemerals go in one closeSession txn, other sessions hear it, the handle is dead', async () => {
    const server = new MemoryZooKeeper();
    const [owner, w] = [await session(server), await session(server)];
    await mk(w.handle, '/p');
    await mk(owner.handle, '/p/a', 'ephemeral');
    await mk(owner.handle, '/p/b', 'ephemeral');
    expect(server.ephemerals(owner.id)).toEqual(['/p/a', '/p/b']);
    const [gone, kids] = [recorder(), recorder()];
    await w.handle.exists('/p/a', gone.watch);
    await w.handle.children('/p', kids.watch);
    const before = server.lastZxid;
    owner.handle.close();
    expect(server.lastZxid).toBe(before + 1);
    expect(server.sessions()).toEqual([w.id]);
    await tick();
    expect(gone.seen).toEqual([{ type: 'deleted', path: '/p/a' }]);
    expect(kids.seen).toEqual([{ type: 'children', path: '/p' }]);
    expect((await w.handle.exists('/p'))!).toMatchObject({ numChildren: 0, pzxid: before + 1, cversion: 4 });
    expect(await code(owner.handle.get('/p'))).toBe(Code.SessionExpired);
    owner.handle.close();
    expect(owner.events.map((e) => e.type)).toEqual(['connected']);
    server.close();
  });

  it("expire: the handle gets 'expired' after its pending replies, then every op is SessionExpired", async () => {
    const server = new MemoryZooKeeper();
    const [owner, w] = [await session(server), await session(server)];
    await mk(owner.handle, '/e', 'ephemeral');
    const seen = recorder();
    await w.handle.exists('/e', seen.watch);
    const pending = owner.handle.exists('/e');
    server.expire(owner.id);
    expect(await pending).not.toBeNull();
    await tick();
    expect(owner.events.map((e) => e.type)).toEqual(['connected', 'expired']);
    expect(seen.seen).toEqual([{ type: 'deleted', path: '/e' }]);
    expect(await code(owner.handle.exists('/e'))).toBe(Code.SessionExpired);
    expect(server.sessions()).toEqual([w.id]);
    server.close();
  });
});

describe('chroot', () => {
  it('maps paths both ways, in results, errors and events', async () => {
    const server = new MemoryZooKeeper();
    const plain = await session(server);
    await mk(plain.handle, '/app');
    const c = await session(server, 'memory:1/app');
    expect(await mk(c.handle, '/x')).toBe('/x');
    expect(
      (await c.handle.create({ path: '/s-', data: bytes(''), mode: 'persistent-sequential' })).path,
    ).toBe('/s-0000000001');
    expect((await plain.handle.children('/app')).children.sort()).toEqual(['s-0000000001', 'x']);
    expect((await c.handle.exists('/'))!.czxid).toBe((await plain.handle.exists('/app'))!.czxid);
    const [data, kids] = [recorder(), recorder()];
    await c.handle.get('/x', data.watch);
    await c.handle.children('/', kids.watch);
    await plain.handle.set('/app/x', bytes('y'), -1);
    await mk(plain.handle, '/app/z');
    await tick();
    expect(data.seen).toEqual([{ type: 'changed', path: '/x' }]);
    expect(kids.seen).toEqual([{ type: 'children', path: '/' }]);
    await expect(c.handle.get('/missing')).rejects.toMatchObject({ code: Code.NoNode, path: '/missing' });
    server.close();
  });
});

describe('ACLs', () => {
  // DigestAuthenticationProvider: user:base64(sha1("user:password")), computed independently here.
  const aliceId = `alice:${createHash('sha1').update('alice:secret').digest('base64')}`;
  const alice = { perms: 31, scheme: 'digest', id: aliceId };

  it('digest ids, NoAuth per permission, addAuth, masked getACL, auth at open', async () => {
    const server = new MemoryZooKeeper();
    const owner = await session(server, 'memory:1', [{ scheme: 'digest', credentials: 'alice:secret' }]);
    const other = await session(server);
    await mk(owner.handle, '/n');
    await owner.handle.setACL(
      '/n',
      [
        { perms: 1, scheme: 'world', id: 'anyone' },
        { ...alice, perms: 31 },
      ],
      0,
    );
    const { acl, stat } = await owner.handle.getACL('/n');
    expect(acl[1]).toEqual(alice);
    expect(stat.aversion).toBe(1);
    expect((await other.handle.getACL('/n')).acl).toEqual([
      { perms: 1, scheme: 'world', id: 'anyone' },
      { perms: 31, scheme: 'digest', id: 'alice:x' },
    ]);
    expect((await other.handle.get('/n')).data.length).toBe(0);
    expect(await code(other.handle.set('/n', bytes('x'), -1))).toBe(Code.NoAuth);
    expect(await code(mk(other.handle, '/n/kid'))).toBe(Code.NoAuth);
    expect(await code(other.handle.setACL('/n', [{ perms: 31, scheme: 'world', id: 'anyone' }], -1))).toBe(
      Code.NoAuth,
    );
    await other.handle.addAuth({ scheme: 'digest', credentials: 'alice:secret' });
    await mk(other.handle, '/n/kid');
    expect((await other.handle.getACL('/n')).acl[1]?.id).toBe(aliceId);
    await owner.handle.setACL('/n', [{ perms: 0, scheme: 'world', id: 'anyone' }], -1);
    const stranger = await session(server);
    expect(await code(stranger.handle.get('/n'))).toBe(Code.NoAuth);
    expect(await code(stranger.handle.delete('/n/kid', -1))).toBe(Code.NoAuth);
    expect(await stranger.handle.exists('/n')).not.toBeNull();
    expect(await code(stranger.handle.get('/n/missing'))).toBe(Code.NoNode);
    expect(await code(stranger.handle.setACL('/n', [{ perms: 31, scheme: 'auth', id: '' }], -1))).toBe(
      Code.InvalidACL,
    );
    server.close();
  });

  it('an unknown auth scheme fails the handle (authFailed)', async () => {
    const server = new MemoryZooKeeper();
    const c = await session(server);
    expect(await code(c.handle.addAuth({ scheme: 'kerberos?', credentials: 'x' }))).toBe(Code.AuthFailed);
    await tick();
    expect(c.events.map((e) => e.type)).toEqual(['connected', 'authFailed']);
    expect(await code(c.handle.get('/'))).toBe(Code.SessionExpired);
    server.close();
  });
});
