/**
 * A queue producer or consumer in its own OS process, for the real-ZooKeeper tests. JSON lines:
 *   producer: {"ev":"enqueued","n":count} at the end, then exits 0
 *   consumer: {"ev":"got","item":"p1:17","t":...} when an item is delivered (held from then on),
 *             {"ev":"acked","item":"p1:17","t":...} once its ack landed; runs until SIGTERM.
 * env: ZK_CONNECT, QUEUE (path), ROLE (producer | consumer), ID (producer id), COUNT (items),
 *      MODE (at-most-once | at-least-once), SESSION_TIMEOUT (default 2000).
 */
import { concatMap } from 'rxjs';
import { connect } from '../../src/index.js';
import { enqueue } from '../../src/recipes/enqueue.js';
import { queue } from '../../src/recipes/queue.js';

const say = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...event, t: performance.timeOrigin + performance.now() })}\n`);
};
const client = connect(process.env['ZK_CONNECT']!, {
  sessionTimeout: Number(process.env['SESSION_TIMEOUT'] ?? 2_000),
  connectionTimeout: 30_000,
});
const path = process.env['QUEUE']!;

if (process.env['ROLE'] === 'producer') {
  const id = process.env['ID']!;
  const count = Number(process.env['COUNT']);
  void (async () => {
    for (let i = 0; i < count; i++) await enqueue(client, path, `${id}:${i}`);
    say({ ev: 'enqueued', n: count });
    await client.close();
    process.exit(0);
  })().catch((error: unknown) => {
    say({ ev: 'error', message: String(error) });
    process.exit(1);
  });
} else {
  const mode = process.env['MODE'] as 'at-least-once' | 'at-most-once';
  // Time spent on each item between got and ack (WORK_MS), so a kill can land while an item is held.
  const work = Number(process.env['WORK_MS'] ?? 0);
  const subscription = queue(client, path, { mode, decode: (b) => b.toString() })
    .pipe(
      concatMap(async (item) => {
        const name = item.type === 'item' ? item.value : `invalid:${item.name}`;
        say({ ev: 'got', item: name });
        if (work > 0) await new Promise((resolve) => setTimeout(resolve, work));
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
