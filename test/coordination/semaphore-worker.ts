/**
 * One semaphore participant in its own OS process, for the real-ZooKeeper tests. JSON lines:
 *   {"ev":"ready"}                                        connected; then waits until the GO node exists
 *   {"ev":"held","round":n,"token":n,"saw":[..],"sawEnd":[..]}
 *       one round holding a lease, reported after its marker is gone: the markers under HOLDERS listed
 *       right after ours was created, and again just before deleting it
 *   {"ev":"done"} / {"ev":"error","message":".."}
 *
 * Each round: subscribe to semaphore(SEM, { leases: LEASES }); once acquired, create the ephemeral
 * marker HOLDERS/h-<ID>, list HOLDERS, hold HOLD_MS..2*HOLD_MS, list again, delete the marker, then
 * unsubscribe (releases the lease). A random 0..10 ms pause between rounds.
 *
 * env: ZK_CONNECT, SEM, HOLDERS, GO (paths), LEASES, ID, ROUNDS (default 5), HOLD_MS (default 20),
 *      SESSION_TIMEOUT (default 6000).
 */
import { Subscription } from 'rxjs';
import { semaphore } from '../../src/recipes/semaphore.js';
import { connectFromEnv, env, holdMarked, runTurns, say, sleep } from './worker-io.js';

const client = connectFromEnv(6_000);
const sem = env('SEM');
const leases = Number(env('LEASES'));
const rounds = Number(env('ROUNDS', '5'));
const holdMs = Number(env('HOLD_MS', '20'));

/** One round: acquire a lease, hold it with our marker up, release. */
const round = (n: number): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    let holding = false;
    let done = false;
    // Unsubscribing it first is fine: what is added later is unsubscribed at once.
    const subscription = new Subscription();
    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      subscription.unsubscribe();
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    subscription.add(
      semaphore(client, sem, { leases }).subscribe({
        next: (o) => {
          if (o.type === 'lost') return finish(new Error(`lost the lease in round ${n} (${o.reason})`));
          if (o.type !== 'acquired' || holding) return;
          holding = true;
          void (async () => {
            // Our marker goes before the lease does: the markers can only over-report overlap.
            const { saw, sawEnd } = await holdMarked(client, 'h', () =>
              sleep(holdMs + Math.random() * holdMs),
            );
            if (done) return;
            say({ ev: 'held', round: n, token: o.token, saw, sawEnd });
            finish();
          })().catch(finish);
        },
        error: finish,
        complete: () => finish(new Error(`the semaphore completed in round ${n}`)),
      }),
    );
  });

runTurns(client, rounds, 10, round);
