/**
 * One election candidate in its own OS process, for the real-ZooKeeper tests. It prints one JSON line
 * per event on stdout, each stamped with this process's high-resolution wall clock (`t`, ms since the
 * epoch), so the test can build a fencing log from each candidate's own point of view:
 *   {"ev":"session","type":"connected","sessionId":"...","password":"..."} (`reason` too, for `lost`)
 *   {"ev":"leader","token":123,"node":"...","t":...} / {"ev":"follower","leader":"b"} / uncertain / lost
 *   {"ev":"write","token":123,"t":...}     every WRITE_MS while leading (the fenced resource's input),
 *                                          and once more on SIGCONT (a write begun before a freeze)
 *   {"ev":"resigned","t":...}              just before unsubscribing on `resign`
 * stdin commands: `resign` (unsubscribe), `join` (subscribe again), `exit` (resign, close, exit 0).
 * SIGTERM does what `exit` does.
 *
 * env: ZK_CONNECT, ELECTION (path), ID, SESSION_TIMEOUT (ms, default 3000), POLICY, WRITE_MS (default 20).
 */
import { createInterface } from 'node:readline';
import { EMPTY, interval, map, switchMap, type Subscription } from 'rxjs';
import { connect, leadership, type LeadershipPolicy } from '../../src/index.js';

const now = (): number => performance.timeOrigin + performance.now();
const say = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...event, t: now() })}\n`);
};

const client = connect(process.env['ZK_CONNECT']!, {
  sessionTimeout: Number(process.env['SESSION_TIMEOUT'] ?? 3_000),
  connectionTimeout: 30_000,
});
const path = process.env['ELECTION']!;
const id = process.env['ID']!;
const policy = (process.env['POLICY'] ?? 'safe') as LeadershipPolicy;
const writeMs = Number(process.env['WRITE_MS'] ?? 20);

client.state$.subscribe((s) => {
  const handle = client.currentHandle();
  say({
    ev: 'session',
    type: s.type,
    sessionId: 'sessionId' in s ? s.sessionId : undefined,
    reason: s.type === 'lost' ? s.reason : undefined,
    password: s.type === 'connected' ? handle?.sessionPassword : undefined,
  });
});

let running: Subscription | undefined;
let lastWritten: number | undefined;

// A process frozen (GC pause, SIGSTOP) in the middle of its work finishes the write it had begun when
// it resumes, whatever rxzk has learnt meanwhile: the write that fencing tokens exist to refuse.
process.on('SIGCONT', () => {
  if (lastWritten !== undefined) say({ ev: 'write', token: lastWritten, late: true });
});
function join(): void {
  if (running) return;
  const run$ = leadership(client, path, { id, policy });
  running = run$
    .pipe(
      switchMap((s) => {
        say({ ev: s.type, ...s });
        // The work a leader does: writes stamped with its token, which a fenced resource checks.
        return s.type === 'leader' ? interval(writeMs).pipe(map(() => s.token)) : EMPTY;
      }),
    )
    .subscribe({
      next: (token) => {
        lastWritten = token;
        say({ ev: 'write', token });
      },
      error: (error: unknown) => say({ ev: 'error', message: String(error) }),
      complete: () => say({ ev: 'complete' }),
    });
}

function resign(): void {
  if (!running) return;
  say({ ev: 'resigned' });
  running.unsubscribe();
  running = undefined;
}

async function exit(): Promise<void> {
  resign();
  await client.close();
  say({ ev: 'exit' });
  // close() resolved: the session's end (which deletes our node at once) has been sent.
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = line.trim();
  if (command === 'resign') resign();
  else if (command === 'join') join();
  else if (command === 'exit') void exit();
});
process.on('SIGTERM', () => void exit());
join();
