/**
 * Fault matrix, row 6 (issue 7): a client moved to a follower that lags behind the ensemble.
 *
 * One follower F is frozen (`docker pause`, within the ensemble's syncLimit: the leader keeps it, and it
 * owes every proposal of the pause). Two cases:
 * - M has seen what F has not: through the other servers a lock is released and taken by another
 *   contender, leadership moves on and writes pile up, and M (a candidate and a lock waiter ranked
 *   behind them) follows it all; then M is moved to F alone (a loopback proxy, one listener per server)
 *   as F resumes. ZooKeeper's guarantee: a server refuses a client that has seen a newer zxid than its
 *   own ("client must try another server"), so F refuses M until it has caught up, and M never reads
 *   older state than it saw. M reports neither `leader` nor `acquired` while the other session leads or
 *   holds (per the leader), and takes both once they let go.
 * - M has seen nothing of it: while M is away its own nodes are deleted by someone else (after
 *   thousands of writes) and another takes over; F accepts M at once (M's zxid is behind F's) and
 *   applies its backlog while M is on it. The refusal cannot help: F's state is stale. rxzk syncs the
 *   server after a reconnection before it claims anything (before, M acquired the lock on F's stale
 *   state: a second holder until F caught up).
 */ import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  acquire,
  leader$,
  leadership,
  lock,
  type Leader,
  type Leadership,
  type LockHandle,
  type Ownership,
  type ZkClient,
} from '../../src/index.js';
import { eventually, sleep, zkSuite } from '../support/fixture.js';
import { fourLetter, serverMode } from '../support/fourLetter.js';
import { OpCode, startProxy, type ZkProxy } from '../support/proxy.js';
import type { ZkServer } from '../support/zookeeper.js';
import { now, recordStates, serverOf } from './ensemble.js';
import { recordFault } from './record.js';

const SESSION_TIMEOUT = 10_000;
// syncLimit 40 ticks (20 s): the leader keeps a follower frozen for several seconds, which then owes
// every proposal of its pause.
const zk = zkSuite({ ensemble: 3, tickTime: 500, config: { syncLimit: 40 } });

let proxy: ZkProxy | undefined;
let frozen: ZkServer | undefined;
afterEach(async () => {
  await frozen?.resume();
  frozen = undefined;
  await proxy?.pass();
});
afterAll(async () => {
  await proxy?.close();
});

let seenAhead:
  | { pausedFor: number; pile: number; refusals: number; attempts: number; catchUp: number; syncs: number }
  | undefined;
let revoked: { lock: string; leadership: string; syncs: number } | undefined;

interface Timed<T> {
  readonly value: T;
  readonly at: number;
}

/** Pipelined writes, `batch` in flight at a time. */
async function writes(client: ZkClient, path: string, n: number, batch = 200): Promise<void> {
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, k) => client.set(path, String(i + k))),
    );
  }
}

describe('row 6: reconnect to a lagging follower', () => {
  it('refused until the follower has caught up; no leader or holder reported on its stale state', async () => {
    const ensemble = zk.ensemble!;
    const root = zk.root;
    const [election, lockPath, backlog] = [`${root}/election`, `${root}/lock`, `${root}/backlog`];
    const leaderServer = await ensemble.leader();
    const lagging = ensemble.servers.find((s) => s !== leaderServer)!;
    const others = ensemble.servers.filter((s) => s !== lagging);
    const direct = others.map((s) => s.connectString).join(',');

    // O1 and O2: the other contenders, never on the lagging follower.
    const [o1, o2, admin] = [0, 1, 2].map(() =>
      zk.client({ connectString: direct, sessionTimeout: SESSION_TIMEOUT }),
    );
    await admin!.create(backlog, '');
    // M behind the proxy, on one of the others for now.
    proxy = await startProxy(zk.connectString);
    const toLagging = proxy.listeners[ensemble.servers.indexOf(lagging)]!;
    await toLagging.refuse();
    const m = zk.client({ connectString: proxy.connectString, sessionTimeout: SESSION_TIMEOUT });
    const mStates = recordStates(m);
    await m.ready();
    const mSession = m.sessionId!;
    expect(await serverOf(ensemble, mSession)).not.toBe(lagging);

    // Ranks: O1, then O2, then M, in the election and for the lock.
    const o1Seen: Leadership[] = [];
    const o2Seen: Timed<Leadership>[] = [];
    const mSeen: Timed<Leadership>[] = [];
    const o1Run = leadership(o1!, election, { id: 'o1' }).subscribe((l) => o1Seen.push(l));
    await eventually(() => expect(o1Seen.at(-1)?.type).toBe('leader'));
    const o2Run = leadership(o2!, election, { id: 'o2' }).subscribe((l) =>
      o2Seen.push({ value: l, at: now() }),
    );
    await eventually(() => expect(o2Seen.at(-1)?.value.type).toBe('follower'));
    const mRun = leadership(m, election, { id: 'm' }).subscribe((l) => mSeen.push({ value: l, at: now() }));
    const mLeaders: (Leader | null)[] = [];
    const mWatch = leader$(m, election).subscribe((l) => mLeaders.push(l));
    await eventually(() => expect(mSeen.at(-1)?.value.type).toBe('follower'));
    const o1Lock = await acquire(o1!, lockPath);
    const o2Locking = acquire(o2!, lockPath).then((h) => ({ handle: h, at: now() }));
    await eventually(async () => expect((await admin!.children(lockPath)).children).toHaveLength(2));
    let mAcquiredAt: number | undefined;
    const mLocking = acquire(m, lockPath).then((h: LockHandle) => {
      mAcquiredAt = now();
      return h;
    });
    await eventually(async () => expect((await admin!.children(lockPath)).children).toHaveLength(3));

    try {
      // F freezes; through the others, the lock and leadership move on to O2, and writes pile up.
      await lagging.pause();
      frozen = lagging;
      const pausedAt = now();
      o1Run.unsubscribe();
      await o1Lock.release();
      const o2Lock = await o2Locking;
      await eventually(() => expect(o2Seen.at(-1)?.value.type).toBe('leader'));
      const o2LeaderAt = o2Seen.at(-1)!.at;
      // M sees it (so has seen zxids F has not): leader$ on M follows who leads, its waiter stays.
      await eventually(() => expect(mLeaders.at(-1)?.id).toBe('o2'), 15_000);
      const pile = 5_000;
      await writes(admin!, backlog, pile);
      await m.exists(backlog);
      const pausedFor = now() - pausedAt;

      // The move: F is the only server M can reach (M's connection waits at the frozen F: the kernel
      // accepts it), then F resumes, and reads M's request while it still has its backlog to apply.
      const syncsBefore = proxy.requestsByType().get(OpCode.sync) ?? 0;
      const acceptedBefore = toLagging.stats.accepted;
      await Promise.all(proxy.listeners.filter((l) => l !== toLagging).map((l) => l.refuse()));
      await toLagging.pass();
      await proxy.reset();
      await eventually(() => expect(toLagging.stats.active).toBeGreaterThan(0), 10_000, 10);
      await sleep(300);
      const resumedAt = now();
      await lagging.resume();
      frozen = undefined;
      const reconnected = await eventually(() => {
        const r = mStates.find((s) => s.type === 'reconnected' && s.t > resumedAt);
        expect(r, `M's states: ${mStates.map((s) => s.type).join(' ')}`).toBeDefined();
        return r!;
      }, SESSION_TIMEOUT + 10_000);
      expect(reconnected.sessionId).toBe(mSession);
      expect(await serverOf(ensemble, mSession)).toBe(lagging);
      // The harness keeps a server's last 200 log lines: enough here (only M is ahead of F).
      const refusals = lagging
        .logs()
        .split('\n')
        .filter((line) => /Refusing session request for client .* as it has seen zxid/.test(line));
      const attempts = toLagging.stats.accepted - acceptedBefore;
      const syncs = (proxy.requestsByType().get(OpCode.sync) ?? 0) - syncsBefore;
      // F has caught up with everything M saw: M reads the backlog's last value from it.
      expect((await m.get(backlog)).data.toString()).toBe(String(pile - 1));
      await sleep(500);

      // Per the leader's view O2 leads and holds: M has reported neither.
      expect(mSeen.filter((s) => s.value.type === 'leader')).toEqual([]);
      expect(mAcquiredAt).toBeUndefined();
      expect(mSeen.at(-1)?.value.type).toBe('follower');
      expect(mLeaders.at(-1)?.id).toBe('o2');

      // O2 lets go: M, on F now, takes both (its turn, on current state).
      const releasedAt = now();
      await o2Lock.handle.release();
      const mLock = await mLocking;
      expect(mAcquiredAt!).toBeGreaterThan(releasedAt);
      o2Run.unsubscribe();
      await eventually(() => expect(mSeen.at(-1)?.value.type).toBe('leader'), 15_000);
      const mLeaderAt = mSeen.find((s) => s.value.type === 'leader')!.at;
      expect(mLeaderAt).toBeGreaterThan(releasedAt);
      expect(mLeaderAt).toBeGreaterThan(o2LeaderAt);
      await mLock.release();
      mRun.unsubscribe();

      const mode = await serverMode(lagging.clientPort);
      console.info(
        `row 6: follower ${lagging.id} frozen ${pausedFor.toFixed(0)} ms (${pile} writes behind); M moved there: ` +
          `${refusals.length} refusals logged ("client must try another server"), ${attempts} connection attempts, ` +
          `reconnected ${(reconnected.t - resumedAt).toFixed(0)} ms after the resume (same session); ${syncs} syncs sent; ` +
          `M led and held only after O2 let go (${mode})`,
      );
      expect(refusals.length, 'the lagging follower refused M at least once').toBeGreaterThan(0);
      seenAhead = {
        pausedFor,
        pile,
        refusals: refusals.length,
        attempts,
        catchUp: reconnected.t - resumedAt,
        syncs,
      };
    } finally {
      o1Run.unsubscribe();
      o2Run.unsubscribe();
      mRun.unsubscribe();
      mWatch.unsubscribe();
      mLocking.then((h) => h.release()).catch(() => undefined);
      o2Locking.then((h) => h.handle.release()).catch(() => undefined);
    }
  }, 120_000);

  it("M's own nodes deleted by someone else while it was away, M back on a follower still applying that: it claims nothing on that state", async () => {
    const ensemble = zk.ensemble!;
    const root = zk.root;
    const [election, lockPath, backlog] = [`${root}/election`, `${root}/lock`, `${root}/backlog`];
    const leaderServer = await ensemble.leader();
    const lagging = ensemble.servers.find((s) => s !== leaderServer)!;
    const direct = ensemble.servers
      .filter((s) => s !== lagging)
      .map((s) => s.connectString)
      .join(',');
    const [o1, o2, admin] = [0, 1, 2].map(() =>
      zk.client({ connectString: direct, sessionTimeout: SESSION_TIMEOUT }),
    );
    await admin!.create(backlog, '');
    proxy ??= await startProxy(zk.connectString);
    const toLagging = proxy.listeners[ensemble.servers.indexOf(lagging)]!;
    await proxy.pass();
    await toLagging.refuse();
    const m = zk.client({ connectString: proxy.connectString, sessionTimeout: SESSION_TIMEOUT });
    const mStates = recordStates(m);
    await m.ready();

    // O1 leads and holds; M is next in both.
    const o1Seen: Leadership[] = [];
    const o1Run = leadership(o1!, election, { id: 'o1' }).subscribe((l) => o1Seen.push(l));
    await eventually(() => expect(o1Seen.at(-1)?.type).toBe('leader'));
    const o1Lock = await acquire(o1!, lockPath);
    const mLeads: Timed<Leadership>[] = [];
    const mOwns: Timed<Ownership>[] = [];
    const subscriptions = [
      leadership(m, election, { id: 'm' }).subscribe((l) => mLeads.push({ value: l, at: now() })),
      lock(m, lockPath).subscribe((o) => mOwns.push({ value: o, at: now() })),
    ];
    await eventually(() => {
      expect(mLeads.at(-1)?.value.type).toBe('follower');
      expect(mOwns.at(-1)?.value.type).toBe('waiting');
    });
    const mNodes = [
      (mLeads.at(-1)!.value as { node: string }).node,
      (mOwns.at(-1)!.value as { node: string }).node,
    ];
    let o2Run: { unsubscribe(): void } | undefined;
    try {
      // M away; the follower frozen; O1 lets go of both, then, thousands of writes later, someone deletes
      // M's nodes and O2 takes both: per the leader, M is nowhere and O2 leads and holds.
      await proxy.refuse();
      await proxy.reset();
      await eventually(() => expect(mStates.at(-1)?.type).toBe('suspended'));
      await lagging.pause();
      frozen = lagging;
      o1Run.unsubscribe();
      await o1Lock.release();
      await writes(admin!, backlog, 15_000);
      for (const node of mNodes) await admin!.delete(node);
      const revokedAt = now();
      const o2Seen: Leadership[] = [];
      o2Run = leadership(o2!, election, { id: 'o2' }).subscribe((l) => o2Seen.push(l));
      const o2Lock = await acquire(o2!, lockPath);
      await eventually(() => expect(o2Seen.at(-1)?.type).toBe('leader'));

      // M comes back to the frozen follower alone (its connection waits there), which then resumes: it
      // accepts M at once (M saw none of that), and applies the backlog while M is on it.
      await toLagging.pass();
      await sleep(300);
      await lagging.resume();
      frozen = undefined;
      await eventually(() => expect(mStates.at(-1)?.type).toBe('reconnected'), SESSION_TIMEOUT + 10_000);
      await sleep(2_000);
      const after = (ts: readonly Timed<{ type: string }>[]): string[] =>
        ts.filter((t) => t.at > revokedAt).map((t) => t.value.type);
      // Nothing claimed on the follower's stale state: M learnt its nodes were gone and queued again.
      expect(after(mOwns), 'M acquired while O2 held (per the leader)').not.toContain('acquired');
      expect(after(mLeads), 'M led while O2 led (per the leader)').not.toContain('leader');
      expect(after(mLeads)).toContain('lost');
      expect(mOwns.at(-1)?.value.type).toBe('waiting');
      expect(mLeads.at(-1)?.value).toMatchObject({ type: 'follower', leader: 'o2' });
      const syncs = proxy.requestsByType().get(OpCode.sync) ?? 0;
      console.info(
        `row 6 (revoked while away): M back on follower ${lagging.id} during its catch-up: lock ${after(mOwns).join(' ')}; ` +
          `leadership ${after(mLeads).join(' ')}; ${syncs} syncs sent`,
      );
      // The server was synced after the reconnection, before any claim.
      expect(syncs).toBeGreaterThan(0);
      revoked = { lock: after(mOwns).join(' '), leadership: after(mLeads).join(' '), syncs };
      await o2Lock.release();
    } finally {
      o1Run.unsubscribe();
      o2Run?.unsubscribe();
      for (const s of subscriptions) s.unsubscribe();
    }
  }, 120_000);

  it('records the row', async () => {
    expect(seenAhead && revoked, 'both cases above passed').toBeTruthy();
    const [ahead, away] = [seenAhead!, revoked!];
    const srvr = await fourLetter(zk.server.host, zk.server.clientPort, 'srvr');
    recordFault({
      row: 6,
      scenario: 'Reconnect to a lagging follower',
      checked:
        'On a 3-node ensemble one follower F frozen (docker pause, within syncLimit). (1) Through the others a ' +
        'lock is released and taken by another contender, leadership moves on and thousands of writes pile ' +
        'up; a client M (candidate and lock waiter ranked behind them) that saw it all is moved to F alone ' +
        '(loopback proxy) as F resumes: F refuses M ("has seen zxid ... client must try another server", ' +
        "ZooKeeper's guarantee) until it has caught up, M reconnects with its session and reads nothing older " +
        'than it saw, never reports leader or acquired while the other session leads or holds (per the leader) ' +
        'and takes both once they let go. (2) M away while its own nodes are deleted by someone else and another ' +
        'takes over; F accepts M at once (M saw none of it) and applies its backlog while M is on it: the ' +
        'refusal cannot help, F is stale. rxzk syncs after a reconnection before claiming (syncs counted at ' +
        "the proxy): M claims nothing on F's state (before the fix it acquired the lock and led there, 3 of 3).",
      figure:
        `(1) frozen ${ahead.pausedFor.toFixed(0)} ms, ${ahead.pile} writes behind: ${ahead.refusals} refusal(s), ` +
        `${ahead.attempts} connection attempts, reconnected ${ahead.catchUp.toFixed(0)} ms after the resume ` +
        `(${ahead.syncs} syncs); ` +
        `(2) 15,000 writes behind: M's lock went "${away.lock}", its leadership "${away.leadership}"; ` +
        'violations 0',
      server: /^Zookeeper version: ([\d.]+)/m.exec(srvr)?.[1],
    });
  });
});
