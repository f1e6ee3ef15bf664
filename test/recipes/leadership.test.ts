/**
 * leadership() and leader$ against a real ZooKeeper, with every candidate a separate OS process. Each
 * scenario ends with the fencing log: every leadership as its leader saw it, on its own clock; never
 * two at once, tokens only growing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { leader$, type Leader } from '../../src/index.js';
import { expireNativeSession } from '../../src/transport/native.js';
import { eventually, sleep, zkSuite } from '../support/fixture.js';
import { startProxy, type ZkProxy } from '../support/proxy.js';
import {
  expectOneLeaderAtATime,
  fencingLog,
  now,
  percentile,
  spawnCandidate,
  type Candidate,
  type CandidateEvent,
} from './candidates.js';

const SESSION_TIMEOUT = 3_000;
const zk = zkSuite({ tickTime: 500 });

const running: Candidate[] = [];
let proxy: ZkProxy | undefined;
afterEach(async () => {
  await proxy?.pass();
  await Promise.all(running.splice(0).map((c) => c.stop()));
  await proxy?.close();
  proxy = undefined;
});

function start(ids: readonly string[], connectString = zk.connectString): Candidate[] {
  const started = ids.map((id) =>
    spawnCandidate({ connectString, election: `${zk.root}/election`, id, sessionTimeout: SESSION_TIMEOUT }),
  );
  running.push(...started);
  return started;
}

const isLeader = (e: CandidateEvent): boolean => e.ev === 'leader';

/** The one candidate leading now (waits, bounded, until exactly one's last transition is `leader`). */
async function currentLeader(candidates: readonly Candidate[], timeoutMs = 20_000): Promise<Candidate> {
  return eventually(() => {
    const leading = candidates.filter((c) => {
      const last = c.events
        .filter((e) => ['leader', 'follower', 'uncertain', 'lost', 'resigned'].includes(e.ev))
        .at(-1);
      return last?.ev === 'leader' && c.child.exitCode === null && c.killedAt === undefined;
    });
    expect(leading.map((c) => c.id)).toHaveLength(1);
    return leading[0]!;
  }, timeoutMs);
}

/** Every candidate has ranked itself (leader or follower). */
async function allRanked(candidates: readonly Candidate[]): Promise<void> {
  await Promise.all(candidates.map((c) => c.next((e) => e.ev === 'leader' || e.ev === 'follower', 30_000)));
}

describe('leadership across processes', () => {
  it('SIGKILL of the leader: a new leader within the session timeout plus a bounded margin', async () => {
    const candidates = start(['a', 'b', 'c']);
    await allRanked(candidates);
    const old = await currentLeader(candidates);
    const others = candidates.filter((c) => c !== old);
    const from = others.map((c) => c.events.length);
    old.kill('SIGKILL');
    const next = await Promise.any(others.map((c, i) => c.next(isLeader, SESSION_TIMEOUT + 10_000, from[i])));
    const failover = next.t - old.killedAt!;
    console.log(`SIGKILL failover: ${failover.toFixed(0)} ms (session timeout ${SESSION_TIMEOUT} ms)`);
    // The server expires the session after its timeout (rounded up to a tick), then one notification.
    expect(failover).toBeLessThan(SESSION_TIMEOUT + 2_000);
    expect(failover).toBeGreaterThan(SESSION_TIMEOUT * (2 / 3) - 100);
    expectOneLeaderAtATime(fencingLog(candidates));
  });

  it('graceful resignation: the next leader within milliseconds (p50/p99 over 50 handovers)', async () => {
    const candidates = start(['a', 'b', 'c']);
    await allRanked(candidates);
    const handovers: number[] = [];
    for (let run = 0; run < 50; run++) {
      const old = await currentLeader(candidates);
      const others = candidates.filter((c) => c !== old);
      const from = others.map((c) => c.events.length);
      const mark = old.events.length;
      old.send('resign');
      const resigned = await old.next((e) => e.ev === 'resigned', 10_000, mark);
      const next = await Promise.any(others.map((c, i) => c.next(isLeader, 10_000, from[i])));
      handovers.push(next.t - resigned.t);
      old.send('join');
      await old.next((e) => e.ev === 'follower', 10_000, mark);
    }
    const sorted = [...handovers].sort((x, y) => x - y);
    const [p50, p99] = [percentile(sorted, 50), percentile(sorted, 99)];
    console.log(
      `graceful handover over ${sorted.length} runs: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`,
    );
    expect(p50).toBeLessThan(50);
    expect(p99).toBeLessThan(500);
    expectOneLeaderAtATime(fencingLog(candidates));
  });

  it('graceful stop of the leader process (SIGTERM): the next leader at once', async () => {
    const candidates = start(['a', 'b']);
    await allRanked(candidates);
    const old = await currentLeader(candidates);
    const other = candidates.find((c) => c !== old)!;
    const from = other.events.length;
    old.kill('SIGTERM');
    expect(await old.exited).toBe(0);
    const next = await other.next(isLeader, 10_000, from);
    const resigned = old.events.find((e) => e.ev === 'resigned')!;
    expect(next.t - resigned.t).toBeLessThan(500);
    expectOneLeaderAtATime(fencingLog(candidates));
  });

  it('forced session expiry of the leader: it emits lost and never leads again on its old node', async () => {
    const candidates = start(['a', 'b']);
    await allRanked(candidates);
    const old = await currentLeader(candidates);
    const other = candidates.find((c) => c !== old)!;
    const led = old.events.filter(isLeader).at(-1)!;
    const session = old.events.filter((e) => e.ev === 'session' && e.type === 'connected').at(-1)!;
    const mark = old.events.length;
    // A second handle joins the session and closes it. The candidate's own client may take the
    // session back first (the close is then refused as SESSION_MOVED): try again, as expireSession does.
    let lost: CandidateEvent | undefined;
    for (let attempt = 1; attempt <= 5 && !lost; attempt++) {
      await expireNativeSession(zk.connectString, session.sessionId!, session.password!);
      lost = await old.next((e) => e.ev === 'lost', 3_000, mark).catch(() => undefined);
    }
    if (!lost) throw new Error('the leader’s session survived 5 expiry attempts');
    await other.next(isLeader, 15_000);
    // It rejoins in its new session, behind the new leader, with a new node.
    const rejoined = await old.next((e) => e.ev === 'follower', 15_000, mark);
    expect(rejoined.node).not.toBe(led.node);
    await sleep(500);
    // Until the client hears of the expiry it may still act (that is what the token is for); from
    // `lost` on, it never leads or writes on its old node again.
    const after = old.events.slice(old.events.indexOf(lost));
    expect(after.filter(isLeader)).toEqual([]);
    expect(after.filter((e) => e.ev === 'write' && e.token === led.token)).toEqual([]);
    // A session closed by another handle is not something its own client can see coming: the server
    // closes the old connection (its client's `uncertain` or `lost`) and wakes the next candidate in
    // the same moment, so the two reports race (a clean-clone CI run read them 1.3 ms the wrong way
    // round). What holds is the token, and an overlap no longer than hearing a closed socket takes:
    // well under the 3 s a client that waited for its session timeout (or a reconnect) would lead on.
    const log = fencingLog(candidates);
    const gaps = log.slice(1).map((next, k) => next.start - log[k]!.end);
    console.log(
      `forced expiry: the closest handover's gap was ${Math.min(...gaps).toFixed(2)} ms on the test's clock (below 0: an overlap)`,
    );
    expectOneLeaderAtATime(log, { slackMs: 500 });
  });

  it('partition of the leader longer than the session timeout: it stops leading before the new leader starts', async () => {
    proxy = await startProxy(zk.connectString);
    const [old] = start(['a'], proxy.connectString);
    await old!.next(isLeader, 30_000);
    const [other] = start(['b']);
    await other!.next((e) => e.ev === 'follower', 30_000);
    const mark = old!.events.length;
    const cut = now();
    await proxy.blackhole();
    const stepped = await old!.next((e) => e.ev === 'uncertain', 10_000, mark);
    const next = await other!.next(isLeader, SESSION_TIMEOUT + 10_000);
    console.log(
      `partition: old leader stepped down after ${(stepped.t - cut).toFixed(0)} ms, new leader after ${(next.t - cut).toFixed(0)} ms: margin ${(next.t - stepped.t).toFixed(0)} ms`,
    );
    expect(stepped.t).toBeLessThan(next.t);
    // By its own timer the old leader's session is lost after a whole timeout; back, it follows b.
    await old!.next((e) => e.ev === 'lost', SESSION_TIMEOUT + 10_000, mark);
    await proxy.pass();
    await old!.next((e) => e.ev === 'follower' && e.leader === 'b', 20_000, mark);
    expect(old!.events.slice(mark).filter(isLeader)).toEqual([]);
    expectOneLeaderAtATime(fencingLog([old!, other!]));
  });

  it('a paused leader (SIGSTOP beyond the session timeout) resumes without leading; its late writes are fenced off', async () => {
    const [old] = start(['a']);
    await old!.next(isLeader, 30_000);
    const [other] = start(['b']);
    await other!.next((e) => e.ev === 'follower', 30_000);
    // The fenced resource: it remembers the highest token it has seen and refuses lower ones.
    let highest = -Infinity;
    const refused: CandidateEvent[] = [];
    const applied: CandidateEvent[] = [];
    const seen = new Set<CandidateEvent>();
    const feed = (): void => {
      // Writes arrive per process in order; the resource sees them as they come.
      for (const c of [old!, other!]) {
        for (const e of c.events) {
          if (e.ev !== 'write' || seen.has(e)) continue;
          seen.add(e);
          if (e.token! >= highest) {
            highest = e.token!;
            applied.push(e);
          } else refused.push(e);
        }
      }
    };
    const feeding = setInterval(feed, 5);
    try {
      const token = old!.events.filter(isLeader).at(-1)!.token!;
      old!.kill('SIGSTOP');
      const mark = old!.events.length;
      const next = await other!.next(isLeader, SESSION_TIMEOUT + 10_000);
      expect(next.token).toBeGreaterThan(token);
      await other!.next((e) => e.ev === 'write', 5_000);
      await sleep(300);
      const resumed = now();
      old!.kill('SIGCONT');
      // On resume its first transition is not a continued `leader`.
      const first = await old!.next(
        (e) => ['leader', 'follower', 'uncertain', 'lost'].includes(e.ev),
        15_000,
        mark,
      );
      expect(first.ev).not.toBe('leader');
      await old!.next((e) => e.ev === 'follower', 20_000, mark);
      await sleep(200);
      feed();
      // What the frozen process still sent as leader after resuming was refused, never applied.
      // Stamped after the resume by the process itself: lines it printed just before the freeze may
      // still arrive after `mark`, and those were on time.
      const late = old!.events.slice(mark).filter((e) => e.ev === 'write' && e.t > resumed);
      console.log(`paused leader: ${late.length} late write(s) after resume, ${refused.length} refused`);
      expect(late.every((e) => refused.includes(e))).toBe(true);
      expect(applied.filter((e) => e.token === token && e.t > resumed)).toEqual([]);
      expect(late.length).toBeGreaterThan(0);
    } finally {
      clearInterval(feeding);
    }
  });

  it('leader$ in the test process follows the processes’ election', async () => {
    const observer = zk.client();
    const seen: (Leader | null)[] = [];
    const subscription = leader$(observer, `${zk.root}/election`).subscribe((l) => seen.push(l));
    try {
      await eventually(() => expect(seen).toEqual([null]));
      const candidates = start(['a', 'b']);
      await allRanked(candidates);
      const old = await currentLeader(candidates);
      await eventually(() => expect(seen.at(-1)?.id).toBe(old.id));
      const token = old.events.filter(isLeader).at(-1)!.token;
      expect(seen.at(-1)?.token).toBe(token);
      old.send('resign');
      const other = candidates.find((c) => c !== old)!;
      await eventually(() => expect(seen.at(-1)?.id).toBe(other.id));
      await Promise.all(candidates.map((c) => c.stop()));
      await eventually(() => expect(seen.at(-1)).toBeNull());
    } finally {
      subscription.unsubscribe();
    }
  });
});
