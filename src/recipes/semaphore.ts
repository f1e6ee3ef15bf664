/**
 * semaphore(): a counting semaphore (Curator's InterProcessSemaphoreV2 layout) as a stream of
 * ownership transitions.
 */
import { Observable } from 'rxjs';
import { BadVersionError, InvalidArgumentError, NodeExistsError, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath } from '../session/create.js';
import {
  validateAclOption,
  validateClient,
  validateData,
  validatePath,
  validateRequestSize,
} from '../session/validate.js';
import type { Acl } from '../types.js';
import { SemaphoreLimitError } from './coordination-errors.js';
import { validatePolicy } from './lock.js';
import type { Ownership, OwnershipOptions } from './ownership.js';
import { LEASE, LeaseHolder } from './semaphore-internals.js';

export interface SemaphoreOptions extends OwnershipOptions {
  /** How many holders at once: a positive integer, the same for every participant. */
  readonly leases: number;
  /**
   * The ACL of every node this participant creates: `path` (with the limit) and `<path>/locks`,
   * `<path>/leases` when missing, its mutex node and its lease. Default: the open ACL. Participants
   * need READ and WRITE on `path` and READ, CREATE and DELETE on `<path>/locks` and `<path>/leases`.
   */
  readonly acl?: readonly Acl[];
}

/**
 * Contends for one of the `leases` leases of the semaphore at `path` for as long as it is subscribed,
 * and emits ownership transitions exactly as lock() does: `waiting`, `acquired` (fencing token: our
 * lease node's czxid), `lost` (with a reason). Nothing else, and no value twice in a row.
 *
 * - Cold: every subscription is a participant of its own. Layout of Curator's InterProcessSemaphoreV2,
 *   so Curator processes can share the semaphore: an internal mutex (a lock()) under `<path>/locks`
 *   serialises acquirers; leases are ephemeral-sequential `<path>/leases/_c_<uuid>-lease-NNNNNNNNNN`.
 *   The mutex holder creates its lease and lists the pool: among the first `leases`, it holds and
 *   releases the mutex; otherwise it keeps the mutex and waits on a children watch of the pool. Only
 *   the mutex holder watches the pool (one wake-up per release, no herd); the others wait on the mutex.
 * - The limit: stored as text on `path` (as kazoo does; a persistent node, so it outlives its
 *   participants). The first participant writes it; one asking for another number gets a
 *   SemaphoreLimitError (naming both) as the stream's error, before it queues.
 * - First emission: `waiting` or `acquired`. One `waiting` per wait, for the mutex or for the pool.
 * - Session: as lock(). `suspended` ends ownership (`lost`, reason `suspended`) under the safe policy
 *   (default) and `reconnected` holds again (same lease, same token); a waiter that loses the mutex
 *   gives its lease up (else the next mutex holder would wait behind it) and queues again. `lost` ends
 *   ownership (reason `expired`) and queues anew in the new session; our lease deleted by someone:
 *   `lost` (reason `deleted`) and queue again.
 * - Unsubscribing releases or gives up: our lease and mutex nodes are deleted, retried across
 *   connection loss until they are gone or their session is. Completes when the client closes; errors
 *   only for what retrying cannot fix (a limit mismatch, NoAuthError on `path`).
 * - Counting reads the pool when something changes, so holders are counted from the server's latest
 *   state: never more than `leases` holders among participants that agree on the limit.
 *
 * @example
 * semaphore(client, '/app/pools/db', { leases: 4 })
 *   .pipe(switchMap((o) => (o.type === 'acquired' ? query$(o.token) : EMPTY)))
 *   .subscribe();
 */
export function semaphore(client: ZkClient, path: string, options: SemaphoreOptions): Observable<Ownership> {
  validateClient(client);
  validatePath(path);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object with `leases`', options);
  }
  const { leases } = options;
  if (typeof leases !== 'number' || !Number.isSafeInteger(leases) || leases < 1) {
    throw new InvalidArgumentError('options.leases', 'must be a positive integer', leases);
  }
  const policy = validatePolicy(options.policy);
  const data = validateData(options.data ?? new Uint8Array(0), 'options.data');
  const acl = validateAclOption(options.acl);
  const lease = joinPath(joinPath(path, 'leases'), LEASE);
  validateRequestSize(data, client.createOverhead(lease, true, acl), 'options.data');
  const ensureLimit = (): Promise<void> => storeLimit(client, path, leases, acl);
  return new Observable<Ownership>((subscriber) => {
    const holder = new LeaseHolder(
      { client, path, leases, policy, data, acl, ensureLimit },
      {
        next: (o) => subscriber.next(o),
        error: (e) => subscriber.error(e),
        complete: () => subscriber.complete(),
      },
    );
    return () => void holder.stop();
  });
}

const COUNT = /^[1-9]\d*$/;

/**
 * Writes `leases` on `path` if nobody did, else checks it is the same number. Empty data (a node made
 * by Curator, or by a lock as a container parent) counts as unset; the write is a compare-and-set on
 * the version read, so of two first participants exactly one writes and the other is checked.
 */
async function storeLimit(
  client: ZkClient,
  path: string,
  leases: number,
  acl: readonly Acl[] | undefined,
): Promise<void> {
  for (;;) {
    try {
      await client.create(path, String(leases), { createParents: 'container', acl });
      return;
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
    let read: Awaited<ReturnType<ZkClient['get']>>;
    try {
      read = await client.get(path);
    } catch (error) {
      if (error instanceof NoNodeError) continue;
      throw error;
    }
    const text = read.data.toString('utf8').trim();
    if (text === '') {
      try {
        await client.set(path, String(leases), read.stat.version);
        return;
      } catch (error) {
        if (error instanceof BadVersionError || error instanceof NoNodeError) continue;
        throw error;
      }
    }
    const stored = COUNT.test(text) ? Number(text) : Number.NaN;
    if (stored !== leases) throw new SemaphoreLimitError(stored, leases, { path });
    return;
  }
}
