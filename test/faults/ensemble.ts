/**
 * What the ensemble rows of the fault matrix (3, 4, 5, 6, 8) share: which server a session is on, a
 * client's states on the test's clock, idempotent writes that ride out the faults, the parent's side of
 * the participants in test/faults/ensemble-worker.ts, and the checks on what they reported.
 */
import { expect } from 'vitest';
import {
  isRetryable,
  isValidTransition,
  NodeExistsError,
  NoNodeError,
  type SessionState,
  type ZkClient,
} from '../../src/index.js';
import { eventually, sleep } from '../support/fixture.js';
import { connections } from '../support/fourLetter.js';
import type { WorkerPool, WorkerProcess } from '../support/processes.js';
import type { ZkEnsemble, ZkServer } from '../support/zookeeper.js';

/** The test's clock (ms since the epoch, sub-ms): the one clock every report is read on. */
export const now = (): number => performance.timeOrigin + performance.now();

/** The server the session `sessionId` (hex, as rxzk reports it) is connected to, per `cons`; bounded wait. */
export async function serverOf(
  ensemble: ZkEnsemble,
  sessionId: string,
  timeoutMs = 10_000,
): Promise<ZkServer> {
  return eventually(async () => {
    for (const server of ensemble.servers.filter((s) => s.running && !s.paused)) {
      const cons = await connections(server.connectString, 2_000).catch(() => []);
      if (cons.some((c) => c.sessionId === `0x${sessionId}`)) return server;
    }
    throw new Error(`session 0x${sessionId} is connected to no server`);
  }, timeoutMs);
}

export interface StateMark {
  readonly type: SessionState['type'];
  readonly sessionId: string | undefined;
  readonly reason: string | undefined;
  /** When the test saw it (`now()`). */
  readonly t: number;
}

/** Records `client`'s states as they come, on the test's clock; an impossible transition fails the test. */
export function recordStates(client: ZkClient): StateMark[] {
  const marks: StateMark[] = [];
  client.state$.subscribe((s) => {
    const previous = marks.at(-1);
    if (previous)
      expect(isValidTransition(previous.type, s.type), `${previous.type} -> ${s.type}`).toBe(true);
    marks.push({
      type: s.type,
      sessionId: 'sessionId' in s ? s.sessionId : undefined,
      reason: s.type === 'lost' ? s.reason : undefined,
      t: now(),
    });
  });
  return marks;
}

/**
 * Runs an idempotent write until it lands (its outcome known): a write whose reply was lost is sent
 * again, and NodeExists / NoNode on a retry means the lost one landed. Bounded.
 */
export async function settle(write: () => Promise<unknown>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      if (attempt > 0 && (error instanceof NodeExistsError || error instanceof NoNodeError)) return;
      if (!isRetryable(error) || Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// The participants (ensemble-worker.ts), seen from the test.

const WORKER = new URL('./ensemble-worker.ts', import.meta.url);

export interface WorkerEvent {
  readonly ev: string;
  readonly type?: string;
  readonly sessionId?: string;
  readonly reason?: string;
  readonly token?: number;
  readonly value?: number;
  readonly item?: string;
  /** The queue node an item was enqueued as or delivered from (`_c_<guid>-qn-NNNNNNNNNN`). */
  readonly node?: string;
  readonly message?: string;
  /** The worker's own clock; the test reads events on its own (`receivedAt`). */
  readonly t: number;
  /** The machine's monotonic clock (ms): comparable between processes (see ensemble-worker.ts). */
  readonly mono: number;
}

export type Participant = WorkerProcess<WorkerEvent> & { readonly id: string; readonly role: string };

export function spawnParticipant(
  pool: WorkerPool,
  role: 'locker' | 'producer' | 'consumer' | 'member',
  id: string,
  env: Record<string, string>,
): Participant {
  const w = pool.spawn<WorkerEvent>(WORKER, { ROLE: role, ID: id, ...env });
  return Object.assign(w, { id, role });
}

/** The events of `p` with when the test read them. */
export function timed(p: Participant): (WorkerEvent & { readonly at: number })[] {
  return p.events.map((e, i) => ({ ...e, at: performance.timeOrigin + p.receivedAt[i]! }));
}

/** Resolves the first event of `p` from index `from` on that matches, reading every `everyMs`; bounded. */
export async function nextEvent(
  p: Participant,
  match: (e: WorkerEvent) => boolean,
  timeoutMs: number,
  from = 0,
): Promise<WorkerEvent & { readonly at: number }> {
  return eventually(
    () => {
      const found = timed(p)
        .slice(from)
        .find((e) => match(e));
      if (!found) throw new Error(`${p.role} ${p.id}: no matching event within ${timeoutMs} ms`);
      return found;
    },
    timeoutMs,
    5,
  );
}

/** Errors any participant reported (its stream erroring, a loop dying): there must be none. */
export function reportedErrors(participants: readonly Participant[]): string[] {
  return participants.flatMap((p) =>
    p.events.filter((e) => e.ev === 'error').map((e) => `${p.role} ${p.id}: ${e.message}`),
  );
}

/** Ends every participant gracefully (SIGTERM: it finishes its turn, leaves, closes); bounded. */
export async function stopParticipants(
  participants: readonly Participant[],
  graceMs = 20_000,
): Promise<void> {
  await Promise.all(
    participants.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// Checks on what the lockers reported.

export interface CounterVerdict {
  /** Increments whose write was acknowledged. */
  readonly wrote: number;
  /** Writes whose reply was lost (landed or not). */
  readonly unknown: number;
  /** Turns that found the lock lost before writing, and sent nothing. */
  readonly abandoned: number;
}

/**
 * Mutual exclusion, from the counter the lockers incremented without versions. The counter started at
 * 0 (version 0): each set that landed bumped its version by one, so value == version means every
 * landed write read the value the one before it wrote (two holders at once would have written one
 * value twice: value < version). The value is every acknowledged write plus some of the unknown ones,
 * and no value was acknowledged twice.
 */
export async function expectCounterExact(
  admin: ZkClient,
  counter: string,
  lockers: readonly Participant[],
  /** Only what the lockers reported after this (test clock): the counter was made (again) then. */
  since = -Infinity,
): Promise<CounterVerdict & { readonly value: number }> {
  await admin.sync(counter);
  const { data, stat } = await admin.get(counter);
  const value = Number(data.toString());
  const events = lockers.flatMap((l) => timed(l).filter((e) => e.at > since));
  const wrote = events.filter((e) => e.ev === 'wrote').map((e) => e.value!);
  const unknown = events.filter((e) => e.ev === 'unknown').length;
  const abandoned = events.filter((e) => e.ev === 'abandoned').length;
  expect(value, `counter ${value} after ${stat.version} writes landed`).toBe(stat.version);
  expect(new Set(wrote).size, 'a value acknowledged twice').toBe(wrote.length);
  expect(value).toBeGreaterThanOrEqual(wrote.length);
  expect(value).toBeLessThanOrEqual(wrote.length + unknown);
  return { value, wrote: wrote.length, unknown, abandoned };
}

/**
 * A locker's holds on the machine's monotonic clock (`mono`): from `acquired` to `releasing` or
 * `lockLost`, whichever first. Not on the test's clock: the test reads the processes' pipes in whatever
 * order its busy event loop gets to them, so a batch of one process's later events can be read before
 * another's earlier ones (a handoff takes well under a millisecond; reads lagged by 100 ms here). Nor on
 * the workers' own `t`, which disagreed by more than 10 ms between processes under load.
 */
/** Rounding slack when two processes' reports on the monotonic clock are compared. */
export const CLOCK_SLACK_MS = 0.1;

export interface Hold {
  readonly id: string;
  readonly token: number | undefined;
  readonly sessionId: string | undefined;
  readonly start: number;
  readonly end: number;
}

export function holds(lockers: readonly Participant[]): Hold[] {
  const spans: Hold[] = [];
  for (const l of lockers) {
    let open: WorkerEvent | undefined;
    for (const e of l.events) {
      if (e.ev === 'acquired') open ??= e;
      else if ((e.ev === 'releasing' || e.ev === 'lockLost' || e.ev === 'exit') && open !== undefined) {
        spans.push({ id: l.id, token: open.token, sessionId: open.sessionId, start: open.mono, end: e.mono });
        open = undefined;
      }
    }
    if (open !== undefined)
      spans.push({ id: l.id, token: open.token, sessionId: open.sessionId, start: open.mono, end: Infinity });
  }
  return spans.sort((a, b) => a.start - b.start);
}

/**
 * Holds never overlap: the next holder acquires only once the last one's node is deleted, which that
 * one does after reporting `releasing` (or, lost, after `lockLost`), so on one clock the order is
 * strict; CLOCK_SLACK_MS only absorbs rounding. The exact proof of mutual exclusion is the counter
 * (expectCounterExact); this also catches a holder that went on holding while another acquired.
 */
export function expectOneHolderAtATime(spans: readonly Hold[]): void {
  for (let i = 1; i < spans.length; i++) {
    const [before, after] = [spans[i - 1]!, spans[i]!];
    expect(
      after.start + CLOCK_SLACK_MS,
      `${after.id} acquired before ${before.id} let go: ${JSON.stringify([before, after])}`,
    ).toBeGreaterThanOrEqual(before.end);
  }
}

/** The longest gap (ms, test clock) between consecutive events matching `match` across `ps`, within [from, to]. */
export function longestGap(
  ps: readonly Participant[],
  match: (e: WorkerEvent) => boolean,
  from: number,
  to: number,
): number {
  const times = ps
    .flatMap((p) => timed(p).filter((e) => match(e) && e.at >= from && e.at <= to))
    .map((e) => e.at)
    .sort((a, b) => a - b);
  let longest = 0;
  let previous = from;
  for (const t of [...times, to]) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return longest;
}
