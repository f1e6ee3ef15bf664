/**
 * One reader or writer of the read/write lock in its own OS process, for the real-ZooKeeper tests.
 * Prints one JSON line per event:
 *   {"ev":"ready"}                          connected; then waits until the GO node exists
 *   {"ev":"held","turn":n,"token":n,        one turn under the lock, reported after its marker is gone:
 *    "saw":[..],"sawEnd":[..],              the markers under HOLDERS listed right after ours was
 *    "before":n,"after":n}                  created and again just before deleting it; the counter read
 *                                           at the start and the end of the hold (a writer's `after`
 *                                           is the value it wrote)
 *   {"ev":"done"} / {"ev":"error","message":".."}
 *
 * Each turn: acquire (ROLE read | write), create the ephemeral marker HOLDERS/r-<ID> (or w-<ID>), list
 * HOLDERS, then a reader reads COUNTER, holds HOLD_MS..2*HOLD_MS, reads it again; a writer reads it
 * and writes it plus one without a version (only the lock keeps writers apart), then holds. List
 * HOLDERS again, delete the marker, release. A random 0..20 ms pause between turns.
 *
 * env: ZK_CONNECT, LOCK, COUNTER, HOLDERS, GO (paths), ROLE, ID, TURNS (default 5),
 *      HOLD_MS (default 10), SESSION_TIMEOUT (default 6000).
 */
import { connect } from '../../src/index.js';
import { acquire } from '../../src/recipes/acquire.js';

const say = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...event, t: performance.timeOrigin + performance.now() })}\n`);
};
const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const client = connect(env('ZK_CONNECT'), {
  sessionTimeout: Number(env('SESSION_TIMEOUT', '6000')),
  connectionTimeout: 30_000,
});
const role = env('ROLE') as 'read' | 'write';
const lockPath = env('LOCK');
const counter = env('COUNTER');
const holders = env('HOLDERS');
const marker = `${holders}/${role === 'read' ? 'r' : 'w'}-${env('ID')}`;
const turns = Number(env('TURNS', '5'));
const holdMs = Number(env('HOLD_MS', '10'));

const readCounter = async (): Promise<number> => Number((await client.get(counter)).data.toString());
const listHolders = async (): Promise<string[]> => (await client.children(holders)).children.sort();

async function turn(n: number): Promise<void> {
  const handle = await acquire(client, lockPath, { type: role });
  let report: Record<string, unknown>;
  try {
    await client.create(marker, '', { mode: 'ephemeral' });
    const saw = await listHolders();
    const before = await readCounter();
    let after: number;
    if (role === 'write') {
      after = before + 1;
      await client.set(counter, String(after));
      await sleep(holdMs);
    } else {
      await sleep(holdMs + Math.random() * holdMs);
      after = await readCounter();
    }
    const sawEnd = await listHolders();
    await client.delete(marker);
    // Held all along? (The safe policy ends ownership on a suspended connection: then say so.)
    if (handle.signal.aborted)
      throw new Error(`lost the lock during turn ${n}: ${String(handle.signal.reason)}`);
    report = { ev: 'held', turn: n, token: handle.token, saw, sawEnd, before, after };
  } finally {
    await handle.release();
  }
  say(report);
}

async function main(): Promise<void> {
  await client.exists(holders);
  say({ ev: 'ready' });
  const go = env('GO');
  while (!(await client.exists(go))) await sleep(10);
  for (let i = 0; i < turns; i++) {
    await turn(i);
    await sleep(Math.random() * 20);
  }
  say({ ev: 'done' });
  await client.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    say({ ev: 'error', message: String(error) });
    process.exit(1);
  },
);
