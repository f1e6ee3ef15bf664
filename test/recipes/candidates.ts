/**
 * Election candidates as separate OS processes (test/recipes/candidate.ts), and the fencing log built
 * from what each one reported about itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export interface CandidateEvent {
  readonly ev: string;
  /**
   * When the test read the event, on the test's clock (`now()`, as `killedAt`): one clock for every
   * candidate. Their own clocks (and a Java candidate's) disagree by a few ms, more than a handover.
   */
  readonly t: number;
  /** The time the candidate itself printed, on its own clock. */
  readonly ownT?: number;
  readonly token?: number;
  readonly node?: string;
  readonly leader?: string;
  readonly type?: string;
  readonly sessionId?: string;
  /** A `lost` session's reason. */
  readonly reason?: string;
  readonly password?: string;
}

export interface Candidate {
  readonly id: string;
  readonly child: ChildProcess;
  readonly events: CandidateEvent[];
  /** Resolves with the first event (from index `from` on) matching `match`; rejects after `timeoutMs`. */
  next(match: (e: CandidateEvent) => boolean, timeoutMs?: number, from?: number): Promise<CandidateEvent>;
  send(command: 'resign' | 'join' | 'exit' | 'status'): void;
  /** When the test killed it (SIGKILL), on the test's clock: the end of its last leadership at the latest. */
  killedAt: number | undefined;
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<number | null>;
  /** Ends it: `exit` on stdin, SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const CANDIDATE = fileURLToPath(new URL('./candidate.ts', import.meta.url));
export const now = (): number => performance.timeOrigin + performance.now();

export function spawnCandidate(options: {
  connectString: string;
  election: string;
  id: string;
  sessionTimeout?: number;
  policy?: 'safe' | 'available';
  /** Another program to run instead (e.g. a Curator candidate), printing the same JSON lines. */
  command?: readonly string[];
}): Candidate {
  const [program, ...args] = options.command ?? [process.execPath, '--import', 'tsx', CANDIDATE];
  const child = spawn(program!, args, {
    env: {
      ...process.env,
      ZK_CONNECT: options.connectString,
      ELECTION: options.election,
      ID: options.id,
      SESSION_TIMEOUT: String(options.sessionTimeout ?? 3_000),
      POLICY: options.policy ?? 'safe',
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const events: CandidateEvent[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const printed = JSON.parse(line) as CandidateEvent;
    events.push({ ...printed, ownT: printed.t, t: now() });
    for (const w of [...waiters]) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const candidate: Candidate = {
    id: options.id,
    child,
    events,
    killedAt: undefined,
    exited,
    next(match, timeoutMs = 20_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.slice(from).find(match);
          if (!found) return;
          cleanup();
          resolve(found);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `${options.id}: no matching event within ${timeoutMs} ms; saw ${JSON.stringify(events.slice(from).map((e) => (e.ev === 'error' || e.ev === 'session' ? e : e.ev)))}`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    send(command) {
      child.stdin!.write(`${command}\n`);
    },
    kill(signal) {
      if (signal === 'SIGKILL') candidate.killedAt = now();
      child.kill(signal);
    },
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        candidate.send('exit');
      } catch {
        // stdin already closed
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return candidate;
}

export interface Interval {
  readonly id: string;
  readonly token: number;
  readonly start: number;
  readonly end: number;
}

/**
 * Each candidate's leaderships as it saw them: from its `leader` to its next other transition (or
 * resignation, or exit), or to the moment the test killed it. A candidate still leading ends now.
 */
export function fencingLog(candidates: readonly Candidate[]): Interval[] {
  const log: Interval[] = [];
  for (const c of candidates) {
    let open: { token: number; start: number } | undefined;
    for (const e of c.events) {
      if (e.ev === 'leader') {
        if (!open) open = { token: e.token!, start: e.t };
      } else if (
        ['follower', 'notLeader', 'uncertain', 'lost', 'resigned', 'exit', 'complete', 'error'].includes(e.ev)
      ) {
        if (open) log.push({ id: c.id, ...open, end: e.t });
        open = undefined;
      }
    }
    if (open) log.push({ id: c.id, ...open, end: c.killedAt ?? now() });
  }
  return log.sort((a, b) => a.start - b.start);
}

/**
 * Never two leaders: intervals (read on the test's clock) never overlap, and tokens only grow.
 * `slackMs` (default 1: two reports read in one event-loop turn may be handled in either order) is
 * how much a later interval may begin before the earlier one's end; the tokens must grow regardless.
 */
export function expectOneLeaderAtATime(log: readonly Interval[], { slackMs = 1 } = {}): void {
  expect(log.length).toBeGreaterThan(0);
  for (let i = 1; i < log.length; i++) {
    const [before, after] = [log[i - 1]!, log[i]!];
    expect(
      after.start + slackMs,
      `${after.id} started leading ${(before.end - after.start).toFixed(2)} ms before ${before.id} stopped`,
    ).toBeGreaterThanOrEqual(before.end);
    // The same candidate may lead again on the same node (after a reconnect): same token, not smaller.
    if (after.id === before.id) expect(after.token).toBeGreaterThanOrEqual(before.token);
    else expect(after.token, `token of ${after.id} after ${before.id}'s`).toBeGreaterThan(before.token);
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
