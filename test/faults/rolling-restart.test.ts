/**
 * Fault matrix, row 3 (issue 7): a rolling restart of all three servers under load.
 *
 * Under load: 3 election candidates (test/recipes/candidate.ts), 3 lock contenders incrementing an
 * unversioned counter, 2 queue producers and 3 at-least-once consumers (ensemble-worker.ts), each an OS
 * process with one client for its life; in this process a writer that keeps changing a node and a
 * parent's children, and an observer following them with data$ and children$. The servers are
 * restarted one at a time (stopped with SIGTERM, started, a quorum again), with load in between.
 *
 * Checks: never two leaders (fencing log) and mutual exclusion (the counter exact); no queue item lost
 * (every item enqueued is acked); no item held by two live consumers at once, and no item delivered
 * twice unless its first consumer's session was lost meanwhile (named); the observer's streams only
 * move forward and converge to the server's final state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { children$, data$, type ZkClient } from '../../src/index.js';
import { eventually, sleep, zkSuite } from '../support/fixture.js';
import { fourLetter } from '../support/fourLetter.js';
import { workerPool } from '../support/processes.js';
import { expectOneLeaderAtATime, fencingLog, spawnCandidate, type Candidate } from '../recipes/candidates.js';
import {
  CLOCK_SLACK_MS,
  expectCounterExact,
  expectOneHolderAtATime,
  holds,
  longestGap,
  now,
  recordStates,
  reportedErrors,
  spawnParticipant,
  stopParticipants,
  timed,
  type Participant,
} from './ensemble.js';
import { recordFault } from './record.js';

const SESSION_TIMEOUT = 6_000;
const zk = zkSuite({ ensemble: 3, tickTime: 500 });
const pool = workerPool({ termGraceMs: 10_000 });
const running: Candidate[] = [];
const participants: Participant[] = [];

afterEach(async () => {
  await zk.ensemble!.restartStopped();
  await Promise.all(running.splice(0).map((c) => c.stop(10_000)));
  await stopParticipants(participants.splice(0));
  await pool.stopAll();
});

/** The in-process writer: a counter in `<data>`, and children `kid-N` under `<kids>` (the last 3 kept). */
function startWriter(
  w: ZkClient,
  dataPath: string,
  kids: string,
): { stop: () => Promise<void>; gaps: () => number } {
  let stopping = false;
  let last = now();
  let longest = 0;
  const landed = (): void => {
    const t = now();
    longest = Math.max(longest, t - last);
    last = t;
  };
  const done = (async () => {
    for (let i = 1; !stopping; i++) {
      // Outcomes may be unknown (a reply lost in a restart): the final state is read from the server.
      await w.set(dataPath, String(i)).then(landed, () => undefined);
      if (i % 2 === 0) {
        await w.create(`${kids}/kid-${i}`).catch(() => undefined);
        await w.delete(`${kids}/kid-${i - 6}`).catch(() => undefined);
      }
      await sleep(25);
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await done;
    },
    gaps: () => longest,
  };
}

describe('row 3: rolling restart of the ensemble under load', () => {
  it('every server restarted in turn: one leader at a time, counter exact, no item lost or held twice, streams converge', async () => {
    const ensemble = zk.ensemble!;
    const root = zk.root;
    const admin = zk.client();
    const [counter, queuePath, dataPath, kids] = [
      `${root}/counter`,
      `${root}/q`,
      `${root}/watched`,
      `${root}/kids`,
    ];
    await admin.create(counter, '0');
    await admin.create(dataPath, '0');
    await admin.create(kids);

    const env = { ZK_CONNECT: zk.connectString, SESSION_TIMEOUT: String(SESSION_TIMEOUT) };
    const candidates = ['a', 'b', 'c'].map((id) =>
      spawnCandidate({
        connectString: zk.connectString,
        election: `${root}/election`,
        id,
        sessionTimeout: SESSION_TIMEOUT,
      }),
    );
    running.push(...candidates);
    const lockers = [0, 1, 2].map((i) =>
      spawnParticipant(pool, 'locker', `l${i}`, {
        ...env,
        LOCK: `${root}/lock`,
        COUNTER: counter,
        PAUSE_MS: '10',
      }),
    );
    const producers = [0, 1].map((i) =>
      spawnParticipant(pool, 'producer', `p${i}`, { ...env, QUEUE: queuePath, INTERVAL_MS: '25' }),
    );
    const consumers = [0, 1, 2].map((i) =>
      spawnParticipant(pool, 'consumer', `c${i}`, { ...env, QUEUE: queuePath, WORK_MS: '5' }),
    );
    participants.push(...lockers, ...producers, ...consumers);

    // The writer and the observer, in this process.
    const writer = zk.client({ sessionTimeout: SESSION_TIMEOUT });
    const observer = zk.client({ sessionTimeout: SESSION_TIMEOUT });
    const observerStates = recordStates(observer);
    const values: number[] = [];
    const lists: (readonly string[] | null)[] = [];
    const subscriptions = [
      data$(observer, dataPath).subscribe((d) => values.push(Number(d?.data.toString()))),
      children$(observer, kids).subscribe((c) => lists.push(c?.children ?? null)),
    ];
    const writing = startWriter(writer, dataPath, kids);

    const count = (ps: readonly Participant[], ev: string, after = 0): number =>
      ps.flatMap((p) => timed(p).filter((e) => e.ev === ev && e.at > after)).length;
    await eventually(
      () => {
        expect(candidates.filter((c) => c.events.some((e) => e.ev === 'leader'))).toHaveLength(1);
        for (const l of lockers) expect(l.events.some((e) => e.ev === 'wrote')).toBe(true);
        for (const c of consumers) expect(c.events.some((e) => e.ev === 'acked')).toBe(true);
        for (const p of producers) expect(p.events.some((e) => e.ev === 'enqueued')).toBe(true);
        expect(values.length).toBeGreaterThan(2);
      },
      60_000,
      50,
    );

    // The rolling restart: each server in turn, with load in between.
    const startedAt = now();
    const ensembleLeaders: number[] = [(await ensemble.leader()).id];
    for (const server of ensemble.servers) {
      const before = { wrote: count(lockers, 'wrote'), acked: count(consumers, 'acked') };
      await server.stop({ graceMs: 5_000 });
      await server.start({ waitFor: 'running' });
      await ensemble.waitForQuorum();
      ensembleLeaders.push((await ensemble.leader()).id);
      // Load goes on: every kind of work progressed since this restart began.
      await eventually(
        () => {
          expect(count(lockers, 'wrote')).toBeGreaterThan(before.wrote + 5);
          expect(count(consumers, 'acked')).toBeGreaterThan(before.acked + 5);
        },
        SESSION_TIMEOUT + 30_000,
        50,
      );
      await sleep(2_000);
    }
    const restartedAt = now();
    await sleep(1_000);

    // Wind down: producers first; then the queue must drain (nothing lost, nothing stuck).
    await stopParticipants(producers);
    await eventually(
      async () => {
        const { children } = await admin.children(queuePath);
        const claims = (await admin.children(`${queuePath}/claims`)).children;
        const stuck = await Promise.all(
          children
            .filter((c) => c !== 'claims')
            .map(async (name) => {
              const item = (await admin.get(`${queuePath}/${name}`).catch(() => undefined))?.data.toString();
              const claim = await admin.exists(`${queuePath}/claims/${name}`);
              const seen = consumers.flatMap((c) =>
                c.events
                  .filter((e) => e.item === item)
                  .map((e) => `${c.id}:${e.ev}${e.message ? `(${e.message})` : ''}`),
              );
              return `${item} claim ${claim?.ephemeralOwner ?? 'none'}: ${seen.join(' ')}`;
            }),
        );
        const sessions = consumers.map(
          (c) =>
            `${c.id} ${c.events
              .filter((e) => e.ev === 'session')
              .map((e) => `${e.type}:${e.sessionId ?? ''}`)
              .join(' ')}`,
        );
        expect(children, `items left in the queue: ${stuck.join('; ')}; ${sessions.join('; ')}`).toEqual([
          'claims',
        ]);
        expect(claims, 'claims left').toEqual([]);
      },
      60_000,
      200,
    );
    await writing.stop();
    for (const p of [...candidates, ...lockers, ...consumers])
      expect(p.child.exitCode, 'a process ended').toBeNull();
    await Promise.all(running.splice(0).map((c) => c.stop(10_000)));
    await stopParticipants(participants.splice(0));
    expect(reportedErrors([...lockers, ...producers, ...consumers])).toEqual([]);

    // Never two leaders; mutual exclusion.
    const log = fencingLog(candidates);
    expectOneLeaderAtATime(log);
    // The counter first: the exact proof; the holds' order on the workers' clocks after it.
    const verdict = await expectCounterExact(admin, counter, lockers);
    expectOneHolderAtATime(holds(lockers));

    // The queue: every enqueued item acked; holds of one item never overlap between live consumers;
    // an item delivered again only after its first consumer lost its session.
    const enqueued = producers.flatMap((p) =>
      p.events.filter((e) => e.ev === 'enqueued').map((e) => e.item!),
    );
    const acked = new Set(
      consumers.flatMap((c) => c.events.filter((e) => e.ev === 'acked').map((e) => e.item!)),
    );
    expect(
      enqueued.filter((item) => !acked.has(item)),
      'items enqueued and never acked',
    ).toEqual([]);
    // By queue node: an item delivered twice from one node (a consumer's redelivery) must follow a lost
    // session. One payload in two nodes is another thing: one enqueue() that made two (see below).
    const deliveries = new Map<
      string,
      { consumer: Participant; item: string; got: number; end: number; lost: boolean }[]
    >();
    for (const c of consumers) {
      const events = c.events;
      // On the monotonic clock, one for every process (see ensemble-worker.ts).
      const lostAt = events.filter((e) => e.ev === 'session' && e.type === 'lost').map((e) => e.mono);
      const suspendedAt = events
        .filter((e) => e.ev === 'session' && e.type === 'suspended')
        .map((e) => e.mono);
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        if (e.ev !== 'got') continue;
        const settled = events
          .slice(i + 1)
          .find((x) => ['acked', 'ackLost', 'ackFailed'].includes(x.ev) && x.item === e.item);
        const end = settled?.mono ?? Infinity;
        // Its session lost while it held the item: from its suspension on, the claim was not a live one.
        const lost = lostAt.find((t) => t > e.mono && t <= end);
        const liveUntil =
          lost === undefined ? end : Math.max(e.mono, ...suspendedAt.filter((t) => t <= lost));
        (deliveries.get(e.node!) ?? deliveries.set(e.node!, []).get(e.node!)!).push({
          consumer: c,
          item: e.item!,
          got: e.mono,
          end: liveUntil,
          lost: lost !== undefined || settled?.ev === 'ackLost',
        });
      }
    }
    const redelivered: string[] = [];
    for (const spans of deliveries.values()) {
      spans.sort((x, y) => x.got - y.got);
      for (let i = 1; i < spans.length; i++) {
        const [first, again] = [spans[i - 1]!, spans[i]!];
        const item = first.item;
        expect(
          first.lost,
          `${item} delivered again (to ${again.consumer.id}) though ${first.consumer.id} kept its session: ` +
            JSON.stringify(
              [first.consumer, again.consumer].map((c) => [
                c.id,
                c.events
                  .filter((e) => e.item === item || e.ev === 'session' || e.ev === 'error')
                  .map((e) => [e.ev, e.item ?? e.type, e.message, e.mono.toFixed(1)]),
              ]),
            ),
        ).toBe(true);
        expect(
          again.got + CLOCK_SLACK_MS,
          `${item} held by ${first.consumer.id} and ${again.consumer.id} at once`,
        ).toBeGreaterThanOrEqual(first.end);
        redelivered.push(`${item} (${first.consumer.id} lost its session, then ${again.consumer.id})`);
      }
    }
    // One payload in two nodes: only one enqueue() whose create lost its reply in a restart and, finding
    // no node with its GUID, created again; the first node had been consumed (deleted) meanwhile, so the
    // GUID search could not see it. Both nodes carry the same protection GUID.
    const guid = (node: string): string => /^_c_([0-9a-f-]{36})-/.exec(node)?.[1] ?? node;
    const nodesOf = new Map<string, Set<string>>();
    for (const [node, spans] of deliveries) {
      const item = spans[0]!.item;
      nodesOf.set(item, (nodesOf.get(item) ?? new Set()).add(node));
    }
    const duplicated: string[] = [];
    for (const [item, nodes] of nodesOf) {
      if (nodes.size < 2) continue;
      expect(new Set([...nodes].map(guid)).size, `${item} enqueued as ${[...nodes].join(', ')}`).toBe(1);
      duplicated.push(item);
    }

    // The observer: only forward, and converged to the server's final state.
    await eventually(async () => {
      await admin.sync(dataPath);
      const { data } = await admin.get(dataPath);
      expect(values.at(-1)).toBe(Number(data.toString()));
      const { children } = await admin.children(kids);
      expect(lists.at(-1)).toEqual([...children].sort());
    }, 15_000);
    for (let i = 1; i < values.length; i++)
      expect(values[i]!, 'data$ went back').toBeGreaterThan(values[i - 1]!);
    for (let i = 1; i < lists.length; i++)
      expect(lists[i], 'children$ twice in a row').not.toEqual(lists[i - 1]);
    for (const s of subscriptions) s.unsubscribe();
    expect(observerStates.map((s) => s.type)).not.toContain('lost');

    // Figures.
    const leaderChanges = log.filter((l, i) => i > 0 && l.id !== log[i - 1]!.id).length;
    const ensembleLeaderChanges = ensembleLeaders.filter(
      (id, i) => i > 0 && id !== ensembleLeaders[i - 1],
    ).length;
    const pauseLock = longestGap(lockers, (e) => e.ev === 'wrote', startedAt, restartedAt);
    const pauseQueue = longestGap(consumers, (e) => e.ev === 'acked', startedAt, restartedAt);
    const lostSessions = [
      ...candidates.map((c) => [c.id, c.events] as const),
      ...participants.map((p) => [p.id, p.events] as const),
    ]
      .filter(([, events]) => events.some((e) => e.ev === 'session' && e.type === 'lost'))
      .map(([id]) => id);
    const ms = (n: number): string => `${n.toFixed(0)} ms`;
    const figure =
      `3 restarts (ensemble leader ${ensembleLeaders.join(' -> ')}: ${ensembleLeaderChanges} change(s)); ` +
      `election: ${log.length} leaderships, ${leaderChanges} change(s) of leader; counter ${verdict.value} ` +
      `(${verdict.wrote} acknowledged, ${verdict.unknown} unknown, ${verdict.abandoned} abandoned); ` +
      `${enqueued.length} items, ${redelivered.length} redelivered, ${duplicated.length} enqueued twice by one call; ` +
      `sessions lost: ${lostSessions.length === 0 ? 'none' : lostSessions.join(', ')}; ` +
      `max pause: lock ${ms(pauseLock)}, queue ${ms(pauseQueue)}, writer ${ms(writing.gaps())}`;
    console.info(
      `row 3: ${figure}${redelivered.length ? `; redelivered: ${redelivered.join('; ')}` : ''}` +
        `${duplicated.length ? `; enqueued twice: ${duplicated.join(', ')}` : ''}`,
    );
    const srvr = await fourLetter(zk.server.host, zk.server.clientPort, 'srvr');
    recordFault({
      row: 3,
      scenario: 'Rolling restart of the ensemble under load',
      checked:
        'Each of 3 servers stopped (SIGTERM), started and a quorum awaited in turn, under 3 election candidates, ' +
        '3 lock contenders incrementing an unversioned counter, 2 producers and 3 at-least-once consumers ' +
        '(processes, one client each for the whole run) and an in-process writer and observer (data$, ' +
        'children$): one leader at a time (fencing log), holds never overlap and the counter exact (value = ' +
        'version, every acknowledged write in it); every enqueued item acked, none held by two live consumers ' +
        'at once, no node delivered twice unless its first consumer lost its session (one payload in two nodes ' +
        'only from one enqueue() call, both nodes with its GUID: see the known limitation); the streams only moved ' +
        "forward and converged to the server's final state; no process restarted, no error. Found and fixed: an " +
        "ack whose delete lost its reply in a restart left the item behind the consumer's live claim (never " +
        'redelivered nor consumed); ack() now sends the delete again while the claim is ours.',
      figure,
      server: /^Zookeeper version: ([\d.]+)/m.exec(srvr)?.[1],
      known: [
        'enqueue() after a lost reply looks for its node by its protection GUID and creates it again when it is ' +
          'not there; a consumer may have taken and acked it in between (a server stopped before replying ' +
          'while the others went on), so the payload is enqueued twice: seen once in about 15 runs (a consumer ' +
          "took the item 80 ms after its producer reconnected; the test tells it from a consumer's redelivery by " +
          'the shared GUID). ' +
          "ZooKeeper keeps nothing of a deleted node, so the default ('retry': never lost) stays; " +
          "enqueue(..., { onLostReply: 'reject' }) rejects with ConnectionLossError instead (never twice, the " +
          'caller settles it; test/lost-reply.test.ts makes both happen). Plan, if asked for: consumers keep a ' +
          'short-lived record of acked GUIDs under the queue for the search to consult.',
      ],
    });
  }, 240_000);
});
