/**
 * One lock contender in its own OS process, for the real-ZooKeeper tests. Prints one JSON line per event:
 *   {"ev":"acquired","token":n} / {"ev":"releasing"}  a turn under the lock starts / ends
 *   {"ev":"wake","type":"deleted"}                     a watch notification from a get() watch (waiters'
 *                                                      only: the lock's waits read with getData)
 *   {"ev":"wrote","value":n}                           after an increment of the counter landed
 *   {"ev":"done"}                                      all increments done (then it closes and exits 0)
 *   {"ev":"error","message":".."}                      then it exits 1
 *
 * env: ZK_CONNECT, LOCK (path), COUNTER (path, optional), COUNT (increments, default 1),
 *      HOLD_MS (time to hold the lock per turn, default 0), SESSION_TIMEOUT (default 3000),
 *      TYPE (exclusive | read | write).
 */
import { acquire } from '../../src/recipes/acquire.js';
import type { LockHandle } from '../../src/recipes/hold.js';
import type { Watcher } from '../../src/transport/port.js';
import { connectFromEnv, env, run, say, sleep } from './worker-io.js';

const client = connectFromEnv(3_000);
// Count the notifications of get() watches: the lock's waiters read their predecessor with getData.
const get = client.get.bind(client);
client.get = ((path: string, options: { watch?: Watcher } = {}) => {
  const watch = options.watch;
  if (!watch) return get(path);
  return get(path, { watch: (event) => (say({ ev: 'wake', type: event.type }), watch(event)) });
}) as typeof client.get;

const lockPath = env('LOCK');
const counter = process.env['COUNTER'];
const count = Number(env('COUNT', '1'));
const holdMs = Number(env('HOLD_MS', '0'));

async function turn(): Promise<void> {
  const handle: LockHandle = await acquire(client, lockPath, {
    type: env('TYPE', 'exclusive') as 'exclusive',
  });
  say({ ev: 'acquired', token: handle.token });
  try {
    if (counter) {
      // Read-modify-write without versions: only the lock keeps two writers apart.
      const { data } = await client.get(counter);
      const value = Number(data.toString()) + 1;
      await client.set(counter, String(value));
      say({ ev: 'wrote', value });
    }
    if (holdMs > 0) await sleep(holdMs);
  } finally {
    say({ ev: 'releasing' });
    await handle.release();
  }
}

async function main(): Promise<void> {
  for (let i = 0; i < count; i++) await turn();
  say({ ev: 'done' });
  await client.close();
}

run(main);
