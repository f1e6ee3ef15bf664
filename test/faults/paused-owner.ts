/**
 * One process that is leader AND lock holder at once, doing fenced writes, for fault matrix row 1
 * (paused-owner.test.ts). One JSON line per event on stdout (worker-io's `say`):
 *   {"ev":"session","type":"connected","sessionId":"..."}     every session state
 *   {"ev":"leadership","type":"leader","token":n}             every leadership transition (and the rest)
 *   {"ev":"lock","type":"acquired","token":n}                 every lock transition
 *   {"ev":"write","kind":"leader"|"lock","token":n}           a write to the fenced resource completes
 *   {"ev":"write","kind":...,"token":n,"late":true}           on SIGCONT: a write begun before the freeze
 * While it leads (holds the lock), it begins a write stamped with its token every WRITE_MS ms; each
 * completes 0..WRITE_MS ms later, so a freeze often lands in the middle of one. The resource (in the test
 * process) remembers the highest token it has seen per kind and refuses lower ones.
 *
 * env: ZK_CONNECT, ELECTION, LOCK (paths), ID, SESSION_TIMEOUT (ms), WRITE_MS (default 20).
 * SIGTERM: unsubscribe, close the client, exit 0.
 */
import { EMPTY, interval, mergeMap, switchMap, timer, type Observable, type Subscription } from 'rxjs';
import { leadership, lock } from '../../src/index.js';
import { connectFromEnv, env, say } from '../coordination/worker-io.js';

const client = connectFromEnv(2_000);
const writeMs = Number(env('WRITE_MS', '20'));

client.state$.subscribe((s) =>
  say({ ev: 'session', type: s.type, sessionId: 'sessionId' in s ? s.sessionId : undefined }),
);

/** The last token each kind wrote with: on SIGCONT, the write that was in flight completes. */
const lastToken = new Map<string, number>();

/** While `holding` says so for a transition, writes stamped with its token, each taking 0..writeMs ms. */
function work<T extends { type: string }>(
  kind: 'leader' | 'lock',
  transitions$: Observable<T>,
  held: (t: T) => number | undefined,
): Subscription {
  return transitions$
    .pipe(
      switchMap((t) => {
        const token = held(t);
        say({ ev: kind === 'leader' ? 'leadership' : 'lock', type: t.type, token });
        if (token === undefined) return EMPTY;
        return interval(writeMs).pipe(
          mergeMap(() => timer(Math.random() * writeMs).pipe(mergeMap(() => [token]))),
        );
      }),
    )
    .subscribe({
      next: (token) => {
        lastToken.set(kind, token);
        say({ ev: 'write', kind, token });
      },
      error: (error: unknown) => say({ ev: 'error', kind, message: String(error) }),
    });
}

const running = [
  work('leader', leadership(client, env('ELECTION'), { id: env('ID') }), (s) =>
    s.type === 'leader' ? s.token : undefined,
  ),
  work('lock', lock(client, env('LOCK')), (o) => (o.type === 'acquired' ? o.token : undefined)),
];

process.on('SIGCONT', () => {
  for (const [kind, token] of lastToken) say({ ev: 'write', kind, token, late: true });
});
process.on('SIGTERM', () => {
  for (const subscription of running) subscription.unsubscribe();
  void client.close().then(() => process.exit(0));
});
