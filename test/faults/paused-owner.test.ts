/**
 * Fault matrix row 1 (issue 7): a client paused longer than its session timeout. A worker process
 * (paused-owner.ts) is the leader of an election AND holds a lock, writing to two fenced resources with
 * its tokens. It is frozen (SIGSTOP) until its session has expired and another process of the same
 * kind has taken both over and written with its own, larger tokens; then it resumes (SIGCONT).
 *
 * Checked on resume: the paused process reports its leadership and its lock lost (`uncertain` / `lost`)
 * before any other transition (never `leader` or `acquired` again with its old tokens); every write it
 * completes after resuming (the ones in flight at the freeze, and what its work loop begins before it
 * hears of the loss) is refused by the resources, which remember the highest token they have seen;
 * it then rejoins behind the new owner in a new session. test/recipes/leadership.test.ts has the
 * leadership-only case.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { zkSuite } from '../support/fixture.js';
import { workerPool, type WorkerProcess } from '../support/processes.js';
import { recordFault } from './record.js';

const zk = zkSuite({ tickTime: 500 });
const WORKER = new URL('./paused-owner.ts', import.meta.url);
const SESSION_TIMEOUT = 2_000;

interface OwnerEvent {
  readonly ev: string;
  readonly type?: string;
  readonly kind?: 'leader' | 'lock';
  readonly token?: number;
  readonly sessionId?: string;
  readonly late?: boolean;
  readonly message?: string;
}
type Owner = WorkerProcess<OwnerEvent>;

const processes = workerPool({ termGraceMs: 5_000 });
afterEach(() => processes.stopAll());

/** Resolves the first event at index `from` or later that matches; rejects after `timeoutMs`. */
async function next(
  owner: Owner,
  match: (e: OwnerEvent) => boolean,
  timeoutMs: number,
  from = 0,
): Promise<{ event: OwnerEvent; index: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const index = owner.events.findIndex((e, i) => i >= from && match(e));
    if (index !== -1) return { event: owner.events[index]!, index };
    const errors = owner.events.filter((e) => e.ev === 'error');
    if (errors.length > 0) throw new Error(`worker error: ${JSON.stringify(errors)}`);
    if (performance.now() > deadline) {
      const seen = owner.events.slice(from).filter((e) => e.ev !== 'write');
      throw new Error(`no matching event within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const is =
  (ev: string, type: string) =>
  (e: OwnerEvent): boolean =>
    e.ev === ev && e.type === type;

/**
 * The fenced resources: writes arrive in the order this process reads them; each kind remembers the
 * highest token it has applied and refuses a lower one.
 */
class Fence {
  private readonly highest = new Map<string, number>();
  private readonly read = new Map<Owner, number>();
  readonly refused = new Set<OwnerEvent>();
  readonly applied = new Set<OwnerEvent>();

  constructor(private readonly owners: readonly Owner[]) {}

  feed(): void {
    // Per process in order; between processes as far as this process has read them.
    for (const owner of this.owners) {
      for (let i = this.read.get(owner) ?? 0; i < owner.events.length; i++) {
        const e = owner.events[i]!;
        if (e.ev !== 'write') continue;
        const highest = this.highest.get(e.kind!) ?? -Infinity;
        if (e.token! >= highest) {
          this.highest.set(e.kind!, e.token!);
          this.applied.add(e);
        } else this.refused.add(e);
      }
      this.read.set(owner, owner.events.length);
    }
  }
}

describe('row 1: a client paused past its session timeout', () => {
  it('a leader and lock holder frozen by SIGSTOP resumes without either, its late writes fenced off', async () => {
    const env = (id: string) => ({
      ZK_CONNECT: zk.connectString,
      ELECTION: `${zk.root}/election`,
      LOCK: `${zk.root}/lock`,
      ID: id,
      SESSION_TIMEOUT: String(SESSION_TIMEOUT),
      WRITE_MS: '20',
    });
    const a = processes.spawn<OwnerEvent>(WORKER, env('a'));
    const { event: led } = await next(a, is('leadership', 'leader'), 30_000);
    const { event: held } = await next(a, is('lock', 'acquired'), 30_000);
    await next(a, (e) => e.ev === 'write' && e.kind === 'lock', 10_000);
    const b = processes.spawn<OwnerEvent>(WORKER, env('b'));
    await next(b, is('leadership', 'follower'), 30_000);
    await next(b, is('lock', 'waiting'), 30_000);
    const oldSession = a.events.find(is('session', 'connected'))!.sessionId!;

    const fence = new Fence([a, b]);
    const feeding = setInterval(() => fence.feed(), 5);
    try {
      a.child.kill('SIGSTOP');
      const stoppedAt = performance.now();
      // b takes both over once a's session has expired, and writes with its (larger) tokens.
      const leads = await next(b, is('leadership', 'leader'), SESSION_TIMEOUT + 15_000);
      const holds = await next(b, is('lock', 'acquired'), SESSION_TIMEOUT + 15_000);
      expect(leads.event.token).toBeGreaterThan(led.token!);
      expect(holds.event.token).toBeGreaterThan(held.token!);
      await next(b, (e) => e.ev === 'write' && e.kind === 'leader', 5_000, leads.index);
      await next(b, (e) => e.ev === 'write' && e.kind === 'lock', 5_000, holds.index);
      // Paused past the session timeout in any case, whenever the server expired the session.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, stoppedAt + SESSION_TIMEOUT + 500 - performance.now())),
      );
      // Everything a printed before the freeze has been read by now: what follows `resume` it printed
      // after SIGCONT.
      const resume = a.events.length;
      const resumedAt = performance.now();
      a.child.kill('SIGCONT');
      const paused = resumedAt - stoppedAt;

      const transitions = (kind: string) => (e: OwnerEvent) => e.ev === kind;
      const firstLeadership = await next(a, transitions('leadership'), 15_000, resume);
      const firstLock = await next(a, transitions('lock'), 15_000, resume);
      expect(['uncertain', 'lost'], 'first leadership transition after SIGCONT').toContain(
        firstLeadership.event.type,
      );
      expect(firstLock.event.type, 'first lock transition after SIGCONT').toBe('lost');
      const firstLoss = Math.min(firstLeadership.index, firstLock.index);
      const lossAfter = a.receivedAt[firstLoss]! - resumedAt;
      // Then the session is found expired: both lost, and a joins again behind b in a new session.
      await next(a, is('leadership', 'lost'), 15_000, resume);
      await next(a, is('session', 'lost'), 15_000, resume);
      const { event: rejoined } = await next(a, is('session', 'connected'), 15_000, resume);
      expect(rejoined.sessionId).not.toBe(oldSession);
      await next(a, is('leadership', 'follower'), 20_000, resume);
      await next(a, is('lock', 'waiting'), 20_000, resume);
      const after = a.events.slice(resume);
      expect(after.filter((e) => e.type === 'leader' || e.type === 'acquired')).toEqual([]);

      await new Promise((resolve) => setTimeout(resolve, 200));
      fence.feed();
      // Every write a completed after SIGCONT carries an old token and was refused; b's were applied.
      const late = after.filter((e) => e.ev === 'write');
      const refused = late.filter((e) => fence.refused.has(e));
      expect(late.filter((e) => !fence.refused.has(e))).toEqual([]);
      for (const kind of ['leader', 'lock'] as const) {
        expect(late.filter((e) => e.kind === kind).length, `late ${kind} writes`).toBeGreaterThan(0);
      }
      const bWrites = b.events.filter((e) => e.ev === 'write');
      expect(bWrites.filter((e) => !fence.applied.has(e))).toEqual([]);
      // b never lost anything meanwhile.
      expect(
        b.events.filter(
          (e) =>
            (e.ev === 'leadership' || e.ev === 'lock') &&
            e.type !== 'leader' &&
            e.type !== 'acquired' &&
            e.type !== 'follower' &&
            e.type !== 'waiting',
        ),
      ).toEqual([]);

      const byKind = (kind: string) => late.filter((e) => e.kind === kind).length;
      const figure =
        `first loss reported ${lossAfter.toFixed(0)} ms after SIGCONT (paused ${(paused / 1000).toFixed(1)} s, ` +
        `session timeout ${SESSION_TIMEOUT / 1000} s); late writes: ${late.length} attempted ` +
        `(${byKind('leader')} leader, ${byKind('lock')} lock), ${refused.length} rejected`;
      console.log(`row 1: ${figure}`);
      recordFault({
        row: 1,
        scenario: 'Client paused past its session timeout (SIGSTOP/SIGCONT)',
        checked:
          'A worker process leading an election and holding a lock (writing to two fenced resources with its ' +
          'tokens) was SIGSTOPped until its session expired and another process took both over and wrote; on ' +
          "SIGCONT its first transitions were leadership 'uncertain' and lock 'lost' (never 'leader' or " +
          "'acquired' again), then 'lost' and a new session in which it queued behind the new owner; every " +
          'write it completed after resuming (in flight at the freeze, or begun by its work loop before it ' +
          'heard of the loss) carried its old token and was refused by the resources, which keep the highest ' +
          "token seen; the new owner's writes were all applied.",
        figure,
      });
    } finally {
      clearInterval(feeding);
      if (a.child.signalCode === null && a.child.exitCode === null) a.child.kill('SIGCONT');
    }
  });
});
