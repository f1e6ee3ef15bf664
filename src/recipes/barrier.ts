/**
 * barrier(): waits for a barrier node to be removed (Curator's DistributedBarrier).
 */
import { distinctUntilChanged, map, takeWhile, type Observable } from 'rxjs';
import type { ZkClient } from '../session/client.js';
import { validateClient, validatePath } from '../session/validate.js';
import { data$ } from '../streams/data.js';

/**
 * Waits at the barrier `path`: emits `'blocked'` while the node exists, then `'open'` once it does not
 * (at once if it is missing already), and completes. Raise a barrier with `client.create(path)`,
 * lift it with `client.delete(path)`: every waiter passes.
 *
 * - Built on data$: hot and shared per client and path underneath, so any number of waiters in one
 *   process share one server watch; each subscription gets its own `blocked`/`open`.
 * - First emission: the current state. Rides out `suspended` (silent) and session expiry (re-reads).
 * - Completes after `open`, or when the client closes; errors only for what retrying cannot fix
 *   (e.g. NoAuthError). A barrier raised again after it opened is not seen (the stream is done).
 * - Waiters need READ on the barrier node: ZooKeeper delivers the node's events only to sessions that
 *   may READ it, so a bare exists() watch would leave a waiter without READ `blocked` forever; it is
 *   built on data$, which reads the node and fails such a waiter with NoAuthError.
 *
 * @example
 * await lastValueFrom(barrier(client, '/app/barriers/deploy'));
 */
export function barrier(client: ZkClient, path: string): Observable<'blocked' | 'open'> {
  validateClient(client);
  validatePath(path);
  return data$(client, path).pipe(
    map((node) => (node ? ('blocked' as const) : ('open' as const))),
    distinctUntilChanged(),
    takeWhile((state) => state === 'blocked', true),
  );
}
