/**
 * What the worker processes of the real-ZooKeeper process tests share: their reports (one JSON line per
 * event on stdout, stamped with `t`: this process's clock, ms since the epoch, sub-ms resolution), their
 * env, their client, the start signal (the GO node), the markers of who holds and how they end.
 */
import { connect, type ZkClient } from '../../src/index.js';

/** Reports `event` on stdout: one JSON line, with `t`. */
export const say = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...event, t: performance.timeOrigin + performance.now() })}\n`);
};

/** The env variable `name`, or `fallback`; throws when neither is there. */
export const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A client of ZK_CONNECT, its session timeout SESSION_TIMEOUT (or `sessionTimeout`). */
export const connectFromEnv = (sessionTimeout: number): ZkClient =>
  connect(env('ZK_CONNECT'), {
    sessionTimeout: Number(env('SESSION_TIMEOUT', String(sessionTimeout))),
    connectionTimeout: 30_000,
  });

/**
 * The holders witness: runs `hold` with our ephemeral marker HOLDERS/<prefix>-<ID> up, and lists HOLDERS
 * right after creating it (`saw`) and again just before deleting it (`sawEnd`).
 */
export async function holdMarked<T>(
  client: ZkClient,
  prefix: string,
  hold: () => Promise<T>,
): Promise<{ saw: string[]; sawEnd: string[]; held: T }> {
  const holders = env('HOLDERS');
  const marker = `${holders}/${prefix}-${env('ID')}`;
  const list = async (): Promise<string[]> => (await client.children(holders)).children.sort();
  await client.create(marker, '', { mode: 'ephemeral' });
  const saw = await list();
  const held = await hold();
  const sawEnd = await list();
  await client.delete(marker);
  return { saw, sawEnd, held };
}

/** Runs `main`, then exits 0; or says `error` (with the message) and exits 1. */
export function run(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      say({ ev: 'error', message: String(error) });
      process.exit(1);
    },
  );
}

/**
 * A worker that takes turns: says `ready` once connected (a first read answered), waits until the GO
 * node exists, runs `turn(0)` .. `turn(count - 1)` with a random 0..pauseMs ms pause after each, says
 * `done` and closes the client; then `run` ends the process.
 */
export function runTurns(
  client: ZkClient,
  count: number,
  pauseMs: number,
  turn: (n: number) => Promise<void>,
): void {
  run(async () => {
    const go = env('GO');
    await client.exists(go);
    say({ ev: 'ready' });
    while (!(await client.exists(go))) await sleep(10);
    for (let i = 0; i < count; i++) {
      await turn(i);
      await sleep(Math.random() * pauseMs);
    }
    say({ ev: 'done' });
    await client.close();
  });
}
