/**
 * readLock() and writeLock(): Curator's InterProcessReadWriteLock layout, as ownership streams.
 */
import type { Observable } from 'rxjs';
import type { ZkClient } from '../session/client.js';
import { lockSpec } from './lock.js';
import { ownership$, predecessorBlocks } from './lock-internals.js';
import type { Ownership, OwnershipOptions } from './ownership.js';
import type { SequenceNode } from './sequence-nodes.js';

/** Curator's markers: `_c_<uuid>-__READ__NNNNNNNNNN` and `_c_<uuid>-__WRIT__NNNNNNNNNN`. */
export const READ = '__READ__';
export const WRITE = '__WRIT__';

/** A reader waits only for the nearest writer ahead of it; readers ahead do not block it. */
export function readBlocker(sorted: readonly SequenceNode[], index: number): SequenceNode | undefined {
  for (let i = index - 1; i >= 0; i--) if (sorted[i]!.name.includes(WRITE)) return sorted[i];
  return undefined;
}

/**
 * Contends for a shared (read) hold on the read/write lock at `path`, for as long as it is subscribed.
 * Emits `waiting`, `acquired` (fencing token), `lost`, exactly as lock() does (same session rules,
 * release on unsubscribe, completion and errors), with one difference: readers share. A reader holds
 * when no writer is queued ahead of it, and watches only the nearest writer ahead (readers never wake
 * readers). Writers queued after a reader wait for it: no writer starves behind a stream of readers.
 *
 * - Cold: one ephemeral-sequential `_c_<uuid>-__READ__NNNNNNNNNN` node per subscription under `path`.
 * - First emission: `waiting` or `acquired`.
 *
 * @example
 * readLock(client, '/app/rw').pipe(switchMap((o) => (o.type === 'acquired' ? read$ : EMPTY)))
 */
export function readLock(
  client: ZkClient,
  path: string,
  options: OwnershipOptions = {},
): Observable<Ownership> {
  return ownership$(lockSpec(client, path, options, READ, [READ, WRITE], readBlocker));
}

/**
 * Contends for the exclusive (write) hold on the read/write lock at `path`: holds when first in line,
 * readers and writers alike; watches only the node just ahead. Otherwise as lock() (emissions, session
 * rules, release on unsubscribe, completion and errors).
 *
 * - Cold: one ephemeral-sequential `_c_<uuid>-__WRIT__NNNNNNNNNN` node per subscription under `path`.
 * - First emission: `waiting` or `acquired`.
 *
 * @example
 * writeLock(client, '/app/rw').pipe(switchMap((o) => (o.type === 'acquired' ? write$(o.token) : EMPTY)))
 */
export function writeLock(
  client: ZkClient,
  path: string,
  options: OwnershipOptions = {},
): Observable<Ownership> {
  return ownership$(lockSpec(client, path, options, WRITE, [READ, WRITE], predecessorBlocks));
}
