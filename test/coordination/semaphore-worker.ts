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
import { connect } from '../../src/index.js';
import { semaphore } from '../../src/recipes/semaphore.js';

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
const sem = env('SEM');
const leases = Number(env('LEASES'));
const holders = env('HOLDERS');
const marker = `${holders}/h-${env('ID')}`;
const rounds = Number(env('ROUNDS', '5'));
const holdMs = Number(env('HOLD_MS', '20'));

const listHolders = async (): Promise<string[]> => (await client.children(holders)).children.sort();

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
            await client.create(marker, '', { mode: 'ephemeral' });
            const saw = await listHolders();
            await sleep(holdMs + Math.random() * holdMs);
            const sawEnd = await listHolders();
            // Our marker goes before the lease does: the markers can only over-report overlap.
            await client.delete(marker);
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

async function main(): Promise<void> {
  await client.exists(holders);
  say({ ev: 'ready' });
  const go = env('GO');
  while (!(await client.exists(go))) await sleep(10);
  for (let i = 0; i < rounds; i++) {
    await round(i);
    await sleep(Math.random() * 10);
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
