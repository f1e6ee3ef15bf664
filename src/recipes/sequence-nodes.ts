/**
 * Internal: the ordering helpers every queue-of-candidates recipe shares (leadership now, the lock and
 * its relatives next): sorting sequential children the way Curator does, finding our node and the one
 * just before it, waiting for a node to go, and deleting our node even across connection loss.
 *
 * Not exported from the package: recipes compose these; users get the recipes.
 */
import { firstValueFrom, Observable, race, skip, take, timer } from 'rxjs';
import { ClosedError, isRetryable, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath } from '../session/create.js';
import type { Watcher } from '../transport/port.js';

/** The 10-digit counter ZooKeeper appends to a sequential node's name. */
const SUFFIX = /(\d{10})$/;

/** A sequential child as the recipes see it: its name, its counter, and its full path. */
export interface SequenceNode {
  readonly name: string;
  readonly sequence: number;
  readonly path: string;
}

/**
 * The children of `parent` that are `<anything>marker<10 digits>` (e.g. marker `latch-` matches
 * `_c_<uuid>-latch-0000000007` and a plain `latch-0000000007`), sorted by their counter, ignoring any
 * protection prefix: the order Curator's `StandardLockInternalsDriver.fixForSorting` gives. Other
 * children (a user's stray node) are not candidates and are left out.
 */
export function sortSequenceNodes(parent: string, names: readonly string[], marker: string): SequenceNode[] {
  const nodes: SequenceNode[] = [];
  for (const name of names) {
    const at = name.lastIndexOf(marker);
    if (at === -1) continue;
    const rest = name.slice(at + marker.length);
    const match = SUFFIX.exec(rest);
    if (!match || rest.length !== 10) continue;
    nodes.push({ name, sequence: Number(match[1]), path: joinPath(parent, name) });
  }
  // Names tie-break equal counters (a counter that wrapped past 2^31): the order stays total.
  return nodes.sort((a, b) => a.sequence - b.sequence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Where `name` stands among sorted candidates: its index, and the node just before it (if any). */
export function standing(
  sorted: readonly SequenceNode[],
  name: string,
): { index: number; predecessor: SequenceNode | undefined } {
  const index = sorted.findIndex((n) => n.name === name);
  return { index, predecessor: index > 0 ? sorted[index - 1] : undefined };
}

/**
 * Waits for `path` to be deleted: emits `'present'` once the node is known to exist with a watch
 * armed on it (so its deletion cannot be missed from then on), then `'gone'` and completes when it is
 * deleted; only `'gone'` if it is missing already. Reads with getData rather than exists(): on a
 * missing node getData leaves no watch behind (Curator's reason too). A data change re-arms the
 * one-shot watch and keeps waiting. Unsubscribing releases the watch. Errors with what the read could
 * not overcome (after the client's own retries).
 */
export function waitForDeletion(client: ZkClient, path: string): Observable<'present' | 'gone'> {
  return new Observable<'present' | 'gone'>((subscriber) => {
    let active = true;
    let present = false;
    const gone = (): void => {
      if (!active) return;
      active = false;
      client.unwatch(watch);
      subscriber.next('gone');
      subscriber.complete();
    };
    const arm = (): void => {
      client.get(path, { watch }).then(
        () => {
          if (!active || present) return;
          present = true;
          subscriber.next('present');
        },
        (error: unknown) => {
          if (!active) return;
          if (error instanceof NoNodeError) gone();
          else subscriber.error(error);
        },
      );
    };
    // A one-shot watch: any event other than the deletion (a data change) needs arming again.
    const watch: Watcher = (event) => {
      if (!active) return;
      if (event.type === 'deleted') gone();
      else arm();
    };
    arm();
    return () => {
      active = false;
      client.unwatch(watch);
    };
  });
}

/**
 * Deletes our ephemeral node and does not give up on connection loss (Curator's `guaranteed()`): the
 * delete is retried whenever the session is live again, until it lands, the node is gone, the session
 * that owned it is gone (the server deletes it then), or the client is closed (same). Never rejects.
 */
export async function deleteGuaranteed(
  client: ZkClient,
  path: string,
  sessionId: string | undefined,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (client.state.type === 'closed') return;
    if (sessionId !== undefined && client.sessionId !== undefined && client.sessionId !== sessionId) return;
    try {
      await client.delete(path);
      return;
    } catch (error) {
      if (error instanceof NoNodeError || error instanceof ClosedError) return;
      // NoAuth and the like: retrying cannot fix it; the node goes with its session.
      if (!isRetryable(error)) return;
    }
    // The delete itself waits for a live session; between attempts, wait for the session to change.
    await sessionChangeOrBackoff(client, attempt);
  }
}

/**
 * Between two attempts of a write that must land: resolves when the session changes (the replayed
 * state skipped) or after a backoff for `attempt` (100 ms doubling, at most 2 s), whichever is first.
 */
export function sessionChangeOrBackoff(client: ZkClient, attempt: number): Promise<unknown> {
  return firstValueFrom(
    race(client.state$.pipe(skip(1)), timer(Math.min(100 * 2 ** attempt, 2_000), client.scheduler)).pipe(
      take(1),
    ),
    { defaultValue: undefined },
  );
}
