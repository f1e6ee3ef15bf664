/**
 * Fault matrix row 7 (issue 7): two handles on one session. A raw handle of the ZooKeeper C client (the
 * "intruder") joins a live rxzk client's session with its id and password, the way expireNativeSession
 * does, and stays. ZooKeeper hands the session to whichever connection joined it last: on one server the
 * other connection is closed at once; on an ensemble, with the handles on different servers, the next
 * write through the other one meets SESSION_MOVED and its server closes it. So the two take the session
 * from each other at every reconnect, for as long as both live (the Programmer's Guide: "indefinitely";
 * Curator retries SESSIONMOVED like a connection loss and kazoo raises it, neither breaks the loop).
 *
 * rxzk gives such a session up (src/session/churn.ts): after ten session timeouts with at least ten drops
 * in the last ten and no connection that lived three, it reports `lost` with reason `moved` and opens a new session,
 * without ending the old one (the intruder keeps it). Checked: the loop ends (the client's reconnects and
 * the servers' revalidations stop); every failed operation failed with a typed error; a lock held in the
 * old session is reported lost and the new contender queues behind the old node (the intruder's now)
 * until the intruder closes; an intruder that leaves early leaves the client healed in any case.
 */
import { createRequire } from 'node:module';
import type { Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lock, ZkError, type Ownership, type SessionState, type ZkClient } from '../../src/index.js';
import { eventually, removeTree, sleep, zkSuite } from '../support/fixture.js';
import { liveSessions, mntr, watchCount } from '../support/fourLetter.js';
import { startEnsemble, type ZkEnsemble } from '../support/zookeeper.js';
import { recordFault } from './record.js';

const zk = zkSuite({ tickTime: 500 });
const SESSION_TIMEOUT = 1_500;
/** churn.ts: STREAK session timeouts of churn (STREAK drops in the last STREAK, none held HOLD). */
const GIVE_UP_MS = 10 * SESSION_TIMEOUT;

interface NativeZk {
  on(event: string, listener: (...args: unknown[]) => void): void;
  init(options: Record<string, unknown>): void;
  close(): void;
  readonly native: {
    a_set(path: string, data: Buffer, version: number, cb: (rc: number) => void): number;
  };
}
type NativeCtor = new (config: Record<string, unknown>) => NativeZk;
const Native = createRequire(import.meta.url)('zookeeper') as NativeCtor;

interface Intruder {
  /** Times it (re)joined the session. */
  readonly joins: () => number;
  /** Result codes of its writes, by code. */
  readonly results: Map<number, number>;
  /** Closes the handle (which ends the session if it holds it at that moment). */
  close(): Promise<void>;
}

/** A second handle on `client`'s session; with `writePath`, it sets that node every 100 ms. */
function intrude(connectString: string, client: ZkClient, writePath?: string): Intruder {
  const handle = client.currentHandle()!;
  const zkh = new Native({
    connect: connectString,
    timeout: SESSION_TIMEOUT,
    debug_level: 0,
    host_order_deterministic: false,
    client_id: handle.sessionId,
    client_password: handle.sessionPassword,
  });
  let joins = 0;
  let closed = false;
  const results = new Map<number, number>();
  const gone = new Promise<void>((resolve) => zkh.on('close', () => resolve()));
  zkh.on('connect', () => joins++);
  zkh.init({});
  const writes = writePath
    ? setInterval(() => {
        zkh.native.a_set(writePath, Buffer.from('intruder'), -1, (rc) =>
          results.set(rc, (results.get(rc) ?? 0) + 1),
        );
      }, 100)
    : undefined;
  return {
    joins: () => joins,
    results,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(writes);
      // Closing from inside one of the binding's callbacks frees it under the C client: a macrotask.
      setImmediate(() => zkh.close());
      await Promise.race([gone, sleep(5_000)]);
    },
  };
}

/** Every state of a client, with when it came (this process's clock). */
function recordStates(client: ZkClient): {
  states: SessionState[];
  at: number[];
  subscription: Subscription;
} {
  const states: SessionState[] = [];
  const at: number[] = [];
  const subscription = client.state$.subscribe((s) => {
    states.push(s);
    at.push(performance.now());
  });
  return { states, at, subscription };
}

/** For a failure message: how the loop went since state `mark` (connections' lifetimes, the last state). */
function churnSummary(log: { states: SessionState[]; at: number[] }, mark: number): string {
  const lives: number[] = [];
  for (let i = mark; i < log.states.length; i++) {
    if (log.states[i]!.type !== 'reconnected' && log.states[i]!.type !== 'connected') continue;
    const end = log.states.findIndex((s, j) => j > i && s.type !== 'reconnected' && s.type !== 'connected');
    lives.push((end === -1 ? performance.now() : log.at[end]!) - log.at[i]!);
  }
  const sorted = [...lives].sort((x, y) => y - x).map((ms) => ms.toFixed(0));
  return `${lives.length} connections, longest ${sorted.slice(0, 5).join(', ')} ms; last state ${log.states.at(-1)?.type}`;
}

/** Reads every 100 ms; counts outcomes by error name ('ok' for none). */
function keepReading(
  client: ZkClient,
  path: string,
  write = false,
): { outcomes: Map<string, number>; stop(): void } {
  const outcomes = new Map<string, number>();
  const count = (name: string) => outcomes.set(name, (outcomes.get(name) ?? 0) + 1);
  let running = true;
  void (async () => {
    while (running) {
      const op = write ? client.set(path, 'rxzk') : client.get(path);
      await op.then(
        () => count('ok'),
        (error: unknown) => count(error instanceof ZkError ? error.name : `untyped ${String(error)}`),
      );
      await sleep(100);
    }
  })();
  return {
    outcomes,
    stop() {
      running = false;
    },
  };
}

const revalidations = async (connectString: string): Promise<number> => {
  let sum = 0;
  for (const server of connectString.split(','))
    sum += Number((await mntr(server))['zk_connection_revalidate_count']);
  return sum;
};

const typed = (outcomes: Map<string, number>) => [...outcomes.keys()].filter((k) => k.startsWith('untyped'));
const summary = (outcomes: Map<string, number>) =>
  [...outcomes].map(([name, n]) => `${n} ${name === 'ok' ? 'ok' : name.replace(/Error$/, '')}`).join(', ');

/** What the tests measured, for the row's one record (written by the last test). */
const figures: string[] = [];
const checks: string[] = [];

describe('row 7: two handles on one session (SESSION_MOVED), one server', () => {
  it(
    'an intruder that stays: the client gives the session up (lost, moved) and the loop ends',
    { timeout: 90_000 },
    async () => {
      const c = zk.client({ sessionTimeout: SESSION_TIMEOUT });
      const log = recordStates(c);
      const lockPath = `${zk.root}/lock`;
      const owned: { o: Ownership; t: number }[] = [];
      let locking: Subscription | undefined;
      const reader = keepReading(c, zk.root);
      let intruder: Intruder | undefined;
      try {
        await c.ready();
        locking = lock(c, lockPath).subscribe((o) => owned.push({ o, t: performance.now() }));
        await eventually(() => expect(owned.at(-1)?.o.type).toBe('acquired'));
        const oldSession = c.sessionId!;
        const oldToken = (owned.at(-1)!.o as { token: number }).token;
        const before = await revalidations(zk.connectString);
        const mark = log.states.length;
        intruder = intrude(zk.connectString, c);
        const joinedAt = performance.now();
        // The loop runs until the client gives the session up.
        await eventually(
          () =>
            expect(
              log.states.slice(mark).some((s) => s.type === 'lost'),
              `not given up yet: ${churnSummary(log, mark)}`,
            ).toBe(true),
          GIVE_UP_MS + 20_000,
        );
        const lostIndex = log.states.findIndex((s, i) => i >= mark && s.type === 'lost');
        const lost = log.states[lostIndex]!;
        expect(lost).toEqual({ type: 'lost', sessionId: oldSession, reason: 'moved' });
        const loopMs = log.at[lostIndex]! - joinedAt;
        const reconnects = log.states.slice(mark, lostIndex).filter((s) => s.type === 'reconnected').length;
        expect(reconnects, 'the intruder took the session at least once').toBeGreaterThan(0);
        await eventually(() => expect(log.states.at(-1)?.type).toBe('connected'), 20_000);
        const newSession = c.sessionId!;
        expect(newSession).not.toBe(oldSession);
        const churned = (await revalidations(zk.connectString)) - before;

        // The loop is over: for three session timeouts, no transition of the client and (the intruder
        // has rejoined once at most) no revalidation on the server.
        const settled = log.states.length;
        const serverBefore = await revalidations(zk.connectString);
        const intruderJoins = intruder.joins();
        await sleep(3 * SESSION_TIMEOUT);
        expect(log.states.slice(settled)).toEqual([]);
        expect((await revalidations(zk.connectString)) - serverBefore).toBeLessThanOrEqual(1);
        expect(intruder.joins() - intruderJoins).toBeLessThanOrEqual(1);

        // The lock: lost with the old session; the new contender queues behind the old node, which is
        // the intruder's now, and acquires (a larger token) only once the intruder has closed.
        const afterLost = owned.filter(({ t }) => t >= log.at[lostIndex]!).map(({ o }) => o.type);
        // (`lost` first if it held the lock at that moment; under the safe policy it may have lost it
        // already, at the suspension before.)
        expect(afterLost.filter((t) => t !== 'lost')[0]).toBe('waiting');
        expect(afterLost).not.toContain('acquired');
        const closedAt = performance.now();
        await intruder.close();
        await eventually(() => expect(owned.at(-1)?.o.type).toBe('acquired'), 20_000);
        const healMs = owned.at(-1)!.t - closedAt;
        expect((owned.at(-1)!.o as { token: number }).token).toBeGreaterThan(oldToken);
        expect((owned.at(-1)!.o as { sessionId: string }).sessionId).toBe(newSession);
        expect(c.sessionId).toBe(newSession);
        // Every operation that failed meanwhile failed with a typed error; reads work again.
        expect(typed(reader.outcomes)).toEqual([]);
        await expect(c.get(zk.root)).resolves.toBeDefined();

        const figure =
          `one server: ${reconnects} reconnects (server: ${churned} revalidations) in ${(loopMs / 1000).toFixed(1)} s ` +
          `while the intruder lived, then lost (moved) and a new session; 0 reconnects in the ` +
          `${(3 * SESSION_TIMEOUT) / 1000} s after; reads: ${summary(reader.outcomes)}; lock re-acquired ` +
          `${healMs.toFixed(0)} ms after the intruder closed`;
        console.log(`row 7: ${figure}`);
        figures.push(figure);
        checks.push(
          `one server, an intruder that stays: the pair took the session from each other ${reconnects} times ` +
            `until rxzk gave it up (lost, reason moved; session timeout ${SESSION_TIMEOUT / 1000} s) and opened a ` +
            'new one; then no transition and no server revalidation; failed reads all typed; the lock held in the ' +
            'old session reported lost, the new contender waiting behind the old node until the intruder closed, ' +
            'then acquired with a larger token',
        );
      } finally {
        reader.stop();
        locking?.unsubscribe();
        await intruder?.close();
        log.subscription.unsubscribe();
      }
    },
  );

  it(
    'an intruder that leaves early: the client heals (reconnected or a new session)',
    { timeout: 60_000 },
    async () => {
      const c = zk.client({ sessionTimeout: SESSION_TIMEOUT });
      const log = recordStates(c);
      const reader = keepReading(c, zk.root);
      try {
        await c.ready();
        const mark = log.states.length;
        const intruder = intrude(zk.connectString, c);
        await sleep(3_000);
        const during = log.states.slice(mark).filter((s) => s.type === 'reconnected').length;
        expect(during, 'the intruder took the session at least once').toBeGreaterThan(0);
        const closedAt = performance.now();
        await intruder.close();
        // Healed: live, and stays so for three session timeouts.
        const healed = await eventually(
          async () => {
            const last = log.states.at(-1)!;
            expect(['connected', 'reconnected']).toContain(last.type);
            const at = log.at.at(-1)!;
            expect(performance.now() - at).toBeGreaterThan(3 * SESSION_TIMEOUT);
            return { last, at };
          },
          30_000,
          100,
        );
        const healMs = Math.max(0, healed.at - closedAt);
        // Either the session was closed with the intruder (lost: expired, then a new one) or it is ours again.
        const after = log.states.slice(mark).map((s) => (s.type === 'lost' ? `lost:${s.reason}` : s.type));
        expect(after.filter((t) => t.startsWith('lost') && t !== 'lost:expired')).toEqual([]);
        expect(typed(reader.outcomes)).toEqual([]);
        await expect(c.get(zk.root)).resolves.toBeDefined();
        const how =
          healed.last.type === 'connected' ? 'a new session (the intruder closed it)' : 'the same session';
        const figure = `intruder for 3 s: ${during} reconnects; healed ${healMs.toFixed(0)} ms after it closed, in ${how}`;
        console.log(`row 7: ${figure}`);
        figures.push(figure);
        checks.push(
          'an intruder that leaves after 3 s: the client is live and stable again, all failures typed',
        );
      } finally {
        reader.stop();
        log.subscription.unsubscribe();
      }
    },
  );
});

describe('row 7: two handles on one session (SESSION_MOVED), an ensemble of 3', () => {
  let ensemble: ZkEnsemble | undefined;
  beforeAll(async () => {
    ensemble = await startEnsemble(3, { tickTime: 500 });
  });
  afterAll(async () => {
    await ensemble?.close();
  });

  it(
    'handles on different servers, both writing: the loop ends the same way',
    { timeout: 90_000 },
    async () => {
      const [one, two] = ensemble!.servers;
      const root = `/rxzk-moved-${Date.now()}`;
      const admin = zk.client({ connectString: ensemble!.connectString });
      const c = zk.client({ connectString: one!.connectString, sessionTimeout: SESSION_TIMEOUT });
      const log = recordStates(c);
      let writer: ReturnType<typeof keepReading> | undefined;
      let intruder: Intruder | undefined;
      try {
        await admin.create(root, '');
        await c.ready();
        writer = keepReading(c, root, true);
        const oldSession = c.sessionId!;
        const before = await revalidations(ensemble!.connectString);
        const mark = log.states.length;
        intruder = intrude(two!.connectString, c, root);
        const joinedAt = performance.now();
        await eventually(
          () => expect(log.states.slice(mark).some((s) => s.type === 'lost')).toBe(true),
          GIVE_UP_MS + 20_000,
        );
        const lostIndex = log.states.findIndex((s, i) => i >= mark && s.type === 'lost');
        expect(log.states[lostIndex]).toEqual({ type: 'lost', sessionId: oldSession, reason: 'moved' });
        const loopMs = log.at[lostIndex]! - joinedAt;
        const reconnects = log.states.slice(mark, lostIndex).filter((s) => s.type === 'reconnected').length;
        expect(reconnects).toBeGreaterThan(0);
        await eventually(() => expect(log.states.at(-1)?.type).toBe('connected'), 20_000);
        expect(c.sessionId).not.toBe(oldSession);
        const churned = (await revalidations(ensemble!.connectString)) - before;
        const settled = log.states.length;
        await sleep(3 * SESSION_TIMEOUT);
        expect(log.states.slice(settled)).toEqual([]);
        const moved = intruder.results.get(-118) ?? 0;
        expect(typed(writer.outcomes)).toEqual([]);
        await intruder.close();
        await sleep(SESSION_TIMEOUT);
        expect(log.states.slice(settled)).toEqual([]);
        await expect(c.set(root, 'after')).resolves.toBeDefined();
        const intruderResults = [...intruder.results].map(([rc, n]) => `${n} rc ${rc}`).join(', ');
        const figure =
          `ensemble, handles on servers 1 and 2, both writing every 100 ms: ${reconnects} reconnects ` +
          `(servers: ${churned} revalidations) in ${(loopMs / 1000).toFixed(1)} s, then lost (moved) and a new ` +
          `session, stable after; rxzk writes: ${summary(writer.outcomes)}; intruder writes: ${intruderResults}` +
          ` (${moved} SESSION_MOVED)`;
        console.log(`row 7: ${figure}`);
        figures.push(figure);
        checks.push(
          'an ensemble of 3 with the handles on different servers, both writing: the same end of the loop ' +
            '(lost, moved; a new session, stable); failed writes all typed',
        );
        recordFault({
          row: 7,
          scenario: 'Two handles on one session (SESSION_MOVED)',
          checked:
            "A raw C-client handle joined a live client's session with its id and password and stayed. " +
            `${checks.join('; ')}. Research: ZooKeeper moves the session to the connection that joined last ` +
            '("indefinitely", Programmer\'s Guide); Curator retries SESSIONMOVED, kazoo raises it, neither ends ' +
            `the loop; rxzk gives the session up after ${GIVE_UP_MS / 1000} s (ten session timeouts) with ten ` +
            'drops in the last ten and no connection that lived three.',
          figure: figures.join('; '),
          known: [
            'On an ensemble, an intruder that writes less often than once a session timeout takes the session ' +
              'only at each of its writes: fewer drops than one a session timeout, which rxzk cannot tell from ' +
              'a network that drops a connection now and then, so that slow loop (one move per intruder write) ' +
              'is not broken. Plan: a longer window with a lower rate (one drop per 2-3 timeouts over 30), if it ' +
              'is seen outside tests.',
          ],
        });
      } finally {
        writer?.stop();
        await intruder?.close();
        log.subscription.unsubscribe();
        await c.close();
        await removeTree(admin, root).catch(() => undefined);
        await admin.close();
        // What the suite's checks do for its own server, for the ensemble.
        await eventually(async () => {
          expect(await liveSessions(ensemble!.connectString)).toEqual([]);
          expect(await watchCount(ensemble!.connectString)).toBe(0);
        }, 20_000);
      }
    },
  );
});
