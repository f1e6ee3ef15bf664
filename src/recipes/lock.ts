/**
 * lock(): an InterProcessMutex-compatible lock as a stream of ownership transitions.
 */
import type { Observable } from 'rxjs';
import { InvalidArgumentError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath } from '../session/create.js';
import {
  validateAclList,
  validateClient,
  validateData,
  validatePath,
  validateRequestSize,
} from '../session/validate.js';
import { ownership$, predecessorBlocks, rankByMarkers, type ContenderSpec } from './lock-internals.js';
import type { Ownership, OwnershipOptions, OwnershipPolicy } from './ownership.js';

/** The marker of Curator's InterProcessMutex node names: `_c_<uuid>-lock-NNNNNNNNNN`. */
export const LOCK = 'lock-';

export type LockOptions = OwnershipOptions;

/**
 * Contends for the lock at `path` for as long as it is subscribed, and emits ownership transitions:
 * `waiting` (queued behind others), `acquired` (with a fencing token), `lost` (with a reason). Nothing
 * else, and no value twice in a row.
 *
 * - Cold: every subscription is a contender of its own, with its own ephemeral-sequential node
 *   `_c_<uuid>-lock-NNNNNNNNNN` under `path` (Curator's InterProcessMutex layout, so Curator processes
 *   can share the lock; `path` is created as a container when missing). Not re-entrant.
 * - First emission: `waiting` or `acquired`, once our node is created and ranked.
 * - Each waiter watches only the node just ahead of it (one wake-up per release, no herd). When that
 *   node goes and it was the lowest, ours holds without another read (handoff = one delete plus one
 *   notification); otherwise its owner may have abandoned rather than released, so we re-check.
 * - Session: `suspended` ends ownership (`lost`, reason `suspended`) under the safe policy (default;
 *   see OwnershipPolicy) and `reconnected` re-checks (same node, same token); `lost` ends it (reason
 *   `expired`) and queues a new node in the new session (a larger token). Someone deleting our node:
 *   `lost` (reason `deleted`) and a new node.
 * - Unsubscribing releases or gives up: our node is deleted, retried across connection loss until it
 *   is gone or its session is. Completes when the client closes; errors only for what retrying cannot
 *   fix (e.g. NoAuthError on `path`). `acquired` is never stale: it is emitted only while our node is
 *   the lowest and belongs to our live session, and withdrawn as described.
 *
 * @example
 * lock(client, '/app/locks/report')
 *   .pipe(switchMap((o) => (o.type === 'acquired' ? writeReport$(o.token) : EMPTY)))
 *   .subscribe();
 */
export function lock(client: ZkClient, path: string, options: LockOptions = {}): Observable<Ownership> {
  return ownership$(lockSpec(client, path, options, LOCK, [LOCK], predecessorBlocks));
}

/** @internal Validates the common arguments and builds a contender spec. */
export function lockSpec(
  client: ZkClient,
  path: string,
  options: OwnershipOptions,
  name: string,
  markers: readonly string[],
  blocker: ContenderSpec['blocker'],
): ContenderSpec {
  validateClient(client);
  validatePath(path);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object', options);
  }
  const policy = validatePolicy(options.policy);
  const data = validateData(options.data ?? new Uint8Array(0), 'options.data');
  const acl = options.acl === undefined ? undefined : validateAclList(options.acl, 'options.acl');
  validateRequestSize(data, client.createOverhead(joinPath(path, name), true, acl), 'options.data');
  return { client, path, name, data, acl, policy, rank: rankByMarkers(markers), blocker };
}

export function validatePolicy(policy: unknown, argument = 'options.policy'): OwnershipPolicy {
  const value = policy ?? 'safe';
  if (value !== 'safe' && value !== 'available') {
    throw new InvalidArgumentError(argument, "must be 'safe' or 'available'", policy);
  }
  return value;
}
