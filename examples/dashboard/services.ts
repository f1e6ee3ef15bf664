/**
 * Simulated services for the dashboard to show: candidates in two elections, a pool of workers taking
 * turns on a lock, a producer and two consumers on a work queue, and two groups of members. Each
 * candidate, worker and member is a "process" of its own: its own client, so its own session, and
 * killing it ends its session (its ephemeral nodes go with it), as a process exit does.
 *
 * With `churn` (the default), things happen by themselves: the scheduler's leader is killed now and
 * then and a new candidate joins, members come and go, the config changes. Tests turn it off and
 * drive the services themselves (kill a candidate, add a member).
 */
import {
  concatMap,
  EMPTY,
  firstValueFrom,
  interval,
  merge,
  range,
  repeat,
  startWith,
  switchMap,
  take,
  tap,
  timer,
  type Observable,
} from 'rxjs';
import { connect, enqueue, join, leadership, lock, queue, type ZkClient } from '../../src/index.js';
import { layoutUnder, type Layout } from './model.js';

export interface ServicesOptions {
  readonly connectString: string;
  readonly root: string;
  /** Leaders killed, candidates and members coming and going by themselves. Default true. */
  readonly churn?: boolean;
}

export interface Services {
  readonly layout: Layout;
  /** Ids of the running candidates of `election` (default `scheduler`), in the order they started. */
  candidates(election?: string): string[];
  /** The candidate of `election` (default `scheduler`) whose leadership() says it leads, if any. */
  leader(election?: string): string | undefined;
  /** Starts a candidate (its own client); resolves once it stands (is follower or leader). */
  addCandidate(id: string, election?: string): Promise<void>;
  /** Starts a member of `group` (default `frontends`) with `data`; resolves once it has joined. */
  addMember(id: string, data: string, group?: string): Promise<void>;
  /** The process `id` ends: its client closes without resigning or leaving first. */
  kill(id: string): Promise<void>;
  /** Stops everything: every process resigns, releases, leaves, and its client closes. */
  stop(): Promise<void>;
}

interface Process {
  readonly client: ZkClient;
  readonly role: string;
  stop(): void;
}

const between = (low: number, high: number) => low + Math.floor(Math.random() * (high - low));

export async function startServices(options: ServicesOptions): Promise<Services> {
  const { connectString, root } = options;
  const layout = layoutUnder(root);
  const processes = new Map<string, Process>();
  let stopped = false;
  /** Candidate id -> the election it leads, as its own leadership() stream says. */
  const leading = new Map<string, string>();
  const setup = connect(connectString);
  try {
    const config = JSON.stringify({ workers: 3, batch: 10 });
    for (const path of [...Object.values(layout), `${root}/status/scheduler`, `${root}/status/billing`]) {
      await setup.create(path, '', { createParents: true }).catch(exists);
    }
    await setup.create(`${root}/config`, config).catch(exists);
  } finally {
    await setup.close();
  }

  /** Runs `body` as a process of its own; resolves once it has emitted its first value. */
  async function start(id: string, role: string, body: (client: ZkClient) => Observable<unknown>) {
    // A churn step may still be on its way when stop() is called: it must not start anything after.
    if (stopped) throw new Error('the services are stopped');
    if (processes.has(id)) throw new Error(`a process named ${id} runs already`);
    const client = connect(connectString);
    let started = (): void => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const subscription = body(client)
      .pipe(tap(() => started()))
      .subscribe({ error: (error: unknown) => console.error(`${id}:`, error) });
    processes.set(id, { client, role, stop: () => subscription.unsubscribe() });
    await running;
  }

  const addCandidate = (id: string, election = 'scheduler') =>
    start(id, `candidate:${election}`, (client) =>
      leadership(client, `${layout.elections}/${election}`, { id }).pipe(
        tap((s) => (s.type === 'leader' ? leading.set(id, election) : leading.delete(id))),
        // While it leads, the leader reports in: the tree shows its heartbeats (with churn only: tests
        // want a quiet tree).
        switchMap((s) =>
          s.type !== 'leader' || options.churn === false
            ? [s]
            : interval(1_000).pipe(
                startWith(0),
                // A heartbeat lost to a connection drop is just missed (not the candidate's end).
                concatMap((beat) =>
                  client
                    .set(`${root}/status/${election}`, JSON.stringify({ leader: id, token: s.token, beat }))
                    .catch(() => undefined),
                ),
              ),
        ),
      ),
    );

  const addMember = (id: string, data: string, group = 'frontends') =>
    start(id, `member:${group}`, (client) => join(client, `${layout.groups}/${group}`, id, data));

  async function kill(id: string): Promise<void> {
    const process = processes.get(id);
    if (!process) throw new Error(`no process named ${id}`);
    processes.delete(id);
    leading.delete(id);
    // No unsubscribe first: a dying process does not resign; its session's end takes its nodes.
    await process.client.close();
    process.stop();
  }

  for (const id of ['alpha', 'beta', 'gamma']) await addCandidate(id);
  for (const id of ['east', 'west']) await addCandidate(id, 'billing');

  // A worker pool on one lock: take it, work a while holding it, let go (take(1) ends the lock()
  // subscription, which releases it), rest, again. The lock node's data names the holder.
  for (const id of ['worker-1', 'worker-2', 'worker-3']) {
    await start(id, 'worker', (client) =>
      merge(
        join(client, `${layout.groups}/workers`, id, JSON.stringify({ role: 'report worker' })),
        lock(client, `${layout.locks}/report`, { data: id }).pipe(
          switchMap((o) => (o.type === 'acquired' ? timer(between(300, 900)) : EMPTY)),
          take(1),
          repeat({ delay: () => timer(between(100, 600)) }),
        ),
      ),
    );
  }

  // A producer enqueues bursts; two consumers work through them at-least-once, one job at a time.
  await start('producer', 'producer', (client) =>
    timer(0, 1_500).pipe(
      concatMap(() => range(0, between(0, 6))),
      // A job whose enqueue failed (connection lost mid-way) is skipped; the producer goes on.
      concatMap((n) => enqueue(client, `${layout.queues}/jobs`, JSON.stringify({ job: n })).catch(() => n)),
      startWith('started'),
    ),
  );
  for (const id of ['consumer-1', 'consumer-2']) {
    await start(id, 'consumer', (client) =>
      merge(
        join(client, `${layout.groups}/workers`, id, JSON.stringify({ role: 'job consumer' })),
        queue(client, `${layout.queues}/jobs`, { mode: 'at-least-once' }).pipe(
          concatMap(async (item) => {
            await firstValueFrom(timer(between(400, 1_200)));
            // Rejects if our claim went with the session: the job goes to someone else (at-least-once).
            await item.ack().catch(() => undefined);
          }),
        ),
      ),
    );
  }

  await addMember('web-1', JSON.stringify({ port: 8081 }));
  await addMember('web-2', JSON.stringify({ port: 8082 }));

  let candidateCount = 0;
  let memberCount = 2;
  const churn = options.churn === false ? undefined : interval(4_000).subscribe((n) => void step(n));
  async function step(n: number): Promise<void> {
    try {
      switch (n % 3) {
        case 0: {
          // The scheduler's leader dies; a new candidate joins a little later.
          const leader = leaderOf('scheduler');
          if (leader !== undefined && candidatesOf('scheduler').length > 1) await kill(leader);
          await firstValueFrom(timer(2_000));
          await addCandidate(`sched-${++candidateCount}`);
          break;
        }
        case 1: {
          const frontends = [...processes].filter(([, p]) => p.role === 'member:frontends');
          if (frontends.length > 3 || (frontends.length > 1 && Math.random() < 0.5)) {
            await kill(frontends[0]![0]);
          } else {
            await addMember(`web-${++memberCount}`, JSON.stringify({ port: 8080 + memberCount }));
          }
          break;
        }
        default: {
          const config = processes.get('producer')?.client;
          await config?.set(`${root}/config`, JSON.stringify({ workers: 3, batch: between(5, 50) }));
        }
      }
    } catch (error) {
      if (!stopped) console.error('churn:', error);
    }
  }

  function leaderOf(election: string): string | undefined {
    return [...leading].find(([, e]) => e === election)?.[0];
  }

  function candidatesOf(election: string): string[] {
    return [...processes].filter(([, p]) => p.role === `candidate:${election}`).map(([id]) => id);
  }

  return {
    layout,
    leader: (election = 'scheduler') => leaderOf(election),
    candidates: (election = 'scheduler') => candidatesOf(election),
    addCandidate,
    addMember,
    kill,
    async stop() {
      stopped = true;
      churn?.unsubscribe();
      const all = [...processes.values()];
      processes.clear();
      for (const p of all) p.stop();
      await Promise.all(all.map((p) => p.client.close()));
    },
  };
}

function exists(error: unknown): void {
  if ((error as { name?: string }).name !== 'NodeExistsError') throw error;
}
