/**
 * withLock(): runs a function while holding a lock, and releases it after.
 */
import { InvalidArgumentError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { acquireSpec, type AcquireOptions } from './acquire.js';
import type { LockLostError } from './coordination-errors.js';
import { hold, validateTimeout, type LockHandle } from './hold.js';
import type { ContenderSpec } from './lock-internals.js';

/**
 * Acquires the lock at `path` (see acquire), runs `fn` with the handle, releases the lock when `fn`
 * settles, and resolves to what `fn` returned. If ownership is lost while `fn` runs, rejects with
 * LockLostError at once (`handle.signal` is aborted: `fn` should stop writing; what it still writes
 * should carry `handle.token` so a fenced resource refuses it). Rejects with LockTimeoutError if the
 * lock is not acquired within `options.timeout`; `fn` is not called then.
 *
 * @example
 * const total = await withLock(client, '/app/locks/counter', async ({ token }) => increment(token), {
 *   timeout: 5_000,
 * });
 */
export function withLock<T>(
  client: ZkClient,
  path: string,
  fn: (handle: LockHandle) => T | PromiseLike<T>,
  options: AcquireOptions = {},
): Promise<T> {
  // Bad input throws here, synchronously, before anything is sent.
  const spec = acquireSpec(client, path, options);
  const timeout = validateTimeout(options.timeout);
  if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'must be a function', typeof fn);
  return run(spec, timeout, fn);
}

async function run<T>(
  spec: ContenderSpec,
  timeout: number | undefined,
  fn: (handle: LockHandle) => T | PromiseLike<T>,
): Promise<T> {
  const handle = await hold(spec, timeout);
  const lost = new Promise<never>((_, reject) => {
    const fail = (): void => reject(handle.signal.reason as LockLostError);
    if (handle.signal.aborted) fail();
    else handle.signal.addEventListener('abort', fail, { once: true });
  });
  lost.catch(() => undefined);
  try {
    return await Promise.race([Promise.resolve().then(() => fn(handle)), lost]);
  } finally {
    await handle.release();
  }
}
