/**
 * A queue producer or consumer in its own OS process, for the real-ZooKeeper tests. JSON lines:
 *   producer: {"ev":"enqueued","n":count} at the end, then exits 0
 *   consumer: {"ev":"got","item":"p1:17","t":...} when an item is delivered (held from then on),
 *             {"ev":"acked","item":"p1:17","t":...} once its ack landed; runs until SIGTERM.
 *   either: {"ev":"error","message":".."} (a producer then exits 1)
 * env: ZK_CONNECT, QUEUE (path), ROLE (producer | consumer), ID (producer id), COUNT (items),
 *      MODE (at-most-once | at-least-once), WORK_MS (per item, default 0), SESSION_TIMEOUT (default 2000).
 */
import { concatMap } from 'rxjs';
import { enqueue } from '../../src/recipes/enqueue.js';
import { queue } from '../../src/recipes/queue.js';
import { connectFromEnv, env, run, say, sleep } from './worker-io.js';

const client = connectFromEnv(2_000);
const path = env('QUEUE');

if (env('ROLE') === 'producer') {
  const id = env('ID');
  const count = Number(env('COUNT'));
  run(async () => {
    for (let i = 0; i < count; i++) await enqueue(client, path, `${id}:${i}`);
    say({ ev: 'enqueued', n: count });
    await client.close();
  });
} else {
  const mode = env('MODE') as 'at-least-once' | 'at-most-once';
  // Time spent on each item between got and ack (WORK_MS), so a kill can land while an item is held.
  const work = Number(env('WORK_MS', '0'));
  const subscription = queue(client, path, { mode, decode: (b) => b.toString() })
    .pipe(
      concatMap(async (item) => {
        const name = item.type === 'item' ? item.value : `invalid:${item.name}`;
        say({ ev: 'got', item: name });
        if (work > 0) await sleep(work);
        await item.ack();
        say({ ev: 'acked', item: name });
      }),
    )
    .subscribe({ error: (error: unknown) => say({ ev: 'error', message: String(error) }) });
  process.once('SIGTERM', () => {
    subscription.unsubscribe();
    void client.close().then(() => process.exit(0));
  });
}
