/**
 * Leader election: do work only while leading. Each candidate has a sequential node and watches only
 * the one before it, so a leader's exit wakes exactly one process (no herd).
 *
 * On a real ensemble, one process per candidate; stop the leader (Ctrl-C) or kill it, and another
 * takes over:
 *   ZK_CONNECT=127.0.0.1:2181 npx tsx examples/leader-election.ts worker-1   (and worker-2, worker-3…)
 * On the embedded engine (no server), three candidates in one process hand leadership on in turn:
 *   npx tsx examples/leader-election.ts
 */
import { EMPTY, from, interval, lastValueFrom, merge, Subject, switchMap, takeUntil, tap, timer } from 'rxjs';
import { connect, leadership } from '../src/index.js';

export interface ElectionOptions {
  readonly connectString?: string;
  readonly path?: string;
  readonly id?: string;
  /** Resign after leading this long (ms). Default: lead until `stop`. */
  readonly leadFor?: number;
  /** Resolves when the candidate should leave. Default: SIGINT or SIGTERM. */
  readonly stop?: Promise<unknown>;
}

/** Runs one candidate until `stop` (or until it has led for `leadFor`); resolves to its transitions. */
export async function main(options: ElectionOptions = {}): Promise<string[]> {
  const connectString = options.connectString ?? process.env['ZK_CONNECT'] ?? 'memory://';
  const id = options.id ?? `pid-${process.pid}`;
  const client = connect(connectString, { sessionTimeout: 10_000 });
  const seen: string[] = [];
  const resign = new Subject<void>();
  try {
    const run$ = leadership(client, options.path ?? '/rxzk-example/election', { id }).pipe(
      tap((s) => {
        seen.push(s.type === 'follower' ? `follower of ${s.leader}` : s.type);
        const what =
          s.type === 'leader'
            ? `leads (token ${s.token})`
            : s.type === 'follower'
              ? `follows ${s.leader}`
              : s.type;
        console.log(`[${id}] ${what}`);
      }),
      // The idiom: the work lives inside switchMap, so it stops the moment leadership does.
      switchMap((s) =>
        s.type !== 'leader'
          ? EMPTY
          : merge(
              interval(200).pipe(
                tap((n) => console.log(`[${id}] working as leader, token ${s.token}, step ${n}`)),
              ),
              options.leadFor === undefined ? EMPTY : timer(options.leadFor).pipe(tap(() => resign.next())),
            ),
      ),
      takeUntil(merge(resign, from(options.stop ?? signalled()))),
    );
    await lastValueFrom(run$, { defaultValue: undefined });
    console.log(`[${id}] resigned`);
  } finally {
    await client.close();
  }
  return seen;
}

/** The embedded demo: three candidates, each leading for a while, then handing on. */
export async function demo(connectString = 'memory://'): Promise<string[][]> {
  return Promise.all(['a', 'b', 'c'].map((id) => main({ connectString, id, leadFor: 700 })));
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const id = process.argv[2];
  const embedded = (process.env['ZK_CONNECT'] ?? 'memory://').startsWith('memory://');
  (id === undefined && embedded ? demo() : main({ id }))
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
