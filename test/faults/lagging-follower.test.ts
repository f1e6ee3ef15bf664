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
  leadership,
  lock,
  type Leadership,
  type Ownership,
  type ZkClient,
} from '../../src/index.js';
import { eventually, sleep, zkSuite } from '../support/fixture.js';
import { OpCode, startProxy, type ZkProxy } from '../support/proxy.js';
import type { ZkServer } from '../support/zookeeper.js';
import { now, recordStates } from './ensemble.js';

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

const results = new Map<
  string,
  { pausedFor: number; pile: number; refusals: number; attempts: number; catchUp: number; syncs: number }
>();

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
      results.set('revoked', { pausedFor: 0, pile: 15_000, refusals: 0, attempts: 0, catchUp: 0, syncs });
      await o2Lock.release();
    } finally {
      o1Run.unsubscribe();
      o2Run?.unsubscribe();
      for (const s of subscriptions) s.unsubscribe();
    }
  }, 120_000);
});
