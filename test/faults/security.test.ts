/**
 * Fault matrix, row 13 (issue 7): security, on a real ZooKeeper.
 *
 * - Every recipe that creates nodes takes an `acl` option; run with a digest ACL (`scheme: 'digest'`
 *   with the id of alice's password) or `scheme: 'auth'` (stored as the same digest id), every node it
 *   makes, parents included, carries that ACL (getACL), and a session without alice's credentials can
 *   neither read nor write them: get, set, children, getACL, create below, delete below all fail with
 *   NoAuthError, and the stranger's own recipe on the same path fails with NoAuthError (a stream error
 *   or a rejection, never a hang). A second session with alice's credentials takes part as usual.
 * - The password never appears: not in any log line (a logger taking every level, its details
 *   inspected in full), nor in any error (message, stack, String, util.inspect with the cause chain),
 *   nor in util.inspect of the clients (every depth, hidden properties shown), nor in state$ values,
 *   whatever fails: NoAuth, a bad version, a missing node, an ACL the server refuses, bad input that
 *   holds the credentials, a scheme the server refuses (authFailed: lost, then new sessions after a
 *   backoff, counted), addAuth of a refused scheme. The C client's own debug log (stderr) too, in a
 *   child process.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import util from 'node:util';
import { Subject, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acquire,
  barrier,
  children$,
  config$,
  connect,
  count$,
  data$,
  doubleBarrier,
  enqueue,
  increment,
  join,
  leader$,
  leadership,
  lock,
  members$,
  NoAuthError,
  Perms,
  queue,
  readLock,
  semaphore,
  stat$,
  tree$,
  trySet,
  uniqueName,
  updateConfig,
  withLock,
  writeLock,
  type Acl,
  type Logger,
  type SessionState,
  type ZkClient,
} from '../../src/index.js';
import { digestId } from '../contract/target.js';
import { eventually, removeTree, sleep, zkSuite } from '../support/fixture.js';
import { fourLetter } from '../support/fourLetter.js';
import { recordFault } from './record.js';

const zk = zkSuite();

/** The secret: alice's password. Random per run, so no fixed string in the code can match it by luck. */
const PASSWORD = `pw-${randomUUID()}`;
const ALICE_AUTH = [{ scheme: 'digest', credentials: `alice:${PASSWORD}` }];
const ALICE_ACL: Acl[] = [{ perms: Perms.All, scheme: 'digest', id: digestId('alice', PASSWORD) }];
/** Whoever the creating session authenticated as: the server stores alice's digest id. */
const AUTH_ACL: Acl[] = [{ perms: Perms.All, scheme: 'auth', id: '' }];

/** Figures over the file, for the record. */
const tally = { recipes: new Set<string>(), nodes: 0, refused: 0, scan: '', native: '' };
/** The tests that passed: the row is recorded only when all did. */
const passed = new Set<string>();
const EXPECTED = [
  'leadership',
  'join',
  'lock',
  'semaphore',
  'queue',
  'barrier',
  'counter',
  'streams',
  'credentials',
  'native',
];
const SECRET_WORKER = new URL('./secret-worker.ts', import.meta.url);

// The recipes' nodes are restricted: only alice may remove them (the fixture's admin has no
// credentials). Registered after zkSuite's hooks, so it runs before the fixture's cleanup.
afterEach(async () => {
  const admin = connect(zk.connectString, { auth: ALICE_AUTH, connectionTimeout: 30_000 });
  try {
    await removeTree(admin, zk.root);
  } finally {
    await admin.close();
  }
});

interface Followed<T> {
  readonly values: T[];
  error: unknown;
  last(): T | undefined;
  stop(): void;
}

/** Subscribes and records what arrives. */
function follow<T>(source: Observable<T>): Followed<T> {
  const followed: Followed<T> = {
    values: [],
    error: undefined,
    last: () => followed.values.at(-1),
    stop: () => subscription.unsubscribe(),
  };
  const subscription = source.subscribe({
    next: (v) => followed.values.push(v),
    error: (e: unknown) => (followed.error = e),
  });
  return followed;
}

/**
 * The stream fails with NoAuthError (bounded), having shown nothing, and leaves no watch armed on
 * `client` (a refused recipe cleans up after itself as an unsubscribed one does).
 */
async function streamRefused<T>(client: ZkClient, what: string, source: Observable<T>): Promise<void> {
  const before = client.armedWatchCount;
  const followed = follow(source);
  try {
    await eventually(() => expect(followed.error, `${what} fails`).toBeInstanceOf(NoAuthError), 10_000);
    expect(followed.values, `${what} showed nothing`).toEqual([]);
    await eventually(() => expect(client.armedWatchCount, `${what}: watches left armed`).toBe(before), 5_000);
    tally.refused++;
  } finally {
    followed.stop();
  }
}

async function rejectedNoAuth(what: string, operation: Promise<unknown>): Promise<void> {
  await expect(operation, what).rejects.toBeInstanceOf(NoAuthError);
  tally.refused++;
}

interface Clients {
  /** Authenticated as alice. */
  readonly alice: ZkClient;
  /** Another session authenticated as alice. */
  readonly carol: ZkClient;
  /** No credentials. */
  readonly stranger: ZkClient;
}

function clients(): Clients {
  return {
    alice: zk.client({ auth: ALICE_AUTH }),
    carol: zk.client({ auth: ALICE_AUTH }),
    stranger: zk.client(),
  };
}

/**
 * Every node of the subtree at `path` (listed as alice) carries alice's ACL, and the stranger may not
 * read it, write it, read its ACL, create or delete below it. Returns how many nodes were checked;
 * `expected` of them at least.
 */
async function restricted({ alice, stranger }: Clients, path: string, expected: number): Promise<string[]> {
  const nodes: string[] = [];
  const walk = async (node: string): Promise<void> => {
    nodes.push(node);
    for (const child of (await alice.children(node)).children) await walk(`${node}/${child}`);
  };
  await walk(path);
  expect(nodes.length, `nodes under ${path}: ${nodes.join(', ')}`).toBeGreaterThanOrEqual(expected);
  for (const node of nodes) {
    expect((await alice.getACL(node)).acl, `ACL of ${node}`).toEqual(ALICE_ACL);
    await rejectedNoAuth(`get ${node}`, stranger.get(node));
    await rejectedNoAuth(`set ${node}`, stranger.set(node, 'mallory'));
    await rejectedNoAuth(`children ${node}`, stranger.children(node));
    await rejectedNoAuth(`getACL ${node}`, stranger.getACL(node));
    await rejectedNoAuth(
      `setACL ${node}`,
      stranger.setACL(node, [{ perms: Perms.All, scheme: 'world', id: 'anyone' }]),
    );
    await rejectedNoAuth(`create below ${node}`, stranger.create(`${node}/mallory`));
    for (const child of (await alice.children(node)).children) {
      await rejectedNoAuth(`delete ${node}/${child}`, stranger.delete(`${node}/${child}`));
    }
  }
  tally.nodes += nodes.length;
  return nodes;
}

describe('row 13: ACLs and credentials', () => {
  it('leadership and leader$: the election node and every candidate node carry the ACL; a stranger can neither run nor watch', async () => {
    const c = clients();
    const p = `${zk.root}/election`;
    const a = follow(leadership(c.alice, p, { id: 'alice', acl: ALICE_ACL }));
    await eventually(() => expect(a.last()?.type).toBe('leader'));
    const b = follow(leadership(c.carol, p, { id: 'carol', acl: AUTH_ACL }));
    await eventually(() => expect(b.last()).toMatchObject({ type: 'follower', leader: 'alice' }));
    const leader = follow(leader$(c.carol, p));
    await eventually(() => expect(leader.last()?.id).toBe('alice'));
    await restricted(c, p, 3);
    await streamRefused(c.stranger, 'leadership of a stranger', leadership(c.stranger, p, { id: 'mallory' }));
    await streamRefused(c.stranger, 'leader$ of a stranger', leader$(c.stranger, p));
    a.stop();
    await eventually(() => expect(b.last()?.type).toBe('leader'));
    await eventually(() => expect(leader.last()?.id).toBe('carol'));
    b.stop();
    leader.stop();
    expect([a.error, b.error, leader.error]).toEqual([undefined, undefined, undefined]);
    tally.recipes.add('leadership').add('leader$');
    passed.add('leadership');
  });

  it('join and members$: the group and its member nodes carry the ACL; a stranger can neither join nor list', async () => {
    const c = clients();
    const p = `${zk.root}/group`;
    const a = follow(join(c.alice, p, 'alice', 'port=1', { acl: ALICE_ACL }));
    const b = follow(join(c.carol, p, 'carol', '', { acl: AUTH_ACL }));
    const members = follow(members$(c.carol, p));
    await eventually(() => expect([...(members.last()?.keys() ?? [])].sort()).toEqual(['alice', 'carol']));
    expect(members.last()?.get('alice')?.toString()).toBe('port=1');
    await restricted(c, p, 3);
    await streamRefused(c.stranger, 'join of a stranger', join(c.stranger, p, 'mallory'));
    await streamRefused(c.stranger, 'members$ of a stranger', members$(c.stranger, p));
    a.stop();
    await eventually(() => expect([...(members.last()?.keys() ?? [])]).toEqual(['carol']));
    b.stop();
    members.stop();
    expect([a.error, b.error, members.error]).toEqual([undefined, undefined, undefined]);
    tally.recipes.add('join').add('members$');
    passed.add('join');
  });

  it('lock, acquire, withLock, readLock, writeLock: lock nodes carry the ACL; a stranger can neither queue nor remove a holder', async () => {
    const c = clients();
    const p = `${zk.root}/lock`;
    const held = follow(lock(c.alice, p, { acl: ALICE_ACL }));
    await eventually(() => expect(held.last()?.type).toBe('acquired'));
    let carolHolds = false;
    const next = acquire(c.carol, p, { acl: AUTH_ACL }).then((handle) => ((carolHolds = true), handle));
    await eventually(async () => expect((await c.alice.children(p)).children).toHaveLength(2));
    await restricted(c, p, 3);
    await streamRefused(c.stranger, 'lock of a stranger', lock(c.stranger, p));
    await rejectedNoAuth('acquire of a stranger', acquire(c.stranger, p));
    await rejectedNoAuth(
      'withLock of a stranger',
      withLock(c.stranger, p, () => undefined),
    );
    expect(carolHolds).toBe(false);
    held.stop();
    const handle = await next;
    await handle.release();

    const rw = `${zk.root}/rw`;
    const reader = follow(readLock(c.alice, rw, { acl: ALICE_ACL }));
    await eventually(() => expect(reader.last()?.type).toBe('acquired'));
    const writer = follow(writeLock(c.carol, rw, { acl: AUTH_ACL }));
    await eventually(() => expect(writer.last()?.type).toBe('waiting'));
    await restricted(c, rw, 3);
    await streamRefused(c.stranger, 'readLock of a stranger', readLock(c.stranger, rw));
    await streamRefused(c.stranger, 'writeLock of a stranger', writeLock(c.stranger, rw));
    reader.stop();
    await eventually(() => expect(writer.last()?.type).toBe('acquired'));
    writer.stop();

    const w = `${zk.root}/with`;
    const nodes = await withLock(c.carol, w, () => restricted(c, w, 2), { acl: ALICE_ACL });
    expect(nodes).toHaveLength(2);
    expect([held.error, reader.error, writer.error]).toEqual([undefined, undefined, undefined]);
    tally.recipes.add('lock').add('acquire').add('withLock').add('readLock').add('writeLock');
    passed.add('lock');
  });

  it('semaphore: its limit node, mutex, lease pool and leases carry the ACL; a stranger cannot take part', async () => {
    const c = clients();
    const p = `${zk.root}/pool`;
    const a = follow(semaphore(c.alice, p, { leases: 1, acl: ALICE_ACL }));
    await eventually(() => expect(a.last()?.type).toBe('acquired'));
    const b = follow(semaphore(c.carol, p, { leases: 1, acl: AUTH_ACL }));
    await eventually(() => expect(b.last()?.type).toBe('waiting'));
    // path (with the limit), locks, leases, alice's lease, carol's mutex node at least.
    const nodes = await restricted(c, p, 5);
    expect(nodes).toEqual(expect.arrayContaining([`${p}/locks`, `${p}/leases`]));
    await streamRefused(c.stranger, 'semaphore of a stranger', semaphore(c.stranger, p, { leases: 1 }));
    a.stop();
    await eventually(() => expect(b.last()?.type).toBe('acquired'));
    b.stop();
    expect([a.error, b.error]).toEqual([undefined, undefined]);
    tally.recipes.add('semaphore');
    passed.add('semaphore');
  });

  it('enqueue and queue: the queue, its items, claims node and claims carry the ACL; a stranger can neither add nor take', async () => {
    const c = clients();
    const p = `${zk.root}/jobs`;
    await enqueue(c.alice, p, 'job-1', { acl: ALICE_ACL });
    await enqueue(c.alice, p, 'job-2', { acl: AUTH_ACL });
    const items = follow(queue(c.carol, p, { mode: 'at-least-once', acl: ALICE_ACL }));
    await eventually(() => expect(items.values).toHaveLength(1));
    // The queue, claims, two items, carol's claim.
    const nodes = await restricted(c, p, 5);
    expect(nodes).toContain(`${p}/claims`);
    await streamRefused(c.stranger, 'queue of a stranger', queue(c.stranger, p, { mode: 'at-most-once' }));
    await rejectedNoAuth('enqueue of a stranger', enqueue(c.stranger, p, 'mallory'));
    await items.values[0]!.ack();
    await eventually(() => expect(items.values).toHaveLength(2));
    expect(items.values.map((i) => i.data.toString())).toEqual(['job-1', 'job-2']);
    await items.values[1]!.ack();
    items.stop();
    expect(items.error).toBeUndefined();
    tally.recipes.add('enqueue').add('queue');
    passed.add('queue');
  });

  it('doubleBarrier and barrier: member and ready nodes carry the ACL; a stranger cannot enter, and its barrier fails instead of hanging', async () => {
    const c = clients();
    const p = `${zk.root}/round`;
    const leave = [new Subject<void>(), new Subject<void>()];
    const a = follow(doubleBarrier(c.alice, p, { members: 2, leave: leave[0]!, acl: ALICE_ACL }));
    const b = follow(doubleBarrier(c.carol, p, { members: 2, leave: leave[1]!, acl: AUTH_ACL }));
    await eventually(() => expect([a.last(), b.last()]).toEqual(['entered', 'entered']));
    // The barrier, two members, ready.
    const nodes = await restricted(c, p, 4);
    expect(nodes).toContain(`${p}/ready`);
    await streamRefused(
      c.stranger,
      'doubleBarrier of a stranger',
      doubleBarrier(c.stranger, p, { members: 2, leave: new Subject<void>() }),
    );
    leave.forEach((s) => s.next());
    await eventually(() => expect([a.last(), b.last()]).toEqual(['left', 'left']));

    // barrier() creates nothing (the barrier is raised with create), but waiting on it needs READ.
    const gate = `${zk.root}/gate`;
    await c.alice.create(gate, '', { acl: ALICE_ACL });
    const waiting = follow(barrier(c.carol, gate));
    await eventually(() => expect(waiting.values).toEqual(['blocked']));
    await streamRefused(c.stranger, 'barrier of a stranger', barrier(c.stranger, gate));
    await c.alice.delete(gate);
    await eventually(() => expect(waiting.values).toEqual(['blocked', 'open']));
    expect([a.error, b.error, waiting.error]).toEqual([undefined, undefined, undefined]);
    tally.recipes.add('doubleBarrier').add('barrier');
    passed.add('barrier');
  });

  it('counter, updateConfig, uniqueName: the nodes they create (parents too) carry the ACL; a stranger can neither read nor write', async () => {
    const c = clients();
    const counter = `${zk.root}/counters/visits`;
    expect(await trySet(c.alice, counter, 5, null, { acl: ALICE_ACL })).toBe(true);
    expect(await increment(c.carol, counter, 2, { acl: AUTH_ACL })).toBe(7);
    const count = follow(count$(c.carol, counter));
    await eventually(() => expect(count.last()?.value).toBe(7));
    await restricted(c, `${zk.root}/counters`, 2);
    await streamRefused(c.stranger, 'count$ of a stranger', count$(c.stranger, counter));
    await rejectedNoAuth('trySet of a stranger', trySet(c.stranger, counter, 1, { version: 1 }));
    await rejectedNoAuth('increment of a stranger', increment(c.stranger, counter));
    // A fresh counter under the restricted parent: a stranger's create is refused too.
    await rejectedNoAuth(
      'trySet (create) of a stranger',
      trySet(c.stranger, `${zk.root}/counters/new`, 1, null),
    );
    count.stop();

    const cfg = `${zk.root}/config/app`;
    const codec = { decode: (t: string) => JSON.parse(t) as { limit: number }, encode: JSON.stringify };
    await updateConfig(c.alice, cfg, () => ({ limit: 1 }), { ...codec, acl: ALICE_ACL });
    await updateConfig(c.carol, cfg, (v) => ({ limit: (v?.limit ?? 0) + 1 }), codec);
    const config = follow(config$(c.carol, cfg, codec.decode));
    await eventually(() => expect(config.last()).toEqual({ limit: 2 }));
    await restricted(c, `${zk.root}/config`, 2);
    await streamRefused(c.stranger, 'config$ of a stranger', config$(c.stranger, cfg, codec.decode));
    await rejectedNoAuth(
      'updateConfig of a stranger',
      updateConfig(c.stranger, cfg, () => ({ limit: 9 }), codec),
    );
    config.stop();

    const names = `${zk.root}/names`;
    const first = await uniqueName(c.alice, names, 'job-', { acl: ALICE_ACL });
    const second = await uniqueName(c.carol, names, 'job-', { acl: AUTH_ACL });
    expect(second.sequence).toBeGreaterThan(first.sequence);
    // The node that made a name is deleted right after (not awaited): check the parent once it is gone.
    await eventually(async () => expect((await c.alice.children(names)).children).toEqual([]));
    await restricted(c, names, 1);
    await rejectedNoAuth('uniqueName of a stranger', uniqueName(c.stranger, names, 'job-'));
    expect([count.error, config.error]).toEqual([undefined, undefined]);
    tally.recipes
      .add('trySet')
      .add('increment')
      .add('count$')
      .add('updateConfig')
      .add('config$')
      .add('uniqueName');
    passed.add('counter');
  });

  it('znode streams on restricted nodes: data$, stat$, children$, tree$ fail for a stranger and follow for alice', async () => {
    const c = clients();
    const p = `${zk.root}/private`;
    await c.alice.create(`${p}/leaf`, 'v1', { acl: ALICE_ACL, createParents: true });
    const d = follow(data$(c.carol, `${p}/leaf`));
    const s = follow(stat$(c.carol, `${p}/leaf`));
    const t = follow(tree$(c.carol, p));
    await eventually(() => expect(d.last()?.data.toString()).toBe('v1'));
    await eventually(() => expect(s.last()?.version).toBe(0));
    await eventually(() => expect(t.last()?.nodes.size).toBe(2));
    await restricted(c, p, 2);
    await streamRefused(c.stranger, 'data$ of a stranger', data$(c.stranger, `${p}/leaf`));
    // exists() checks no ACL: stat$ finds out with a READ-guarded read (the leaf's children, none).
    await streamRefused(c.stranger, 'stat$ of a stranger', stat$(c.stranger, `${p}/leaf`));
    // p has a child: its data (empty) is the smaller read.
    await streamRefused(c.stranger, 'stat$ of a stranger (a parent)', stat$(c.stranger, p));
    await streamRefused(c.stranger, 'children$ of a stranger', children$(c.stranger, p));
    await streamRefused(c.stranger, 'tree$ of a stranger', tree$(c.stranger, p));
    await c.alice.set(`${p}/leaf`, 'v2');
    await eventually(() => expect(d.last()?.data.toString()).toBe('v2'));
    await eventually(() => expect(s.last()?.version).toBe(1));
    d.stop();
    s.stop();
    t.stop();
    expect([d.error, s.error, t.error]).toEqual([undefined, undefined, undefined]);
    passed.add('streams');
  });

  it('the password appears in no log line, error, inspected client or state, whatever fails', async () => {
    const lines: string[] = [];
    const show = (value: unknown): string => util.inspect(value, { depth: Infinity, showHidden: true });
    const logger: Logger = Object.fromEntries(
      (['debug', 'info', 'warn', 'error'] as const).map((level) => [
        level,
        (message: string, details?: Record<string, unknown>) =>
          lines.push(`${level} ${message} ${show(details)} ${JSON.stringify(details)}`),
      ]),
    );
    const statesOf = new Map<ZkClient, SessionState[]>();
    const watched = (client: ZkClient): ZkClient => {
      const states: SessionState[] = [];
      statesOf.set(client, states);
      client.state$.subscribe((s) => states.push(s));
      return client;
    };
    const alice = watched(zk.client({ auth: ALICE_AUTH, logger }));
    const stranger = zk.client();
    const late = watched(zk.client({ logger }));
    const refusedScheme = [{ scheme: 'nosuch', credentials: `alice:${PASSWORD}` }];
    const refusedRetry = { maxRetries: 2, baseDelay: 100, maxDelay: 800 };
    const bad = watched(
      zk.client({ auth: refusedScheme, logger, connectionTimeout: 2_000, retry: refusedRetry }),
    );
    const badOpened = performance.now();
    const errors: unknown[] = [];
    const failing = async (what: string, operation: () => Promise<unknown>): Promise<void> => {
      const outcome = await operation().then(
        () => 'resolved',
        (error: unknown) => (errors.push(error), 'rejected'),
      );
      expect(outcome, what).toBe('rejected');
    };
    const throwing = (what: string, call: () => unknown): void => {
      try {
        call();
      } catch (error) {
        errors.push(error);
        return;
      }
      throw new Error(`${what} did not throw`);
    };

    // A node only bob may use, and one of alice's.
    const bobs = `${zk.root}/bobs`;
    const mine = `${zk.root}/mine`;
    await stranger.create(bobs, 'b', {
      acl: [{ perms: Perms.All, scheme: 'digest', id: digestId('bob', 'x') }],
    });
    await alice.create(mine, 'a', { acl: ALICE_ACL });
    await alice.set(mine, 'a2');
    await failing('NoAuth', () => alice.get(bobs));
    await failing('NoAuth (set)', () => alice.set(bobs, 'x'));
    await failing('BadVersion', () => alice.set(mine, 'x', 42));
    await failing('NoNode', () => alice.get(`${zk.root}/missing`));
    await failing('InvalidACL', () =>
      alice.create(`${zk.root}/bad-acl`, '', { acl: [{ perms: Perms.All, scheme: 'digest', id: 'alice' }] }),
    );
    await failing('NoAuth (stranger)', () => stranger.get(mine));
    await failing('NoAuth (recipe)', () => acquire(late, `${bobs}/lock`));
    // Bad input that holds the credentials.
    throwing('auth as a string', () =>
      connect(zk.connectString, { auth: `digest:alice:${PASSWORD}` as never }),
    );
    throwing('auth entry as a string', () =>
      connect(zk.connectString, { auth: [`alice:${PASSWORD}`] as never }),
    );
    throwing('auth without a scheme', () =>
      connect(zk.connectString, { auth: [{ credentials: `alice:${PASSWORD}` }] as never }),
    );
    await failing('addAuth without a scheme', () => alice.addAuth('', `alice:${PASSWORD}`));
    // A scheme the server refuses: authFailed, lost; new sessions follow only after a backoff.
    await failing('a read on refused credentials', () => bad.get('/'));
    await sleep(2_000);
    const badStates = statesOf.get(bad)!;
    const badSessions = badStates.filter((s) => s.type === 'connected').length;
    const badFailures = badStates.filter((s) => s.type === 'lost' && s.reason === 'authFailed').length;
    const badSeconds = (performance.now() - badOpened) / 1000;
    expect(badFailures, 'authFailed reported').toBeGreaterThanOrEqual(2);
    // A storm (every failure reopened at once) makes hundreds of sessions a second; backing off from
    // 100 ms to 800 ms makes about one a second after the first few.
    expect(badSessions, `sessions of refused credentials in ${badSeconds.toFixed(1)} s`).toBeLessThan(
      5 + 2 * badSeconds,
    );
    await failing('addAuth of a refused scheme', () => late.addAuth('nosuch', `late:${PASSWORD}`));
    await eventually(() => expect(late.state).toMatchObject({ type: 'lost', reason: 'authFailed' }));

    const texts = [
      ...lines,
      ...errors.flatMap((e) => [
        e instanceof Error ? e.message : '',
        e instanceof Error ? (e.stack ?? '') : '',
        String(e),
        show(e),
      ]),
      ...[alice, stranger, late, bad].flatMap((client) => [show(client), client.connectString]),
      ...[...statesOf.values()].flat().map((s) => `${JSON.stringify(s)} ${show(s)}`),
    ];
    const bytes = texts.reduce((n, t) => n + t.length, 0);
    const leaks = texts.filter((t) => t.includes(PASSWORD));
    expect(
      leaks.map((t) => t.slice(0, 300)),
      'texts that hold the password',
    ).toEqual([]);
    // The collection is not empty: the logger heard the sessions, the errors are the ones provoked.
    expect(lines.some((l) => l.includes('authentication failed'))).toBe(true);
    expect(errors.map((e) => (e as Error).name)).toEqual(
      expect.arrayContaining([
        'NoAuthError',
        'BadVersionError',
        'NoNodeError',
        'InvalidACLError',
        'InvalidArgumentError',
      ]),
    );
    const figure =
      `${texts.length} texts (${(bytes / 1024).toFixed(0)} KiB: ${lines.length} log lines, ${errors.length} ` +
      `errors, inspected clients and states) hold the password 0 times; refused scheme: ${badSessions} ` +
      `sessions, ${badFailures} authFailed in ${badSeconds.toFixed(1)} s`;
    console.info(`row 13: ${figure}`);
    tally.scan = figure;
    await alice.delete(mine);
    passed.add('credentials');
  });

  it("the C client's own debug log (a child process's stderr) does not hold the password either", async () => {
    const path = `${zk.root}/native-log`;
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(SECRET_WORKER)], {
      env: { ...process.env, ZK_CONNECT: zk.connectString, PASSWORD, NODE: path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('the worker ran over 60 s'));
      }, 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    const stdout = Buffer.concat(out).toString();
    const stderr = Buffer.concat(err).toString();
    expect(code, stderr.slice(-2_000)).toBe(0);
    expect(stdout).toContain('"ev":"done"');
    // The C client logged at debug level, its auth requests included.
    expect(stderr).toMatch(/ZOO_DEBUG/);
    expect(stderr).toMatch(/auth info request/);
    expect(stdout.includes(PASSWORD) || stderr.includes(PASSWORD), 'password in the output').toBe(false);
    tally.native = `${((stdout.length + stderr.length) / 1024).toFixed(0)} KiB of the C client's debug log and the worker's console hold it 0 times`;
    passed.add('native');
  });

  it('records the row', async () => {
    expect([...passed].sort()).toEqual([...EXPECTED].sort());
    const srvr = await fourLetter(zk.server.host, zk.server.clientPort, 'srvr');
    const recipes = [...tally.recipes];
    recordFault({
      row: 13,
      scenario: 'Security: ACLs and credentials',
      checked:
        `${recipes.length} recipes (${recipes.join(', ')}) run with a digest ACL or scheme 'auth': every node they ` +
        'create, parents included, carries it (getACL); a session without the credentials gets NoAuthError for get, ' +
        'set, children, getACL, setACL, create and delete below each node, and its own recipe on the path fails ' +
        'with NoAuthError (stream error or rejection, no hang, no watch left), as do data$, stat$, children$ and tree$; a ' +
        'second session with the credentials takes part. ' +
        'The password appears in no log line (every level, details inspected), error (message, stack, inspect with ' +
        'causes), util.inspect of the clients (all depths, hidden properties) or state, after NoAuth, BadVersion, ' +
        'NoNode, InvalidACL, bad input holding the credentials, a refused scheme (authFailed) and addAuth of one; nor ' +
        "in the C client's debug log.",
      figure: `${tally.nodes} restricted nodes, ${tally.refused} stranger operations refused with NoAuth; ${tally.scan}; ${tally.native}`,
      server: /^Zookeeper version: ([\d.]+)/m.exec(srvr)?.[1],
      known: [
        'A node missing when a stream (data$, stat$, children$) subscribes and then created with an ACL that ' +
          'shuts the session out is never shown: ZooKeeper delivers the creation only to sessions that may READ ' +
          'the node, so the stream shows null on, with no error to report it (marbles/children.test.ts shows it). ' +
          '(stat$ of an existing unreadable node, the earlier limitation here, now fails with NoAuthError: it makes ' +
          'one READ-guarded read first.) Plan: documented in the README (ACLs); a check would cost a poll.',
      ],
    });
  });
});
