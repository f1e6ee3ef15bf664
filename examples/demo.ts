/**
 * rxzk in half a minute, with no server: live znode streams on the embedded in-memory ZooKeeper.
 *
 *   npm run demo                                   # embedded (memory://)
 *   ZK_CONNECT=127.0.0.1:2181 npm run demo         # a real ensemble
 *
 * A watcher follows a subtree (tree$ events), one config node (data$, decoded), the election's leader
 * (leader$) and its own session (state$). Two "services" run for leadership and write meanwhile: they
 * join as ephemeral members, change the config (once with a bad payload, which is reported and does
 * not kill the stream) and queue a job. The leader resigns and the other takes over. Then the watcher's
 * session is expired: its streams heal on the new session by themselves and report what changed
 * meanwhile. Finally a service leaves and its ephemeral member disappears from the tree.
 */
import { filter, firstValueFrom, map, merge } from 'rxjs';
import {
  connect,
  CreateMode,
  data$,
  decode,
  leader$,
  leadership,
  treeEvents$,
  type Leadership,
  type TreeEvent,
} from '../src/index.js';
import { expireSession } from '../src/testing/index.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function main(
  connectString = process.env['ZK_CONNECT'] ?? 'memory://',
  root = '/rxzk-demo',
): Promise<string[]> {
  const started = performance.now();
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    console.log(`${String(Math.round(performance.now() - started)).padStart(5)} ms  ${line}`);
  };
  say(`connecting to ${connectString}`);
  const watcher = connect(connectString, { sessionTimeout: 10_000 });
  const serviceA = connect(connectString);
  const serviceB = connect(connectString);
  const election = `${root}/election`;
  try {
    await serviceA.create(`${root}/config`, JSON.stringify({ workers: 2 }), { createParents: true });
    await serviceA.create(`${root}/members`, '');
    await serviceA.create(`${root}/jobs`, '');

    const describe = (e: TreeEvent) =>
      e.type === 'initialized' ? 'tree initialized' : `tree ${e.type.padEnd(7)} ${e.node.path}`;
    const live = merge(
      watcher.state$.pipe(map((s) => `session ${s.type}${'sessionId' in s ? ` ${s.sessionId}` : ''}`)),
      treeEvents$(watcher, root).pipe(map(describe)),
      data$(watcher, `${root}/config`).pipe(
        decode((text) => JSON.parse(text) as { workers: number }),
        map((c) =>
          c === null
            ? 'config: none'
            : c.ok
              ? `config: workers=${c.value.workers}`
              : `config rejected: ${c.error.message}`,
        ),
      ),
      leader$(watcher, election).pipe(
        map((l) => `leader: ${l === null ? 'none' : `${l.id} (token ${l.token})`}`),
      ),
    ).subscribe(say);
    await firstValueFrom(treeEvents$(watcher, root).pipe(filter((e) => e.type === 'initialized')));

    // Each service runs for leadership; only `leader` means "do the work now".
    const role = (name: string) => (s: Leadership) =>
      say(
        `${name}: ${s.type === 'leader' ? `leads, token ${s.token}` : s.type === 'follower' ? `follows ${s.leader}` : s.type}`,
      );
    const candidateA = leadership(serviceA, election, { id: 'service-a' }).subscribe(role('service A'));
    await firstValueFrom(leader$(watcher, election).pipe(filter((l) => l !== null)));
    const candidateB = leadership(serviceB, election, { id: 'service-b' }).subscribe(role('service B'));

    await serviceA.create(`${root}/members/a`, 'service A', { mode: CreateMode.Ephemeral });
    await serviceB.create(`${root}/members/b`, 'service B', { mode: CreateMode.Ephemeral });
    await pause(100);
    await serviceA.set(`${root}/config`, JSON.stringify({ workers: 4 }));
    await pause(100);
    await serviceB.set(`${root}/config`, '{ not json'); // reported; the stream lives on
    await pause(100);
    await serviceA.create(`${root}/jobs/job-`, 'resize', { mode: CreateMode.PersistentSequential });
    await pause(100);

    say('-- service A resigns: service B takes over');
    candidateA.unsubscribe();
    await firstValueFrom(leader$(watcher, election).pipe(filter((l) => l?.id === 'service-b')));
    await pause(100);

    say('-- expiring the watcher session: its streams heal on the next one');
    await expireSession(watcher);
    await serviceB.set(`${root}/config`, JSON.stringify({ workers: 8 })); // while it reconnects
    await watcher.ready();
    await pause(200);

    say('-- service B leaves: its ephemeral member and its candidacy go with its session');
    candidateB.unsubscribe();
    await serviceB.close();
    await pause(200);
    live.unsubscribe();
    return lines;
  } finally {
    await serviceB.close();
    const jobs = await serviceA.children(`${root}/jobs`).then(
      (r) => r.children,
      () => [] as string[],
    );
    for (const job of jobs) await serviceA.delete(`${root}/jobs/${job}`).catch(() => undefined);
    for (const path of [`${root}/jobs`, `${root}/members`, `${root}/config`, election, root]) {
      await serviceA.delete(path).catch(() => undefined);
    }
    await serviceA.close();
    await watcher.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
