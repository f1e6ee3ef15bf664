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
import { acquire } from '../../src/recipes/acquire.js';
import { connectFromEnv, env, holdMarked, runTurns, say, sleep } from './worker-io.js';

const client = connectFromEnv(6_000);
const role = env('ROLE') as 'read' | 'write';
const lockPath = env('LOCK');
const counter = env('COUNTER');
const turns = Number(env('TURNS', '5'));
const holdMs = Number(env('HOLD_MS', '10'));

const readCounter = async (): Promise<number> => Number((await client.get(counter)).data.toString());

async function turn(n: number): Promise<void> {
  const handle = await acquire(client, lockPath, { type: role });
  let report: Record<string, unknown>;
  try {
    const { saw, sawEnd, held } = await holdMarked(client, role === 'read' ? 'r' : 'w', async () => {
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
      return { before, after };
    });
    // Held all along? (The safe policy ends ownership on a suspended connection: then say so.)
    if (handle.signal.aborted)
      throw new Error(`lost the lock during turn ${n}: ${String(handle.signal.reason)}`);
    report = { ev: 'held', turn: n, token: handle.token, saw, sawEnd, ...held };
  } finally {
    await handle.release();
  }
  say(report);
}

runTurns(client, turns, 20, turn);
