/** Every operation and create mode against a real server, with Stat fields and result codes. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BadVersionError,
  ClosedError,
  connect,
  CreateMode,
  DataTooLargeError,
  InvalidACLError,
  InvalidArgumentError,
  InvalidPathError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NodeExistsError,
  NoNodeError,
  NotEmptyError,
  Perms,
  type WatchEvent,
} from '../src/index.js';
import { ephemeralsBySession } from './support/fourLetter.js';
import { eventually, zkSuite } from './support/fixture.js';

const zk = zkSuite();

const digestId = (user: string, password: string) =>
  `${user}:${createHash('sha1').update(`${user}:${password}`).digest('base64')}`;

describe('create', () => {
  it('creates a persistent node and reports a Stat the server agrees with', async () => {
    const c = zk.client();
    const path = `${zk.root}/p`;
    const before = Date.now();
    expect(await c.create(path, 'hello')).toBe(path);
    const { data, stat } = await c.get(path);
    expect(data.toString()).toBe('hello');
    expect(stat).toMatchObject({ version: 0, cversion: 0, aversion: 0, dataLength: 5, numChildren: 0 });
    expect(stat.ephemeralOwner).toBe('0');
    expect(stat.czxid).toBe(stat.mzxid);
    expect(stat.pzxid).toBe(stat.czxid);
    expect(stat.ctime).toBe(stat.mtime);
    expect(stat.ctime).toBeGreaterThanOrEqual(before - 5_000);
    const parent = await c.exists(zk.root);
    expect(parent?.numChildren).toBe(1);
    expect(parent?.pzxid).toBe(stat.czxid);
    expect(parent?.cversion).toBe(1);
  });

  it('creates an ephemeral node owned by the session, removed when the session closes', async () => {
    const c = zk.client();
    const path = `${zk.root}/e`;
    await c.create(path, '', { mode: CreateMode.Ephemeral });
    const stat = await c.exists(path);
    expect(stat?.ephemeralOwner).toBe(c.sessionId);
    const dump = await ephemeralsBySession(zk.connectString);
    expect([...dump.values()].flat()).toContain(path);
    await c.close();
    const other = zk.client();
    expect(await other.exists(path)).toBeNull();
  });

  it('names sequential nodes with a 10-digit counter from the parent, protected by a GUID', async () => {
    const c = zk.client();
    const a = await c.create(`${zk.root}/item-`, 'a', { mode: CreateMode.PersistentSequential });
    const b = await c.create(`${zk.root}/item-`, 'b', { mode: CreateMode.EphemeralSequential });
    expect(a).toMatch(new RegExp(`^${zk.root}/_c_[0-9a-f-]{36}-item-0000000000$`));
    expect(b).toMatch(new RegExp(`^${zk.root}/_c_[0-9a-f-]{36}-item-0000000001$`));
    const plain = await c.create(`${zk.root}/plain-`, '', {
      mode: CreateMode.PersistentSequential,
      protect: false,
    });
    expect(plain).toBe(`${zk.root}/plain-0000000002`);
    const bare = await c.create(`${zk.root}/`, '', { mode: CreateMode.PersistentSequential, protect: false });
    expect(bare).toBe(`${zk.root}/0000000003`);
    expect((await c.exists(b))?.ephemeralOwner).toBe(c.sessionId);
  });

  it('creates container nodes (stat as persistent) and TTL nodes', async () => {
    const c = zk.client();
    await c.create(`${zk.root}/box`, '', { mode: CreateMode.Container });
    expect((await c.exists(`${zk.root}/box`))?.ephemeralOwner).toBe('0');
    const ttl = await c.create(`${zk.root}/t`, 'x', { mode: CreateMode.PersistentWithTtl, ttl: 60_000 });
    expect(ttl).toBe(`${zk.root}/t`);
    const seq = await c.create(`${zk.root}/ts-`, 'x', {
      mode: CreateMode.PersistentSequentialWithTtl,
      ttl: 60_000,
      protect: false,
    });
    expect(seq).toMatch(/ts-\d{10}$/);
    // The server keeps a TTL in ephemeralOwner but shows clients 0, as for a container.
    expect((await c.exists(ttl))?.ephemeralOwner).toBe('0');
  });

  it('creates missing parents when asked, as persistent or container nodes', async () => {
    const c = zk.client();
    await expect(c.create(`${zk.root}/a/b/c`, 'x')).rejects.toBeInstanceOf(NoNodeError);
    await c.create(`${zk.root}/a/b/c`, 'x', { createParents: true });
    expect((await c.get(`${zk.root}/a/b/c`)).data.toString()).toBe('x');
    await c.create(`${zk.root}/k/l`, '', { createParents: 'container' });
    expect(await c.exists(`${zk.root}/k`)).not.toBeNull();
    // An existing parent is fine.
    await c.create(`${zk.root}/a/b/d`, '', { createParents: true });
    expect((await c.children(`${zk.root}/a/b`)).children.sort()).toEqual(['c', 'd']);
  });

  it('maps result codes to typed errors', async () => {
    const c = zk.client();
    const p = `${zk.root}/n`;
    await c.create(p, '');
    await expect(c.create(p, '')).rejects.toBeInstanceOf(NodeExistsError);
    await expect(c.create(p, '')).rejects.toMatchObject({ code: -110, path: p, name: 'NodeExistsError' });
    await expect(c.create(`${zk.root}/missing/x`, '')).rejects.toMatchObject({ code: -101 });
    await c.create(`${zk.root}/eph`, '', { mode: 'ephemeral' });
    await expect(c.create(`${zk.root}/eph/child`, '')).rejects.toBeInstanceOf(NoChildrenForEphemeralsError);
    await expect(c.delete(zk.root)).rejects.toBeInstanceOf(NotEmptyError);
    await expect(c.set(p, 'x', 7)).rejects.toBeInstanceOf(BadVersionError);
    await expect(c.delete(p, 3)).rejects.toBeInstanceOf(BadVersionError);
    await expect(c.get(`${zk.root}/nope`)).rejects.toBeInstanceOf(NoNodeError);
    await expect(c.children(`${zk.root}/nope`)).rejects.toBeInstanceOf(NoNodeError);
    await expect(c.set(`${zk.root}/nope`, 'x')).rejects.toBeInstanceOf(NoNodeError);
    await expect(c.delete(`${zk.root}/nope`)).rejects.toBeInstanceOf(NoNodeError);
    await expect(c.getACL(`${zk.root}/nope`)).rejects.toBeInstanceOf(NoNodeError);
    // An 'auth' ACL without any authenticated id is invalid.
    await expect(c.setACL(p, [{ perms: Perms.All, scheme: 'auth', id: '' }])).rejects.toBeInstanceOf(
      InvalidACLError,
    );
    // The C client's strings never leak: messages are ours.
    await c.get(`${zk.root}/nope`).catch((e: Error) => expect(e.message).toBe(`no node: ${zk.root}/nope`));
  });
});

describe('get / set / delete / exists / children / sync', () => {
  it('sets with versions and reports the new Stat', async () => {
    const c = zk.client();
    const p = `${zk.root}/v`;
    await c.create(p, 'a');
    const s1 = await c.set(p, 'bb', 0);
    expect(s1).toMatchObject({ version: 1, dataLength: 2 });
    expect(s1.mzxid).toBeGreaterThan(s1.czxid);
    const s2 = await c.set(p, new Uint8Array([1, 2, 3]));
    expect(s2.version).toBe(2);
    expect([...(await c.get(p)).data]).toEqual([1, 2, 3]);
    await c.delete(p, 2);
    expect(await c.exists(p)).toBeNull();
  });

  it('exists returns null for a missing node, never an error, and its watch fires on create', async () => {
    const c = zk.client();
    const p = `${zk.root}/later`;
    const events: WatchEvent[] = [];
    expect(await c.exists(p, { watch: (e) => events.push(e) })).toBeNull();
    await c.create(p, '');
    await eventually(() => expect(events).toEqual([{ type: 'created', path: p }]));
  });

  it('fires one-shot data, delete and child watches once each', async () => {
    const c = zk.client();
    const p = `${zk.root}/w`;
    await c.create(p, '');
    const events: WatchEvent[] = [];
    await c.get(p, { watch: (e) => events.push(e) });
    await c.children(p, { watch: (e) => events.push(e) });
    await c.set(p, '1');
    await c.set(p, '2');
    await c.create(`${p}/kid`, '');
    await eventually(() => expect(events).toHaveLength(2));
    expect(events).toEqual([
      { type: 'changed', path: p },
      { type: 'children', path: p },
    ]);
    const deleted: WatchEvent[] = [];
    await c.exists(`${p}/kid`, { watch: (e) => deleted.push(e) });
    await c.delete(`${p}/kid`);
    await eventually(() => expect(deleted).toEqual([{ type: 'deleted', path: `${p}/kid` }]));
  });

  it('lists children with the parent Stat; sync resolves', async () => {
    const c = zk.client();
    for (const n of ['x', 'y', 'z']) await c.create(`${zk.root}/${n}`, '');
    const { children, stat } = await c.children(zk.root);
    expect(children.sort()).toEqual(['x', 'y', 'z']);
    expect(stat.numChildren).toBe(3);
    expect(stat.cversion).toBe(3);
    await expect(c.sync(zk.root)).resolves.toBeUndefined();
  });

  it('works under a chroot from the connect string', async () => {
    const c = zk.client({ connectString: `${zk.connectString}${zk.root}` });
    await c.create('/inside', 'x');
    expect((await c.children('/')).children).toEqual(['inside']);
    const plain = zk.client();
    expect((await plain.get(`${zk.root}/inside`)).data.toString()).toBe('x');
  });
});

describe('ACLs and digest auth', () => {
  it('restricts a node to a digest identity and lets an authenticated client in', async () => {
    const owner = zk.client({ auth: [{ scheme: 'digest', credentials: 'alice:secret' }] });
    const p = `${zk.root}/secret`;
    await owner.create(p, 'x');
    await owner.setACL(p, [{ perms: Perms.All, scheme: 'digest', id: digestId('alice', 'secret') }]);
    const { acl, stat } = await owner.getACL(p);
    expect(acl).toEqual([{ perms: Perms.All, scheme: 'digest', id: digestId('alice', 'secret') }]);
    expect(stat.aversion).toBe(1);
    expect((await owner.get(p)).data.toString()).toBe('x');

    const stranger = zk.client();
    await expect(stranger.get(p)).rejects.toBeInstanceOf(NoAuthError);
    await expect(stranger.set(p, 'y')).rejects.toBeInstanceOf(NoAuthError);
    await stranger.addAuth('digest', 'alice:secret');
    expect((await stranger.get(p)).data.toString()).toBe('x');
    // Open it again so the fixture can clean up.
    await owner.setACL(p, [{ perms: Perms.All, scheme: 'world', id: 'anyone' }]);
  });

  it('setACL checks the ACL version', async () => {
    const c = zk.client();
    const p = `${zk.root}/acl`;
    await c.create(p, '');
    await expect(
      c.setACL(p, [{ perms: Perms.All, scheme: 'world', id: 'anyone' }], 5),
    ).rejects.toBeInstanceOf(BadVersionError);
  });
});

describe('validation', () => {
  it('rejects bad input before sending, naming the argument and the rule', async () => {
    const c = zk.client();
    await expect(c.create('no-slash', '')).rejects.toMatchObject({
      name: 'InvalidPathError',
      argument: 'path',
      rule: "must start with '/'",
    });
    await expect(c.get('/a//b')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(c.set(`${zk.root}/x`, 'x', -2)).rejects.toMatchObject({ argument: 'version' });
    await expect(c.create(`${zk.root}/t`, '', { mode: 'persistent-ttl' })).rejects.toMatchObject({
      argument: 'options.ttl',
    });
    await expect(c.create(`${zk.root}/t`, '', { mode: 'bogus' as never })).rejects.toMatchObject({
      argument: 'options.mode',
    });
    await expect(c.create(`${zk.root}/t`, 42 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.setACL(`${zk.root}`, [])).rejects.toMatchObject({ argument: 'acl' });
  });

  it('knows the exact data limit the server enforces (jute.maxbuffer less the request)', async () => {
    const c = zk.client();
    const p = `${zk.root}/big`;
    // 1,048,575 bytes in all: create carries xid, type, path, ACL and flags besides the data.
    const overhead = 4 + 4 + 4 + Buffer.byteLength(p) + 4 + 27 + 4;
    const max = 1_048_575 - overhead;
    await expect(c.create(p, Buffer.alloc(max + 1))).rejects.toBeInstanceOf(DataTooLargeError);
    await c.create(p, Buffer.alloc(max));
    expect((await c.exists(p))?.dataLength).toBe(max);
    const setMax = 1_048_575 - (4 + 4 + 4 + Buffer.byteLength(p) + 4 + 4);
    await expect(c.set(p, Buffer.alloc(setMax + 1))).rejects.toBeInstanceOf(DataTooLargeError);
    expect((await c.set(p, Buffer.alloc(setMax))).dataLength).toBe(setMax);
    // Nothing was dropped on the way: the session never saw a connection loss.
    expect(c.state.type).toBe('connected');
  });

  it('bad input never disturbs other operations in flight on the same client', async () => {
    const c = zk.client();
    const good = Array.from({ length: 200 }, (_, i) => c.create(`${zk.root}/ok-${i}`, `${i}`));
    const bad = [
      c.create('bad', ''),
      c.create(`${zk.root}/huge`, Buffer.alloc(2_000_000)),
      c.set(`${zk.root}/x`, 'x', 1.5),
      c.get(`${zk.root}/\u0000`),
      c.delete('/'.repeat(3)),
    ];
    const results = await Promise.allSettled([...good, ...bad]);
    expect(results.slice(0, 200).every((r) => r.status === 'fulfilled')).toBe(true);
    expect(
      results.slice(200).every((r) => r.status === 'rejected' && r.reason instanceof InvalidArgumentError),
    ).toBe(true);
    expect((await c.children(zk.root)).children).toHaveLength(200);
    expect(c.state.type).toBe('connected');
  });
});

describe('close', () => {
  it('is idempotent and fails pending operations with ClosedError', async () => {
    const c = zk.client();
    await c.ready();
    const pending = Array.from({ length: 50 }, (_, i) => c.create(`${zk.root}/c-${i}`, ''));
    const closing = c.close();
    await closing;
    await c.close();
    const results = await Promise.allSettled(pending);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ClosedError);
    }
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
    await expect(c.get(zk.root)).rejects.toBeInstanceOf(ClosedError);
    expect(c.state).toEqual({ type: 'closed' });
  });

  it('closing before the first session fails queued operations with ClosedError', async () => {
    const c = connect('127.0.0.1:1', { connectionTimeout: 30_000 });
    const op = c.get('/');
    await c.close();
    await expect(op).rejects.toBeInstanceOf(ClosedError);
  });
});
