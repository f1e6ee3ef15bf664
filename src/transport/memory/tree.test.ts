/** The znode tree through the port: create modes, sequential names, Stat, errors, children order. */
import { describe, expect, it } from 'vitest';
import { Code, ZkError } from '../../errors.js';
import type { TransportEvent, TransportHandle } from '../port.js';
import type { CreateMode } from '../../types.js';
import { ChildSet, javaStringHash } from './children.js';
import { MemoryZooKeeper } from './server.js';

const bytes = (s: string) => new TextEncoder().encode(s);

async function session(
  server: MemoryZooKeeper,
  connectString = 'memory:1',
): Promise<{ handle: TransportHandle; events: TransportEvent[] }> {
  const events: TransportEvent[] = [];
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const handle = server.transport.open({ connectString, sessionTimeout: 10_000, auth: [] }, (e) => {
    events.push(e);
    if (e.type === 'connected') connected();
  });
  await ready;
  return { handle, events };
}

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: unknown) => (e instanceof ZkError ? e.code : 'not a ZkError'),
  );

const create = (h: TransportHandle, path: string, mode: CreateMode = 'persistent', ttl?: number) =>
  h.create({ path, data: bytes(''), mode, ttl }).then((created) => created.path);

describe('the initial tree', () => {
  it('has / and /zookeeper with quota and config, as a fresh 3.8 server', async () => {
    const server = new MemoryZooKeeper();
    const { handle } = await session(server);
    const root = await handle.children('/');
    expect(root.children).toEqual(['zookeeper']);
    // DataNode.copyStat reports cversion as 2 * creates - children: -1 on a fresh root.
    expect(root.stat).toMatchObject({
      czxid: 0,
      mzxid: 0,
      cversion: -1,
      numChildren: 1,
      ephemeralOwner: '0',
    });
    expect((await handle.children('/zookeeper')).children.sort()).toEqual(['config', 'quota']);
    const config = await handle.getACL('/zookeeper/config');
    expect(config.acl).toEqual([{ perms: 1, scheme: 'world', id: 'anyone' }]);
    expect(config.stat.aversion).toBe(-1);
    expect(await code(handle.set('/zookeeper/config', bytes('x'), -1))).toBe(Code.NoAuth);
    for (const p of ['/', '/zookeeper', '/zookeeper/quota', '/zookeeper/config']) {
      expect(await code(handle.delete(p, -1))).toBe(Code.BadArguments);
    }
    server.close();
  });
});

describe('create modes', () => {
  it('sets ephemeralOwner only for ephemerals; containers and TTL nodes show 0', async () => {
    const server = new MemoryZooKeeper();
    const { handle } = await session(server);
    const id = handle.sessionId;
    expect(id).toMatch(/^[0-9a-f]+$/);
    const owners: Record<string, string | undefined> = {};
    for (const mode of ['persistent', 'ephemeral', 'container', 'persistent-ttl'] as const) {
      await create(handle, `/${mode}`, mode, mode === 'persistent-ttl' ? 5_000 : undefined);
      owners[mode] = (await handle.exists(`/${mode}`))?.ephemeralOwner;
    }
    expect(owners).toEqual({ persistent: '0', ephemeral: id, container: '0', 'persistent-ttl': '0' });
    expect(server.ephemerals(id!)).toEqual(['/ephemeral']);
    server.close();
  });

  it('names sequential nodes from the parent counter of creates, deletes do not advance it', async () => {
    const server = new MemoryZooKeeper();
    const { handle } = await session(server);
    await create(handle, '/p');
    expect(await create(handle, '/p/a-', 'persistent-sequential')).toBe('/p/a-0000000000');
    expect(await create(handle, '/p/b-', 'ephemeral-sequential')).toBe('/p/b-0000000001');
    await create(handle, '/p/plain');
    expect(await create(handle, '/p/', 'persistent-sequential-ttl', 1000)).toBe('/p/0000000003');
    await handle.delete('/p/a-0000000000', -1);
    await handle.delete('/p/plain', -1);
    expect(await create(handle, '/p/a-', 'persistent-sequential')).toBe('/p/a-0000000004');
    // 5 creates, 2 deletes: clients see 7 changes.
    expect((await handle.exists('/p'))?.cversion).toBe(7);
    // A taken sequential name is NodeExists and does not advance the counter.
    await create(handle, '/p/x-0000000006');
    expect(await code(create(handle, '/p/x-', 'persistent-sequential'))).toBe(Code.NodeExists);
    expect(await code(create(handle, '/p/x-', 'persistent-sequential'))).toBe(Code.NodeExists);
    expect(await create(handle, '/p/y-', 'persistent-sequential')).toBe('/p/y-0000000006');
    server.close();
  });

  it('TTL modes: BadArguments out of range, Unimplemented without extended types', async () => {
    const server = new MemoryZooKeeper();
    const { handle } = await session(server);
    for (const ttl of [0, -1, 2 ** 40, 1.5, undefined]) {
      expect(await code(create(handle, '/t', 'persistent-ttl', ttl))).toBe(Code.BadArguments);
    }
    expect(await code(create(handle, '/t', 'persistent', 1000))).toBe(Code.BadArguments);
    expect(await create(handle, '/t', 'persistent-ttl', 2 ** 40 - 1)).toBe('/t');
    server.close();
    const plain = new MemoryZooKeeper({ extendedTypes: false });
    const other = await session(plain);
    expect(await code(create(other.handle, '/t', 'persistent-ttl', 1000))).toBe(Code.Unimplemented);
    expect(await code(create(other.handle, '/t-', 'persistent-sequential-ttl', 1000))).toBe(
      Code.Unimplemented,
    );
    expect(await create(other.handle, '/c', 'container')).toBe('/c');
    plain.close();
  });

  it('errors: NodeExists, NoNode, NoChildrenForEphemerals, NotEmpty, BadVersion, BadArguments', async () => {
    const server = new MemoryZooKeeper();
    const { handle } = await session(server);
    await create(handle, '/a');
    expect(await code(create(handle, '/a', 'ephemeral'))).toBe(Code.NodeExists);
    expect(await code(create(handle, '/missing/kid'))).toBe(Code.NoNode);
    for (const op of [handle.get('/nope'), handle.children('/nope'), handle.getACL('/nope')]) {
      expect(await code(op)).toBe(Code.NoNode);
    }
    expect(await code(handle.set('/nope', bytes(''), -1))).toBe(Code.NoNode);
    expect(await code(handle.delete('/nope', -1))).toBe(Code.NoNode);
    expect(await handle.exists('/nope')).toBeNull();
    await create(handle, '/e', 'ephemeral');
    for (const mode of ['persistent', 'ephemeral', 'container', 'ephemeral-sequential'] as const) {
      expect(await code(create(handle, '/e/kid', mode))).toBe(Code.NoChildrenForEphemerals);
    }
    await create(handle, '/a/kid');
    expect(await code(handle.delete('/a', -1))).toBe(Code.NotEmpty);
    expect(await code(handle.set('/a', bytes('x'), 3))).toBe(Code.BadVersion);
    expect(await code(handle.delete('/a/kid', 1))).toBe(Code.BadVersion);
    expect(await code(handle.setACL('/a', [{ perms: 31, scheme: 'world', id: 'anyone' }], 2))).toBe(
      Code.BadVersion,
    );
    expect((await handle.set('/a', bytes('x'), 0)).version).toBe(1);
    for (const bad of ['a', '/a/', '/a//b', '/a/./b', '/a/../b', '/a\u0000b']) {
      expect(await code(handle.get(bad))).toBe(Code.BadArguments);
    }
    server.close();
  });
});

describe('Stat and zxids', () => {
  it('every write takes a zxid, failed ones too; pzxid follows child creates and deletes', async () => {
    const server = new MemoryZooKeeper();
    const { handle } = await session(server);
    await create(handle, '/n');
    const first = (await handle.exists('/n'))!;
    expect(first).toMatchObject({ mzxid: first.czxid, pzxid: first.czxid, version: 0, cversion: 0 });
    expect(await code(create(handle, '/n'))).toBe(Code.NodeExists);
    await create(handle, '/m');
    // The failed create used up the zxid between the two.
    expect((await handle.exists('/m'))!.czxid).toBe(first.czxid + 2);
    const set = await handle.set('/n', bytes('abc'), -1);
    expect(set).toMatchObject({ czxid: first.czxid, mzxid: first.czxid + 3, dataLength: 3, version: 1 });
    await create(handle, '/n/kid');
    const kid = (await handle.exists('/n/kid'))!;
    expect((await handle.exists('/n'))!).toMatchObject({ pzxid: kid.czxid, mzxid: set.mzxid, cversion: 1 });
    await handle.delete('/n/kid', -1);
    expect((await handle.exists('/n'))!).toMatchObject({ pzxid: kid.czxid + 1, cversion: 2, numChildren: 0 });
    expect(server.lastZxid).toBe(kid.czxid + 1);
    server.close();
  });
});

describe('children order', () => {
  it("is Java's HashSet order, as the server returns it", () => {
    expect(javaStringHash('hello')).toBe(99162322);
    expect(javaStringHash('Aa')).toBe(javaStringHash('BB'));
    const set = new ChildSet();
    for (const name of ['a', 'b', 'h', 'i']) set.add(name);
    // Capacity 8: h -> bucket 0, a and i -> bucket 1 (insertion order), b -> bucket 2.
    expect(set.values()).toEqual(['h', 'a', 'i', 'b']);
    // Past 6 entries the table doubles to 16: 'q' (113) lands in bucket 1, 'a' (97) too, 'i' (105) in 9.
    for (const name of ['c', 'd', 'q']) set.add(name);
    expect(set.values()).toEqual(['a', 'q', 'b', 'c', 'd', 'h', 'i']);
    set.delete('a');
    set.add('a');
    expect(set.values().slice(0, 2)).toEqual(['q', 'a']);
  });
});
