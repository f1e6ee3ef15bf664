/**
 * Fault matrix, row 4 (issue 7): the ensemble loses its quorum (two of three servers stopped), then
 * gets it back.
 *
 * Three election candidates (test/recipes/candidate.ts) and three lock contenders incrementing an
 * unversioned counter (ensemble-worker.ts), each its own OS process with one client for its whole life.
 * Two servers are killed together. Then: whoever led or held steps down (`uncertain` / `lost`, the
 * handle's `lockLost`); nobody leads or acquires while no server serves (a server that has lost its
 * quorum serves reads until it notices: a candidate may re-claim its own standing then, with the same
 * token, never a new one); the servers come back and everything resumes without restarting a client.
 *
 * Two outages: a short one (the sessions outlive it: every client reports `reconnected` with its
 * session) with the two followers stopped, and a long one (beyond the session timeout: every client
 * judges its session lost by its own timer, as no server can say so, and opens a new one) with the
 * leader and a follower stopped. Mutual exclusion throughout: one leader at a time (fencing log) and the
 * counter exact.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, sleep, zkSuite } from '../support/fixture.js';
import { fourLetter } from '../support/fourLetter.js';
import { workerPool } from '../support/processes.js';
import type { ZkServer } from '../support/zookeeper.js';
import {
  expectOneLeaderAtATime,
  fencingLog,
  spawnCandidate,
  type Candidate,
  type CandidateEvent,
} from '../recipes/candidates.js';
import {
  expectCounterExact,
  expectOneHolderAtATime,
  holds,
  now,
  reportedErrors,
  spawnParticipant,
  stopParticipants,
  timed,
  type Participant,
} from './ensemble.js';
import { recordFault } from './record.js';

const zk = zkSuite({ ensemble: 3, tickTime: 500 });
const pool = workerPool({ termGraceMs: 10_000 });
const running: Candidate[] = [];
const lockers: Participant[] = [];

afterEach(async () => {
  // Servers first: a process can close its session only through a serving ensemble.
  await zk.ensemble!.restartStopped();
  await Promise.all(running.splice(0).map((c) => c.stop(10_000)));
  await stopParticipants(lockers.splice(0));
  await pool.stopAll();
});

const TRANSITIONS = ['leader', 'follower', 'uncertain', 'lost'];
const lastTransition = (c: Candidate, before: number): CandidateEvent | undefined =>
  c.events.filter((e) => TRANSITIONS.includes(e.ev) && e.t <= before).at(-1);

interface Outage {
  readonly kind: 'short' | 'long';
  readonly sessionTimeout: number;
  /** Killed together: the two followers, or the leader and a follower. */
  readonly stop: 'followers' | 'leader and a follower';
  /** How long the two stay down (from the kill to the restart). */
  readonly downMs: number;
}

interface Figures {
  readonly kind: string;
  readonly downMs: number;
  readonly sessionTimeout: number;
  /** Kill -> the leader's and the holder's step-down. */
  readonly leaderStepDown: number;
  readonly holderStepDown: number;
  /** Kill -> the server left running stopped serving. */
  readonly servingUntil: number;
  /** Restart -> a quorum again (srvr), the first leader, the first acquisition. */
  readonly quorumBack: number;
  readonly leaderBack: number;
  readonly holderBack: number;
  readonly sessions: string;
  readonly reclaims: number;
}
const results = new Map<string, Figures>();

async function outage(o: Outage): Promise<Figures> {
  const ensemble = zk.ensemble!;
  const admin = zk.client();
  const counter = `${zk.root}/counter`;
  await admin.create(counter, '0');
  const candidates = ['a', 'b', 'c'].map((id) =>
    spawnCandidate({
      connectString: zk.connectString,
      election: `${zk.root}/election`,
      id,
      sessionTimeout: o.sessionTimeout,
    }),
  );
  running.push(...candidates);
  for (let i = 0; i < 3; i++) {
    lockers.push(
      spawnParticipant(pool, 'locker', `l${i}`, {
        ZK_CONNECT: zk.connectString,
        SESSION_TIMEOUT: String(o.sessionTimeout),
        LOCK: `${zk.root}/lock`,
        COUNTER: counter,
        // Held 2 s a turn: the kill lands on a holder, which learns of it before its turn is over.
        HOLD_MS: '2000',
        PAUSE_MS: '20',
      }),
    );
  }
  // Everyone running: one leader, each locker through a few turns, and someone holding right now.
  await eventually(
    () => {
      const leading = candidates.filter((c) => lastTransition(c, Infinity)?.ev === 'leader');
      expect(leading).toHaveLength(1);
      expect(candidates.every((c) => lastTransition(c, Infinity) !== undefined)).toBe(true);
      expect(lockers.every((l) => l.events.filter((e) => e.ev === 'wrote').length >= 2)).toBe(true);
    },
    60_000,
    20,
  );
  const holder = await eventually(
    () => {
      const h = lockers.find((l) => l.events.at(-1)?.ev === 'wrote');
      expect(h).toBeDefined();
      return h!;
    },
    10_000,
    1,
  );

  const leader = await ensemble.leader();
  const victims: ZkServer[] =
    o.stop === 'followers'
      ? ensemble.servers.filter((s) => s !== leader)
      : [leader, ensemble.servers.find((s) => s !== leader)!];
  const survivor = ensemble.servers.find((s) => !victims.includes(s))!;
  const killedAt = now();
  const leaderAtKill = candidates.find((c) => lastTransition(c, killedAt)?.ev === 'leader')!;
  const tokenAtKill = lastTransition(leaderAtKill, killedAt)!.token;
  const stopping = Promise.all(victims.map((s) => s.stop()));
  // The survivor serves (reads) until it notices it has no quorum.
  await eventually(async () => expect(await survivor.mode()).toBeUndefined(), 10_000, 10);
  const downAt = now();
  await stopping;
  // The two are gone (their containers removed): any commit from now on would need a quorum.
  const stoppedAt = now();
  const wait = o.downMs - (now() - killedAt);
  if (wait > 0) await sleep(wait);

  // While down: whoever led or held stepped down, nobody leads or holds.
  const restoreAt = now();
  const leaderStep = leaderAtKill.events.find(
    (e) => e.t > killedAt && (e.ev === 'uncertain' || e.ev === 'lost'),
  );
  expect(leaderStep, `${leaderAtKill.id} stepped down`).toBeDefined();
  const holderStep = timed(holder).find((e) => e.at > killedAt && e.ev === 'lockLost');
  expect(
    holderStep,
    `${holder.id} reported its lock lost: ${JSON.stringify(
      timed(holder)
        .filter((e) => e.at > killedAt - 500)
        .map((e) => [e.ev, e.type, (e.at - killedAt).toFixed(0)]),
    )}`,
  ).toBeDefined();
  for (const c of candidates)
    expect(lastTransition(c, restoreAt)?.ev, `${c.id} at the restart`).not.toBe('leader');
  for (const l of lockers) {
    const last = timed(l)
      .filter((e) => ['acquired', 'releasing', 'lockLost'].includes(e.ev) && e.at <= restoreAt)
      .at(-1);
    expect(last?.ev, `${l.id} at the restart`).not.toBe('acquired');
  }
  // No new leadership and no acquisition after the kill, until the restart: a `leader` may only be a
  // candidate re-claiming its own node (same token) on the survivor before it noticed.
  // (It is given up again when the survivor stops serving: each candidate's last transition at the
  // restart, checked above, is not `leader`. Not compared with when the test saw the survivor stop: the
  // test reads a report some ms after the candidate made it.)
  const reclaims = candidates.flatMap((c) =>
    c.events.filter((e) => e.ev === 'leader' && e.t > killedAt && e.t <= restoreAt),
  );
  for (const e of reclaims) expect(e.token, 'a leadership taken without a quorum').toBe(tokenAtKill);
  // An acquisition needs its predecessor's node deleted (a commit): one reported after the servers were
  // gone would have been decided without a quorum.
  const acquiredDown = lockers.flatMap((l) =>
    timed(l).filter((e) => e.ev === 'acquired' && e.at > stoppedAt && e.at <= restoreAt),
  );
  expect(acquiredDown, 'acquired without a quorum').toEqual([]);

  // Back: the same processes (same clients) resume.
  await Promise.all(victims.map((s) => s.start({ waitFor: 'running' })));
  await ensemble.waitForQuorum();
  const quorumAt = now();
  const back = (t: number): number => t - restoreAt;
  const nextLeader = await Promise.any(
    candidates.map((c) => c.next((e) => e.ev === 'leader' && e.t > restoreAt, o.sessionTimeout + 30_000)),
  );
  const nextHolder = await Promise.any(
    lockers.map(async (l) => {
      await eventually(
        () => expect(timed(l).some((e) => e.ev === 'wrote' && e.at > restoreAt)).toBe(true),
        60_000,
      );
      return timed(l).find((e) => e.ev === 'acquired' && e.at > restoreAt)!;
    }),
  );
  // Progress after the restart: each locker writes again.
  await eventually(
    () => expect(lockers.every((l) => timed(l).some((e) => e.ev === 'wrote' && e.at > restoreAt))).toBe(true),
    60_000,
    50,
  );
  for (const p of [...candidates, ...lockers]) expect(p.child.exitCode, 'a process ended').toBeNull();

  // Sessions: the same one reconnected after a short outage; judged lost and replaced after a long one.
  const sessionsOf = (
    events: readonly { ev: string; type?: string; sessionId?: string; reason?: string }[],
  ) => events.filter((e) => e.ev === 'session');
  const verdicts: string[] = [];
  for (const p of [...candidates.map((c) => c.events), ...lockers.map((l) => l.events)]) {
    const s = sessionsOf(p);
    const types = s.map((e) => e.type);
    expect(types[0]).toBe('connecting');
    if (o.kind === 'short') {
      expect(types, 'the session outlived the outage').not.toContain('lost');
      expect(types).toContain('reconnected');
      expect(new Set(s.filter((e) => e.sessionId).map((e) => e.sessionId)).size).toBe(1);
    } else {
      const lost = s.find((e) => e.type === 'lost');
      expect(lost, 'the session was judged lost').toBeDefined();
      verdicts.push(lost!.reason ?? '?');
      const connected = s.filter((e) => e.type === 'connected').map((e) => e.sessionId);
      expect(connected).toHaveLength(2);
      expect(connected[1]).not.toBe(connected[0]);
    }
  }

  // No server could say `expired` while down: every client's own timer judged its session lost.
  if (o.kind === 'long') expect(verdicts, 'why each session was lost').toEqual(Array(6).fill('timeout'));

  await Promise.all(running.splice(0).map((c) => c.stop(10_000)));
  await stopParticipants(lockers);
  expect(reportedErrors(lockers)).toEqual([]);
  expectOneLeaderAtATime(fencingLog(candidates));
  expectOneHolderAtATime(holds(lockers));
  const verdict = await expectCounterExact(admin, counter, lockers);
  lockers.splice(0);

  const figures: Figures = {
    kind: o.kind,
    downMs: restoreAt - killedAt,
    sessionTimeout: o.sessionTimeout,
    leaderStepDown: leaderStep!.t - killedAt,
    holderStepDown: holderStep!.at - killedAt,
    servingUntil: downAt - killedAt,
    quorumBack: back(quorumAt),
    leaderBack: back(nextLeader.t),
    holderBack: back(nextHolder.at),
    sessions:
      o.kind === 'short'
        ? 'all 6 reconnected, same sessions'
        : `all 6 judged lost (${[...new Set(verdicts)].join(', ')}) and replaced`,
    reclaims: reclaims.length,
  };
  console.info(
    `row 4 (${o.kind}: ${o.stop} down ${figures.downMs.toFixed(0)} ms, session ${o.sessionTimeout} ms): ` +
      `leader stepped down after ${figures.leaderStepDown.toFixed(0)} ms, holder after ${figures.holderStepDown.toFixed(0)} ms ` +
      `(survivor served for ${figures.servingUntil.toFixed(0)} ms; ${reclaims.length} re-claim(s)); restart -> quorum ` +
      `${figures.quorumBack.toFixed(0)} ms, leader ${figures.leaderBack.toFixed(0)} ms, holder ${figures.holderBack.toFixed(0)} ms; ` +
      `${figures.sessions}; ` +
      `counter ${verdict.value} (${verdict.wrote} acknowledged, ${verdict.unknown} unknown, ${verdict.abandoned} abandoned)`,
  );
  results.set(o.kind, figures);
  return figures;
}

describe('row 4: quorum lost, then restored', () => {
  it('short outage (the two followers, ~2 s, within the session timeout): step down, nobody leads or holds, same sessions resume', async () => {
    await outage({ kind: 'short', sessionTimeout: 10_000, stop: 'followers', downMs: 2_000 });
  }, 180_000);

  it('long outage (the leader and a follower, beyond the session timeout): step down, sessions judged lost, new ones resume', async () => {
    await outage({ kind: 'long', sessionTimeout: 3_000, stop: 'leader and a follower', downMs: 7_000 });
  }, 180_000);

  it('records the row', async () => {
    const [short, long] = [results.get('short'), results.get('long')];
    expect(short && long, 'both outages above passed').toBeTruthy();
    const srvr = await fourLetter(zk.server.host, zk.server.clientPort, 'srvr');
    const ms = (n: number): string => `${n.toFixed(0)} ms`;
    const line = (f: Figures): string =>
      `${f.kind} (${ms(f.downMs)} down, session ${f.sessionTimeout} ms): step-down leader ${ms(f.leaderStepDown)}, ` +
      `holder ${ms(f.holderStepDown)} after the kill (the survivor served for ${ms(f.servingUntil)}); ` +
      `restart -> quorum ${ms(f.quorumBack)}, leader ${ms(f.leaderBack)}, holder ${ms(f.holderBack)}; ${f.sessions}`;
    recordFault({
      row: 4,
      scenario: 'Quorum lost, then restored',
      checked:
        'On a 3-node ensemble, 3 election candidates and 3 lock contenders (unversioned counter), each a process ' +
        'with one client for its whole life; two servers killed together, a short outage within the session ' +
        'timeout (the followers) and a long one beyond it (the leader and a follower): the leader and the holder ' +
        'step down (uncertain / lockLost); from the kill to the restart no new leadership and no acquisition (a ' +
        'leader only re-claims its own node, same token, while the survivor still serves), nobody leading or ' +
        'holding at the restart; after it a leader again and every contender writing, no process restarted; ' +
        'short: every session reconnected; long: every session judged lost by the client (no server to ask) and ' +
        'a new one opened; one leader at a time (fencing log), holds never overlap, counter exact (value = ' +
        'version).',
      figure: `${line(short!)}. ${line(long!)}`,
      server: /^Zookeeper version: ([\d.]+)/m.exec(srvr)?.[1],
    });
  });
});
