/**
 * The rxzk peer: every scenario with rxzk's recipes and streams, used as the README tells users to
 * (acquire/release, leadership(), data$, tree$, enqueue/queue at-least-once with ack, data$ fan-out).
 * Run by the orchestrator (run.ts) as `node --expose-gc --import tsx bench/suite/rxzk-worker.ts`.
 */
import { concatMap, filter, firstValueFrom, type Subscription } from 'rxjs';
import type { Leadership, ZkClient } from '../../src/index.js';
import { libraryInfo, rxzk } from './library.js';
import {
  bounded,
  handoffGaps,
  memory,
  now,
  num,
  serve,
  sleep,
  str,
  type Running,
  type SetupContext,
} from './worker-io.js';

const { acquire, connect, data$, enqueue, leadership, queue, tree$ } = rxzk;
/** Bound on any single wait inside a step: a hang guard, far above any expected time. */
const WAIT_MS = 60_000;

async function clients(context: SetupContext, n: number): Promise<ZkClient[]> {
  const opened = Array.from({ length: n }, () =>
    connect(context.connect, { sessionTimeout: context.sessionTimeout }),
  );
  await bounded(Promise.all(opened.map((c) => c.ready())), WAIT_MS, 'sessions to connect');
  return opened;
}

const closeAll = async (list: readonly ZkClient[]): Promise<void> => {
  await Promise.all(list.map((c) => c.close()));
};

/** 8 sessions, each looping `await acquire(); await release()` on one lock. */
async function lockScenario(context: SetupContext): Promise<Running> {
  const turns = num(context.params, 'turns');
  const contenders = await clients(context, num(context.params, 'contenders'));
  const path = `${context.root}/lock`;
  return {
    async step() {
      const log: [number, number][] = [];
      let holders = 0;
      let maxHolders = 0;
      const started = now();
      await Promise.all(
        contenders.map(async (client) => {
          for (let i = 0; i < turns; i++) {
            const handle = await bounded(acquire(client, path), WAIT_MS, 'acquire');
            const acquired = now();
            maxHolders = Math.max(maxHolders, ++holders);
            // One event-loop turn while holding: another acquisition could land here if exclusion broke.
            await new Promise((resolve) => setImmediate(resolve));
            holders--;
            log.push([acquired, now()]);
            await handle.release();
          }
        }),
      );
      const elapsed = now() - started;
      const { samples, overlaps } = handoffGaps(log);
      return {
        throughput: (log.length / elapsed) * 1000,
        acquisitions: log.length,
        maxHolders,
        overlaps,
        samples,
      };
    },
    teardown: () => closeAll(contenders),
  };
}

interface Seat {
  readonly client: ZkClient;
  readonly id: string;
  subscription: Subscription | undefined;
  last: Leadership['type'] | undefined;
}

/** N candidates, one session each; the leader unsubscribes, the next one's `leader` is timed. */
async function failoverScenario(context: SetupContext): Promise<Running> {
  const failovers = num(context.params, 'failovers');
  const sessions = await clients(context, num(context.params, 'candidates'));
  const path = `${context.root}/election`;
  let overlaps = 0;
  let onLeader: ((at: number) => void) | undefined;
  let onChange: (() => void) | undefined;
  const seats: Seat[] = sessions.map((client, i) => ({
    client,
    id: `c${i}`,
    subscription: undefined,
    last: undefined,
  }));
  const join = (seat: Seat): void => {
    seat.subscription = leadership(seat.client, path, { id: seat.id }).subscribe((state) => {
      const at = now();
      if (state.type === 'leader') {
        if (seats.some((s) => s !== seat && s.last === 'leader')) overlaps++;
        onLeader?.(at);
      }
      seat.last = state.type;
      onChange?.();
    });
  };
  const until = (check: () => boolean, what: string): Promise<void> =>
    bounded(
      new Promise<void>((resolve) => {
        onChange = () => {
          if (!check()) return;
          onChange = undefined;
          resolve();
        };
        onChange();
      }),
      WAIT_MS,
      what,
    );
  for (const seat of seats) join(seat);
  await until(
    () => seats.filter((s) => s.last === 'leader').length === 1 && seats.every((s) => s.last !== undefined),
    'a first leader',
  );
  return {
    async step() {
      const samples: number[] = [];
      overlaps = 0;
      for (let k = 0; k < failovers; k++) {
        const leader = seats.find((s) => s.last === 'leader');
        if (!leader) throw new Error('no leader before a failover');
        const next = new Promise<number>((resolve) => (onLeader = resolve));
        leader.last = undefined;
        const t0 = now();
        leader.subscription?.unsubscribe();
        const t1 = await bounded(next, WAIT_MS, 'the next leader');
        onLeader = undefined;
        samples.push(t1 - t0);
        // The old leader queues again (untimed) before the next failover.
        join(leader);
        await until(() => leader.last === 'follower', 'the old leader to follow');
      }
      return { samples, failovers: samples.length, overlaps };
    },
    async teardown() {
      for (const seat of seats) seat.subscription?.unsubscribe();
      await closeAll(sessions);
    },
  };
}

/** A writer session sets the node; a subscriber session's data$ sees it. */
async function changeScenario(context: SetupContext): Promise<Running> {
  const changes = num(context.params, 'changes');
  const [writer, reader] = (await clients(context, 2)) as [ZkClient, ZkClient];
  const path = `${context.root}/node`;
  await writer.create(path, 'start', { createParents: true });
  let expected = 'start';
  let seen: ((at: number) => void) | undefined;
  const subscription = data$(reader, path).subscribe((node) => {
    const at = now();
    if (node?.data.toString() === expected) seen?.(at);
  });
  await bounded(
    firstValueFrom(data$(reader, path).pipe(filter((n) => n?.data.toString() === 'start'))),
    WAIT_MS,
    'the first value',
  );
  return {
    async step(_name, round) {
      const samples: number[] = [];
      const fromCall: number[] = [];
      let early = 0;
      for (let i = 0; i < changes; i++) {
        expected = `r${round}-${i}`;
        const sawIt = new Promise<number>((resolve) => (seen = resolve));
        const called = now();
        await writer.set(path, expected);
        const resolved = now();
        const at = await bounded(sawIt, WAIT_MS, `change ${expected}`);
        seen = undefined;
        // The watch may beat the writer's own reply: zero latency, counted.
        if (at < resolved) early++;
        samples.push(Math.max(0, at - resolved));
        fromCall.push(at - called);
      }
      return { samples, fromCall, early };
    },
    async teardown() {
      subscription.unsubscribe();
      await closeAll([writer, reader]);
    },
  };
}

/** A fresh session per round: tree$ on the fixture subtree until its first (initialized) snapshot. */
async function treeScenario(context: SetupContext): Promise<Running> {
  const fixture = str(context.params, 'fixture');
  return {
    async step() {
      const [client] = (await clients(context, 1)) as [ZkClient];
      try {
        const started = now();
        const snapshot = await bounded(
          firstValueFrom(tree$(client, fixture).pipe(filter((t) => t.initialized))),
          WAIT_MS * 5,
          'tree$ to initialize',
        );
        const elapsed = now() - started;
        return { samples: [elapsed], nodes: snapshot.nodes.size };
      } finally {
        await client.close();
      }
    },
    teardown: async () => undefined,
  };
}

/** 1 producer awaiting each enqueue(), 4 consumers at-least-once, each item acked. */
async function queueScenario(context: SetupContext): Promise<Running> {
  const items = num(context.params, 'items');
  const [producer, ...consumers] = (await clients(context, 1 + num(context.params, 'consumers'))) as [
    ZkClient,
    ...ZkClient[],
  ];
  return {
    async step(_name, round) {
      const path = `${context.root}/q${round}`;
      await producer.create(path, '', { createParents: true });
      const putAt = new Array<number>(items);
      const delivered = new Set<number>();
      const samples: number[] = [];
      let duplicates = 0;
      let finished: ((at: number) => void) | undefined;
      const done = new Promise<number>((resolve) => (finished = resolve));
      const subscriptions = consumers.map((c) =>
        queue(c, path, { mode: 'at-least-once' })
          .pipe(
            concatMap(async (item) => {
              const at = now();
              const i = Number(item.data.toString());
              if (delivered.has(i)) duplicates++;
              else {
                delivered.add(i);
                samples.push(at - putAt[i]!);
                if (delivered.size === items) finished?.(at);
              }
              await item.ack();
            }),
          )
          .subscribe(),
      );
      // Let the consumers read the empty queue and watch it, as the other peers' do.
      await sleep(200);
      const started = now();
      for (let i = 0; i < items; i++) {
        putAt[i] = now();
        await enqueue(producer, path, `${i}`);
      }
      const ended = await bounded(done, WAIT_MS * 5, 'every item delivered');
      // Acked means deleted: wait (bounded) until the queue holds no item before stopping the consumers.
      const left = async (): Promise<number> =>
        (await producer.children(path)).children.filter((n) => n !== 'claims').length;
      const deadline = now() + WAIT_MS;
      let leftover = await left();
      while (leftover > 0 && now() < deadline) {
        await sleep(10);
        leftover = await left();
      }
      for (const s of subscriptions) s.unsubscribe();
      return {
        throughput: (items / (ended - started)) * 1000,
        samples,
        delivered: delivered.size,
        duplicates,
        leftover,
      };
    },
    teardown: () => closeAll([producer, ...consumers]),
  };
}

/** 10 data$ subscribers on each of 1,000 paths; memory, delivery of one change to all 10, release. */
async function fanoutScenario(context: SetupContext): Promise<Running> {
  const fixture = str(context.params, 'fixture');
  const paths = Array.from({ length: num(context.params, 'paths') }, (_, i) => `${fixture}/p${i}`);
  const perPath = num(context.params, 'subscribers');
  const changes = num(context.params, 'changes');
  let sessions: ZkClient[] = [];
  let subscriptions: Subscription[] = [];
  let wanted: { path: string; value: string; count: number; last: number; done?: () => void } | undefined;
  return {
    async step(name, round) {
      switch (name) {
        case 'subscribe': {
          sessions = await clients(context, 2);
          const reader = sessions[0]!;
          const before = await memory();
          const firsts: Promise<unknown>[] = [];
          for (const path of paths) {
            for (let k = 0; k < perPath; k++) {
              let first: (() => void) | undefined;
              firsts.push(new Promise<void>((resolve) => (first = resolve)));
              subscriptions.push(
                data$(reader, path).subscribe((node) => {
                  first?.();
                  first = undefined;
                  const w = wanted;
                  if (w && w.path === path && node?.data.toString() === w.value) {
                    w.last = now();
                    if (++w.count === perPath) w.done?.();
                  }
                }),
              );
            }
          }
          await bounded(Promise.all(firsts), WAIT_MS * 5, 'every first value');
          const after = await memory();
          return {
            subscriptions: subscriptions.length,
            heapBytes: after.heap - before.heap,
            rssBytes: after.rss - before.rss,
          };
        }
        case 'deliver': {
          const writer = sessions[1]!;
          const samples: number[] = [];
          const fromCall: number[] = [];
          for (let k = 0; k < changes; k++) {
            const path = paths[(k * 7919) % paths.length]!;
            const value = `r${round}-${k}`;
            const all = new Promise<void>((resolve) => {
              wanted = { path, value, count: 0, last: 0, done: resolve };
            });
            const called = now();
            await writer.set(path, value);
            const resolved = now();
            await bounded(all, WAIT_MS, `change of ${path} to reach every subscriber`);
            samples.push(Math.max(0, wanted!.last - resolved));
            fromCall.push(wanted!.last - called);
            wanted = undefined;
          }
          return { samples, fromCall };
        }
        case 'unsubscribe': {
          for (const s of subscriptions) s.unsubscribe();
          subscriptions = [];
          // The watch removals are sent when the last subscriber of a path leaves; let them land.
          const reader = sessions[0]!;
          const deadline = now() + WAIT_MS;
          while (reader.armedWatchCount > 0 && now() < deadline) await sleep(5);
          await reader.sync('/');
          return {};
        }
        case 'close':
          await closeAll(sessions);
          sessions = [];
          return {};
        default:
          throw new Error(`no step ${name}`);
      }
    },
    async teardown() {
      for (const s of subscriptions) s.unsubscribe();
      await closeAll(sessions);
    },
  };
}

serve(() => libraryInfo(), {
  lock: lockScenario,
  failover: failoverScenario,
  change: changeScenario,
  tree: treeScenario,
  queue: queueScenario,
  fanout: fanoutScenario,
});
