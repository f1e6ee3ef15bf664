/**
 * acquire(): a lock (exclusive, read or write) held as a handle until `release()`.
 */
import type { ZkClient } from '../session/client.js';
import { InvalidArgumentError } from '../errors.js';
import { hold, validateTimeout, type LockHandle } from './hold.js';
import { lockSpec, LOCK } from './lock.js';
import { predecessorBlocks, type ContenderSpec } from './lock-internals.js';
import type { OwnershipOptions } from './ownership.js';
import { readBlocker, READ, WRITE } from './read-write-lock.js';

export interface AcquireOptions extends OwnershipOptions {
  /** Give up after this many ms (client scheduler): rejects with LockTimeoutError. Default: wait. */
  readonly timeout?: number;
  /** `'exclusive'` (default): lock(); `'read'` / `'write'`: readLock() / writeLock() on `path`. */
  readonly type?: 'exclusive' | 'read' | 'write';
}

/**
 * Acquires the lock at `path` and resolves to a handle (fencing token, an AbortSignal that fires if
 * ownership is lost, `release()`). Rejects with LockTimeoutError after `timeout` (our node deleted),
 * ClosedError if the client closes first, InvalidArgumentError (synchronously) for bad input.
 *
 * @example
 * const handle = await acquire(client, '/app/locks/report', { timeout: 5_000 });
 * try { await writeReport(handle.token, handle.signal); } finally { await handle.release(); }
 */
export function acquire(client: ZkClient, path: string, options: AcquireOptions = {}): Promise<LockHandle> {
  const spec = acquireSpec(client, path, options);
  return hold(spec, validateTimeout(options.timeout));
}

/** @internal */
export function acquireSpec(client: ZkClient, path: string, options: AcquireOptions): ContenderSpec {
  switch (options?.type ?? 'exclusive') {
    case 'exclusive':
      return lockSpec(client, path, options, LOCK, [LOCK], predecessorBlocks);
    case 'read':
      return lockSpec(client, path, options, READ, [READ, WRITE], readBlocker);
    case 'write':
      return lockSpec(client, path, options, WRITE, [READ, WRITE], predecessorBlocks);
    default:
      throw new InvalidArgumentError('options.type', "must be 'exclusive', 'read' or 'write'", options.type);
  }
}
