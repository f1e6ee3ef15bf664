/** data$, children$, stat$ and decode against a real server: the promises of DESIGN.md, one by one. */
import type { Observable, Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  children$,
  CreateMode,
  data$,
  decode,
  NoAuthError,
  Perms,
  stat$,
  type ZkClient,
} from '../src/index.js';
import { expireSession, liveStreamCount } from '../src/testing/index.js';
import { watchCount, watchesByPath } from './support/fourLetter.js';
import { eventually, sleep, zkSuite } from './support/fixture.js';

const zk = zkSuite({ tickTime: 500 });

interface Recorder<T> {
  readonly values: T[];
  error?: unknown;
  completed: boolean;
  readonly subscription: Subscription;
}

function record<T>(source: Observable<T>): Recorder<T> {
  const r = { values: [] as T[], error: undefined as unknown, completed: false } as Recorder<T>;
  (r as { subscription: Subscription }).subscription = source.subscribe({
    next: (v) => r.values.push(v),
    error: (e: unknown) => (r.error = e),
    complete: () => (r.completed = true),
  });
  return r;
}

const text = (v: { data: Buffer } | null) => (v === null ? null : v.data.toString());

/** Server watches of this client's session, per path. */
async function sessionWatches(client: ZkClient): Promise<string[]> {
  const byPath = await watchesByPath(zk.connectString);
  const id = `0x${client.sessionId}`;
  return [...byPath].filter(([, sessions]) => sessions.includes(id)).map(([path]) => path);
}

describe('data$', () => {
  it("two clients of one process on one path: one leaving never frees the other's watch", async () => {
    // The binding patch once kept its watcher bookkeeping by path across handles: a's removeWatches
    // freed b's callback, and b's next event aborted the whole process.
    const a = zk.client();
    const b = zk.client();
    const writer = zk.client();
    const p = `${zk.root}/two`;
    await writer.create(p, 'v0');
    const ra = record(data$(a, p));
    const rb = record(data$(b, p));
    await eventually(() => expect([ra.values.length, rb.values.length]).toEqual([1, 1]));
    ra.subscription.unsubscribe();
    await eventually(() => expect(a.armedWatchCount).toBe(0));
    await writer.set(p, 'v1');
    await eventually(() => expect(rb.values.map(text)).toEqual(['v0', 'v1']));
    rb.subscription.unsubscribe();
  });

  it('emits the first state, changes, delete (null) and re-create, each once', async () => {
    const c = zk.client();
    const writer = zk.client();
    const p = `${zk.root}/d`;
    await writer.create(p, 'v0');
    const r = record(data$(c, p));
    await eventually(() => expect(r.values.map(text)).toEqual(['v0']));
    await writer.set(p, 'v1');
    await eventually(() => expect(r.values.map(text)).toEqual(['v0', 'v1']));
    await writer.delete(p);
    await eventually(() => expect(r.values.map(text)).toEqual(['v0', 'v1', null]));
    await writer.create(p, 'v1'); // same bytes as before deletion: mzxid still tells them apart
    await eventually(() => expect(r.values.map(text)).toEqual(['v0', 'v1', null, 'v1']));
    const zxids = r.values.filter((v) => v !== null).map((v) => v!.zxid);
    expect([...zxids].sort((a, b) => a - b)).toEqual(zxids);
    expect(new Set(zxids).size).toBe(zxids.length);
    expect(r.values[1]!.stat.version).toBe(1);
    expect(r.error).toBeUndefined();
    r.subscription.unsubscribe();
  });

  it('emits null for a missing node (never an error), then its creation', async () => {
    const c = zk.client();
    const p = `${zk.root}/later`;
    const r = record(data$(c, p));
    await eventually(() => expect(r.values).toEqual([null]));
    await zk.client().create(p, 'born');
    await eventually(() => expect(r.values.map(text)).toEqual([null, 'born']));
    r.subscription.unsubscribe();
  });

  it('shares one read and one server watch among subscribers; late subscribers get the latest at once', async () => {
    const c = zk.client();
    const p = `${zk.root}/shared`;
    await c.create(p, 'x');
    const subs = Array.from({ length: 100 }, () => record(data$(c, p)));
    await eventually(() => expect(subs.every((s) => s.values.length === 1)).toBe(true));
    expect(await sessionWatches(c)).toEqual([p]);
    expect(liveStreamCount(c)).toBe(1);
    // A late subscriber is served synchronously from the shared replay.
    const late: unknown[] = [];
    const lateSub = data$(c, p).subscribe((v) => late.push(v));
    expect(late.map((v) => text(v as never))).toEqual(['x']);
    lateSub.unsubscribe();
    for (const s of subs) s.subscription.unsubscribe();
    expect(liveStreamCount(c)).toBe(0);
    // The last unsubscribe removed the server watch too; a later write fires nothing anywhere.
    await eventually(async () => expect(await sessionWatches(c)).toEqual([]));
    await c.set(p, 'after');
    await sleep(100);
    expect(subs.every((s) => s.values.length === 1 && s.error === undefined)).toBe(true);
  });

  it('1,000 paths x 10 subscribers: 1,000 server watches', async () => {
    const c = zk.client();
    const paths = Array.from({ length: 1_000 }, (_, i) => `${zk.root}/n${i}`);
    await Promise.all(paths.map((p) => c.create(p, `${p}`)));
    const subs = paths.flatMap((p) => Array.from({ length: 10 }, () => record(data$(c, p))));
    await eventually(() => expect(subs.every((s) => s.values.length === 1)).toBe(true), 20_000);
    expect(await watchCount(zk.connectString)).toBe(1_000);
    expect(c.armedWatchCount).toBe(1_000);
    for (const s of subs) s.subscription.unsubscribe();
    await eventually(async () => expect(await watchCount(zk.connectString)).toBe(0));
  });

  it('errors only for what retrying cannot fix (NoAuth), typed', async () => {
    const owner = zk.client({ auth: [{ scheme: 'digest', credentials: 'u:p' }] });
    const p = `${zk.root}/locked`;
    await owner.create(p, 'x');
    await owner.setACL(p, [{ perms: Perms.All, scheme: 'auth', id: '' }]);
    const r = record(data$(zk.client(), p));
    await eventually(() => expect(r.error).toBeInstanceOf(NoAuthError));
    await owner.setACL(p, [{ perms: Perms.All, scheme: 'world', id: 'anyone' }]);
  });

  it('completes when the client closes', async () => {
    const c = zk.client();
    const r = record(data$(c, zk.root));
    await eventually(() => expect(r.values).toHaveLength(1));
    await c.close();
    expect(r.completed).toBe(true);
  });

  it('rejects a bad path synchronously, by name', () => {
    expect(() => data$(zk.client(), 'nope')).toThrow(/invalid argument 'path'/);
  });
});

describe('children$ and stat$', () => {
  it('children$ emits sorted names on add and remove, null for a missing parent', async () => {
    const c = zk.client();
    const writer = zk.client();
    const p = `${zk.root}/kids`;
    const r = record(children$(c, p));
    await eventually(() => expect(r.values).toEqual([null]));
    await writer.create(p, '');
    await eventually(() => expect(r.values.at(-1)?.children).toEqual([]));
    await writer.create(`${p}/b`, '');
    await writer.create(`${p}/a`, '');
    await eventually(() => expect(r.values.at(-1)?.children).toEqual(['a', 'b']));
    await writer.delete(`${p}/b`);
    await eventually(() => expect(r.values.at(-1)?.children).toEqual(['a']));
    await writer.delete(`${p}/a`);
    await writer.delete(p);
    await eventually(() => expect(r.values.at(-1)).toBeNull());
    // No value twice in a row.
    const keys = r.values.map((v) => (v ? `${v.stat.czxid}:${v.stat.pzxid}` : 'null'));
    for (let i = 1; i < keys.length; i++) expect(keys[i]).not.toBe(keys[i - 1]);
    r.subscription.unsubscribe();
  });

  it('stat$ follows existence and data changes', async () => {
    const c = zk.client();
    const p = `${zk.root}/s`;
    const r = record(stat$(c, p));
    await eventually(() => expect(r.values).toEqual([null]));
    await c.create(p, 'a', { mode: CreateMode.Ephemeral });
    await eventually(() => expect(r.values.at(-1)?.version).toBe(0));
    await c.set(p, 'b');
    await eventually(() => expect(r.values.at(-1)?.version).toBe(1));
    await c.delete(p);
    await eventually(() => expect(r.values.at(-1)).toBeNull());
    expect(r.values).toHaveLength(4);
    r.subscription.unsubscribe();
  });
});

describe('decode', () => {
  it('reports a bad payload and keeps the stream alive', async () => {
    const c = zk.client();
    const p = `${zk.root}/config`;
    await c.create(p, '{"on":true}');
    const r = record(data$(c, p).pipe(decode((t) => JSON.parse(t) as { on: boolean })));
    await eventually(() => expect(r.values).toHaveLength(1));
    await c.set(p, '{broken');
    await eventually(() => expect(r.values).toHaveLength(2));
    await c.set(p, '{"on":false}');
    await eventually(() => expect(r.values).toHaveLength(3));
    expect(r.values.map((v) => (v?.ok ? v.value.on : v?.error.name))).toEqual([true, 'DecodeError', false]);
    expect(r.error).toBeUndefined();
    r.subscription.unsubscribe();
  });
});

describe('across the session', () => {
  /** A few streams, a writer that keeps writing, and a fault in the middle; streams must converge. */
  async function converge(fault: (c: ZkClient) => Promise<void>): Promise<void> {
    const c = zk.client({ sessionTimeout: 4_000 });
    const writer = zk.client({ sessionTimeout: 10_000 });
    const paths = Array.from({ length: 5 }, (_, i) => `${zk.root}/w${i}`);
    await Promise.all(paths.map((p) => writer.create(p, '0')));
    const datas = paths.map((p) => record(data$(c, p)));
    const kids = record(children$(c, zk.root));
    await eventually(() => expect(datas.every((d) => d.values.length === 1)).toBe(true));
    let writing = true;
    let n = 0;
    const writes = (async () => {
      while (writing) {
        const i = n++ % paths.length;
        await writer.set(paths[i]!, `${n}`).catch(() => undefined);
        if (n % 7 === 0) await writer.create(`${zk.root}/extra-${n}`, '').catch(() => undefined);
        await sleep(5);
      }
    })();
    await fault(c);
    await sleep(500);
    writing = false;
    await writes;
    for (const [i, p] of paths.entries()) {
      const server = (await writer.get(p)).data.toString();
      await eventually(() => expect(text(datas[i]!.values.at(-1)!)).toBe(server), 15_000);
    }
    const names = (await writer.children(zk.root)).children.sort();
    await eventually(() => expect(kids.values.at(-1)?.children).toEqual(names), 15_000);
    for (const r of [...datas, kids]) {
      expect(r.error).toBeUndefined();
      expect(r.completed).toBe(false);
      r.subscription.unsubscribe();
    }
  }

  it('a server restart inside the session timeout: streams converge, no error, no completion', async () => {
    await converge(async () => {
      await zk.server.stop();
      await sleep(300);
      await zk.server.start();
    });
  });

  it('a forced session expiry: streams re-read and re-watch on the new session and converge', async () => {
    await converge(async (c) => {
      await expireSession(c);
      await eventually(() => expect(c.state.type).toBe('connected'), 15_000);
    });
  });
});
