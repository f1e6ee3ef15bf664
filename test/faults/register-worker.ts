/**
 * Row 10's worker: one OS process running random operations on one znode (NODE) through rxzk, from the
 * moment the GO node exists until SIGUSR2 (at most MAX_MS), and reporting each as one JSON line: its kind, input,
 * outcome and output, invoked and completed at `process.hrtime.bigint()` (CLOCK_MONOTONIC: one clock for
 * every process of the machine, unlike Date.now or performance.now, whose origins differ per process).
 *
 * - read: `sync()` then `get()` (the linearizability check's reads);
 * - plain: `get()` alone (may be stale: checked for sequential consistency only);
 * - write: an unversioned `set()` of a value unique to this operation;
 * - cas: `set(value, version)` with the last version this process saw (read or wrote).
 *
 * A write or cas that fails with anything but BadVersion has an unknown outcome (`info`): the request
 * may have reached the server. A read that fails is dropped (it observed nothing).
 */
import { BadVersionError, connect } from '../../src/index.js';
import { env, run, say, sleep } from '../coordination/worker-io.js';

const node = env('NODE');
const id = env('ID');
const maxNs = BigInt(env('MAX_MS')) * 1_000_000n;
// The parent's "stop" (after its faults): the operation in flight completes, no new one starts.
let stopped = false;
process.on('SIGUSR2', () => (stopped = true));
const pauseMs = Number(env('PAUSE_MS', '60'));
const client = connect(env('ZK_CONNECT'), {
  sessionTimeout: Number(env('SESSION_TIMEOUT', '3000')),
  connectionTimeout: 8_000,
  retry: { maxRetries: 6, maxDelay: 1_000 },
});

type Kind = 'read' | 'plain' | 'write' | 'cas';

run(async () => {
  const go = env('GO');
  await client.exists(go);
  say({ ev: 'ready' });
  while (!(await client.exists(go))) await sleep(5);
  const end = process.hrtime.bigint() + maxNs;
  let known: number | undefined;
  let n = 0;
  while (!stopped && process.hrtime.bigint() < end) {
    const r = Math.random();
    const kind: Kind =
      r < 0.35 ? 'read' : r < 0.5 ? 'plain' : r < 0.75 || known === undefined ? 'write' : 'cas';
    const value = `${id}-${n++}`;
    const expected = known;
    const call = process.hrtime.bigint();
    let outcome: 'ok' | 'fail' | 'info';
    let output: Record<string, unknown> | undefined;
    let error: string | undefined;
    try {
      if (kind === 'read' || kind === 'plain') {
        if (kind === 'read') await client.sync(node);
        const { data, stat } = await client.get(node);
        output = { f: 'read', value: data.toString(), version: stat.version };
        known = stat.version;
      } else if (kind === 'write') {
        const stat = await client.set(node, value);
        output = { f: 'write', version: stat.version };
        known = stat.version;
      } else {
        const stat = await client.set(node, value, expected);
        output = { f: 'cas', ok: true, version: stat.version };
        known = stat.version;
      }
      outcome = 'ok';
    } catch (e) {
      error = e instanceof Error ? e.name : String(e);
      if (kind === 'cas' && e instanceof BadVersionError) {
        outcome = 'fail';
        output = { f: 'cas', ok: false };
      } else {
        outcome = kind === 'read' || kind === 'plain' ? 'fail' : 'info';
        // After an unknown outcome this process cannot know the version: read before the next cas.
        if (kind !== 'read' && kind !== 'plain') known = undefined;
      }
    }
    const ret = process.hrtime.bigint();
    say({
      ev: 'op',
      id,
      kind,
      value,
      expected,
      call: String(call),
      ret: String(ret),
      outcome,
      output,
      error,
      session: client.sessionId,
    });
    await sleep(Math.random() * pauseMs);
  }
  say({ ev: 'done' });
  await client.close();
});
