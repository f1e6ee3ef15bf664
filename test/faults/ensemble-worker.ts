/**
 * One participant of the ensemble fault rows (3, 4, 8) in its own OS process: a fenced lock contender,
 * a queue producer or consumer, or a group member, that rides out every fault instead of exiting on the
 * first error (the coordination workers stop at the first one: they test the recipes, these the faults).
 * It reports one JSON line per event (worker-io.ts `say`, plus `mono`), its session's states included:
 *   every role: {"ev":"session","type":"suspended","sessionId":"..","reason":".."}, {"ev":"exit"}
 *   locker:   acquired {token, sessionId} / read {value} / wrote {value} / unknown {value, message}
 *             (the write's outcome is unknown: its reply was lost) / abandoned {value} (the lock was lost
 *             before the write: not sent) / lockLost {reason} / releasing / turnError {message}
 *   producer: enqueued {item, node} / enqueueFailed {item, message}
 *   consumer: got {item, node} / acked {item} / ackLost {item} (our claim went with our session: the item
 *             may be redelivered) / ackFailed {item, message}
 *   member:   member {type} (joined / waiting / lost)
 * SIGTERM: finishes the turn in flight, leaves (unsubscribes, releases), closes the client, says `exit`
 * and exits 0.
 *
 * env: ZK_CONNECT, ROLE (locker | producer | consumer | member), ID, SESSION_TIMEOUT (default 4000),
 *   locker:   LOCK, COUNTER (a znode holding a decimal number, incremented without versions),
 *             HOLD_MS (held after the write, default 0), PAUSE_MS (between turns, default 5)
 *   producer: QUEUE, INTERVAL_MS (between items, default 20)
 *   consumer: QUEUE, WORK_MS (per item, between got and ack, default 5)
 *   member:   GROUP
 */
import { concatMap, type Subscription } from 'rxjs';
import { acquire, enqueue, join, LockLostError, NoNodeError, queue } from '../../src/index.js';
import { connectFromEnv, env, say as sayAt, sleep } from '../coordination/worker-io.js';

/**
 * Reports an event (worker-io.ts) with `mono` too: this machine's monotonic clock in ms, one clock for
 * every process (CLOCK_MONOTONIC), unlike `t` (timeOrigin, sampled at each process's start: under load
 * two processes' `t` disagreed by more than 10 ms), so reports of different processes can be ordered.
 */
const say = (event: Record<string, unknown>): void =>
  sayAt({ ...event, mono: Number(process.hrtime.bigint()) / 1e6 });

const client = connectFromEnv(4_000);
client.state$.subscribe((s) =>
  say({
    ev: 'session',
    type: s.type,
    sessionId: 'sessionId' in s ? s.sessionId : undefined,
    reason: s.type === 'lost' ? s.reason : undefined,
  }),
);

let stopping = false;
/** Resolves when the role's loop has finished its turn in flight after SIGTERM. */
let finished: Promise<void> = Promise.resolve();
const subscriptions: Subscription[] = [];
const message = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

async function locker(): Promise<void> {
  const lockPath = env('LOCK');
  const counter = env('COUNTER');
  const hold = Number(env('HOLD_MS', '0'));
  const pause = Number(env('PAUSE_MS', '5'));
  while (!stopping) {
    let handle;
    try {
      handle = await acquire(client, lockPath);
    } catch (error) {
      say({ ev: 'turnError', message: message(error) });
      await sleep(100);
      continue;
    }
    say({ ev: 'acquired', token: handle.token, sessionId: handle.sessionId });
    const signal = handle.signal;
    signal.addEventListener('abort', () =>
      say({
        ev: 'lockLost',
        reason: signal.reason instanceof LockLostError ? signal.reason.reason : 'other',
      }),
    );
    try {
      // Read-modify-write without versions: only the lock keeps two writers apart.
      const { data } = await client.get(counter);
      const value = Number(data.toString()) + 1;
      say({ ev: 'read', value: value - 1 });
      // The fencing check a lock holder owes its resource: nothing is sent once ownership is lost.
      // Synchronous with the send: no connection event can come in between.
      if (signal.aborted) say({ ev: 'abandoned', value });
      else {
        try {
          await client.set(counter, String(value));
          say({ ev: 'wrote', value });
        } catch (error) {
          say({ ev: 'unknown', value, message: message(error) });
        }
      }
      if (hold > 0) await sleep(hold);
    } catch (error) {
      say({ ev: 'turnError', message: error instanceof NoNodeError ? 'NoNode' : message(error) });
      await sleep(100);
    } finally {
      say({ ev: 'releasing' });
      await handle.release();
    }
    await sleep(Math.random() * pause);
  }
}

async function producer(): Promise<void> {
  const path = env('QUEUE');
  const id = env('ID');
  const interval = Number(env('INTERVAL_MS', '20'));
  for (let i = 0; !stopping; i++) {
    const item = `${id}:${i}`;
    try {
      const created = await enqueue(client, path, item);
      say({ ev: 'enqueued', item, node: created.slice(created.lastIndexOf('/') + 1) });
    } catch (error) {
      say({ ev: 'enqueueFailed', item, message: message(error) });
    }
    await sleep(interval);
  }
}

function consumer(): void {
  const work = Number(env('WORK_MS', '5'));
  const subscription = queue(client, env('QUEUE'), { mode: 'at-least-once', decode: (b) => b.toString() })
    .pipe(
      concatMap(async (item) => {
        const name = item.type === 'item' ? item.value : `invalid:${item.name}`;
        say({ ev: 'got', item: name, node: item.name });
        if (work > 0) await sleep(work);
        try {
          await item.ack();
          say({ ev: 'acked', item: name });
        } catch (error) {
          if (error instanceof LockLostError) say({ ev: 'ackLost', item: name });
          else say({ ev: 'ackFailed', item: name, message: message(error) });
        }
      }),
    )
    .subscribe({ error: (error: unknown) => say({ ev: 'error', message: message(error) }) });
  subscriptions.push(subscription);
}

function member(): void {
  const subscription = join(client, env('GROUP'), env('ID')).subscribe({
    next: (m) => say({ ev: 'member', type: m.type }),
    error: (error: unknown) => say({ ev: 'error', message: message(error) }),
  });
  subscriptions.push(subscription);
}

const role = env('ROLE');
if (role === 'locker') finished = locker();
else if (role === 'producer') finished = producer();
else if (role === 'consumer') consumer();
else if (role === 'member') member();
else throw new Error(`unknown ROLE ${role}`);
finished.catch((error: unknown) => say({ ev: 'error', message: message(error) }));

process.once('SIGTERM', () => {
  stopping = true;
  void (async () => {
    await finished.catch(() => undefined);
    for (const s of subscriptions) s.unsubscribe();
    await client.close();
    say({ ev: 'exit' });
    process.exit(0);
  })();
});
