/**
 * doubleBarrier(): enter together, leave together (Curator's DistributedDoubleBarrier layout).
 */
import { randomUUID } from 'node:crypto';
import { from, isObservable, Observable, take, type ObservableInput } from 'rxjs';
import { ClosedError, InvalidArgumentError, NodeExistsError, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath } from '../session/create.js';
import { validateAclOption, validateClient, validatePath, validatePositiveInt } from '../session/validate.js';
import type { Watcher } from '../transport/port.js';
import type { Acl } from '../types.js';
import { LockLostError } from './coordination-errors.js';
import { deleteGuaranteed } from './sequence-nodes.js';

/** The node the last member to arrive creates: everyone enters when it exists. */
export const READY = 'ready';

export type DoubleBarrierState = 'waiting' | 'entered' | 'leaving' | 'left';

export interface DoubleBarrierOptions {
  /** How many members enter together. */
  readonly members: number;
  /** When to leave (after entering): the first value or completion of this input (e.g. a Promise). */
  readonly leave: ObservableInput<unknown>;
  /**
   * The ACL of our member node, of the `ready` node when we create it, and of `path` when it has to be
   * created. Default: the open ACL. Members need READ, CREATE and DELETE on `path`.
   */
  readonly acl?: readonly Acl[];
}

/**
 * Joins the double barrier at `path` (the "sync queue" of the ZooKeeper recipes): emits `'waiting'`
 * once our member node is there, `'entered'` when `members` have arrived, `'leaving'` when
 * `options.leave` fires, then `'left'` when every member has left, and completes.
 *
 * - Cold: one ephemeral member node `<uuid>` per subscription under `path` (created as a container
 *   when missing), and a `ready` node created by the last member to arrive: Curator's layout, so
 *   Curator processes can share the barrier. Waiting to enter watches `ready` only; leaving watches
 *   one node at a time (the lowest member watches the highest, every other the lowest), no herd.
 * - Unsubscribing before `left` deletes our member node (retried across connection loss).
 * - Errors with LockLostError if our member node vanishes (session expired) while we are inside,
 *   with what retrying cannot fix otherwise; completes early (after deleting our node) on close.
 *
 * @example
 * doubleBarrier(client, '/app/round', { members: 10, leave: work() }).subscribe(console.log);
 */
export function doubleBarrier(
  client: ZkClient,
  path: string,
  options: DoubleBarrierOptions,
): Observable<DoubleBarrierState> {
  validateClient(client);
  validatePath(path);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object with members and leave', options);
  }
  const members = validatePositiveInt(options.members, 'options.members');
  const acl = validateAclOption(options.acl);
  if (options.leave === undefined || options.leave === null) {
    throw new InvalidArgumentError('options.leave', 'must be a Promise or an Observable');
  }
  let leave$: Observable<unknown>;
  try {
    leave$ = isObservable(options.leave) ? options.leave : from(options.leave);
  } catch {
    // from() throws a TypeError for what is no ObservableInput (a number, a plain object).
    throw new InvalidArgumentError('options.leave', 'must be a Promise or an Observable', options.leave);
  }
  return new Observable<DoubleBarrierState>((subscriber) => {
    let active = true;
    let left = false;
    const ours = joinPath(path, randomUUID());
    const ready = joinPath(path, READY);
    const watchers = new Set<Watcher>();
    /** exists() with a watch: the Stat, and a promise of the next event on the node. */
    const existsWatched = async (node: string): Promise<{ stat: unknown; event: Promise<void> }> => {
      let fire!: () => void;
      const event = new Promise<void>((resolve) => (fire = resolve));
      const watch: Watcher = () => {
        watchers.delete(watch);
        fire();
      };
      watchers.add(watch);
      const stat = await client.exists(node, { watch });
      return { stat, event };
    };
    const run = async (): Promise<void> => {
      const readyFirst = await existsWatched(ready);
      await client.create(ours, '', { mode: 'ephemeral', createParents: 'container', acl });
      const sessionId = client.sessionId;
      if (!active) return;
      subscriber.next('waiting');
      if (!readyFirst.stat) {
        const { children } = await client.children(path);
        if (children.filter((c) => c !== READY).length >= members) {
          await client.create(ready, '', { acl }).catch((error: unknown) => {
            if (!(error instanceof NodeExistsError)) throw error;
          });
        } else {
          await readyFirst.event;
        }
      }
      if (!active) return;
      subscriber.next('entered');
      await new Promise<void>((resolve, reject) => {
        const s = leave$.pipe(take(1)).subscribe({ error: reject, complete: resolve });
        if (!active) s.unsubscribe();
      });
      if (!active) return;
      subscriber.next('leaving');
      await leaveAll(sessionId);
      left = true;
      if (!active) return;
      subscriber.next('left');
      subscriber.complete();
    };
    // Curator's internalLeave: the lowest member waits for the highest to go; every other member
    // deletes its node and waits for the lowest. The last one out deletes `ready`.
    const leaveAll = async (sessionId: string | undefined): Promise<void> => {
      const name = ours.slice(path.length + (path === '/' ? 0 : 1));
      let shouldExist = true;
      for (;;) {
        if (!active) return;
        const listing = await client.children(path).catch((error: unknown) => {
          if (error instanceof NoNodeError) return { children: [] as string[] };
          throw error;
        });
        const present = listing.children.filter((c) => c !== READY).sort();
        if (present.length === 0) break;
        const index = present.indexOf(name);
        if (index < 0 && shouldExist) throw new LockLostError('expired', { path: ours });
        if (present.length === 1) {
          if (shouldExist) await deleteGuaranteed(client, ours, sessionId);
          break;
        }
        const watched = existsWatched(joinPath(path, index === 0 ? present.at(-1)! : present[0]!));
        if (index !== 0 && shouldExist) {
          await deleteGuaranteed(client, ours, sessionId);
          shouldExist = false;
        }
        const { stat, event } = await watched;
        if (stat) await event;
      }
      await client.delete(ready).catch((error: unknown) => {
        if (!(error instanceof NoNodeError)) throw error;
      });
    };
    run().catch((error: unknown) => {
      if (!active) return;
      active = false;
      // The teardown that follows the error returns early (inactive): release the watches here.
      for (const w of watchers) client.unwatch(w);
      void deleteGuaranteed(client, ours, client.sessionId);
      if (error instanceof ClosedError) subscriber.complete();
      else subscriber.error(error);
    });
    return () => {
      if (!active) return;
      active = false;
      for (const w of watchers) client.unwatch(w);
      if (!left) void deleteGuaranteed(client, ours, client.sessionId);
    };
  });
}
