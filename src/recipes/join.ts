/**
 * join(): membership of a group as a stream (Curator's GroupMember layout: an ephemeral `<path>/<id>`).
 */
import { Observable, timer, type Subscription } from 'rxjs';
import { ClosedError, InvalidArgumentError, isRetryable, NodeExistsError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath } from '../session/create.js';
import {
  validateAclOption,
  validateClient,
  validateData,
  validateOptions,
  validatePath,
  validateRequestSize,
} from '../session/validate.js';
import type { Acl } from '../types.js';
import { validateId } from './participant.js';
import { deleteGuaranteed, waitForDeletion } from './sequence-nodes.js';

/** What a member goes through. */
export type Membership =
  /** Our node is there, owned by the session named. */
  | { readonly type: 'joined'; readonly node: string; readonly sessionId: string }
  /** `<path>/<id>` is held by another session (a member with our id, or our previous session's node
   * not yet reaped): we join as soon as it is gone. */
  | { readonly type: 'waiting'; readonly node: string; readonly owner: string }
  /** The session is gone and our node with it: we join again in the new session. */
  | { readonly type: 'lost' };

export interface JoinOptions {
  /**
   * The ACL of our member node, and of `path` when it has to be created. Default: the open ACL. A
   * member must be able to create and delete children of `path` (CREATE, DELETE); members$ readers need
   * READ on `path` and on the member nodes.
   */
  readonly acl?: readonly Acl[];
}

const RETRY_MS = 1_000;

/**
 * Joins the group at `path` as `id` (an ephemeral node `<path>/<id>` holding `data`, with the ACL
 * `options.acl`, default open) for as long as it is subscribed, and emits what membership goes through:
 * `joined`, `waiting`, `lost`.
 *
 * - Cold: every subscription is a membership of its own. First emission: `joined` (or `waiting`).
 * - Survives session expiry: after `lost`, it joins again in the new session. A node deleted by
 *   someone else is created again. `suspended` changes nothing (the node lives with the session).
 * - Unsubscribing leaves the group: the node is deleted (retried across connection loss until it is
 *   gone or its session is). Completes when the client closes; errors only for what retrying cannot
 *   fix (e.g. NoAuthError on `path`).
 *
 * @example
 * join(client, '/app/workers', 'worker-1', JSON.stringify({ port: 8080 })).subscribe();
 */
export function join(
  client: ZkClient,
  path: string,
  id: string,
  data?: Uint8Array | string,
  options: JoinOptions = {},
): Observable<Membership> {
  validateClient(client);
  validatePath(path);
  validateId(id, 'id');
  if (id.includes('/')) throw new InvalidArgumentError('id', 'must not contain a slash', id);
  const node = joinPath(path, id);
  validatePath(node, 'id');
  const bytes = validateData(data, 'data');
  const acl = validateAclOption(validateOptions(options).acl);
  validateRequestSize(bytes, client.createOverhead(node, false, acl), 'data');
  return new Observable<Membership>((subscriber) => {
    let active = true;
    let creating = false;
    let joined: { sessionId: string } | undefined;
    let waiting: Subscription | undefined;
    let retry: Subscription | undefined;

    const fail = (error: unknown): void => {
      if (!active) return;
      if (error instanceof ClosedError) return subscriber.complete();
      if (!isRetryable(error)) return subscriber.error(error);
      retry?.unsubscribe();
      retry = timer(RETRY_MS, client.scheduler).subscribe(() => create());
    };

    /** Our node is there: follow it, so a deletion by someone else brings it back. */
    const hold = (sessionId: string): void => {
      joined = { sessionId };
      waiting?.unsubscribe();
      waiting = waitForDeletion(client, node).subscribe({
        next: (event) => {
          if (event !== 'gone' || client.sessionId !== sessionId) return;
          joined = undefined;
          create();
        },
        error: fail,
      });
      subscriber.next({ type: 'joined', node, sessionId });
    };

    function create(): void {
      if (!active || creating || joined) return;
      creating = true;
      client.create(node, bytes, { mode: 'ephemeral', createParents: 'container', acl }).then(
        () => {
          creating = false;
          const sessionId = client.sessionId;
          if (!active) return void deleteGuaranteed(client, node, sessionId);
          if (sessionId !== undefined) hold(sessionId);
        },
        (error: unknown) => {
          creating = false;
          if (!active) return;
          if (!(error instanceof NodeExistsError)) return fail(error);
          void client.exists(node).then((stat) => {
            if (!active) return;
            if (stat === null) return create();
            if (stat.ephemeralOwner === client.sessionId) return hold(stat.ephemeralOwner);
            subscriber.next({ type: 'waiting', node, owner: stat.ephemeralOwner });
            waiting?.unsubscribe();
            waiting = waitForDeletion(client, node).subscribe({
              next: (event) => event === 'gone' && create(),
              error: fail,
            });
          }, fail);
        },
      );
    }

    let replayed = false;
    const states = client.state$.subscribe({
      next: (state) => {
        const first = !replayed;
        replayed = true;
        if (state.type === 'closed') return subscriber.complete();
        if (first) return;
        if (state.type === 'lost') {
          joined = undefined;
          waiting?.unsubscribe();
          subscriber.next({ type: 'lost' });
        } else if (state.type === 'connected' || state.type === 'reconnected') create();
      },
      complete: () => subscriber.complete(),
    });
    create();

    return () => {
      active = false;
      states.unsubscribe();
      retry?.unsubscribe();
      const held = waiting;
      if (!joined) return held?.unsubscribe();
      // Delete first, release the watch after: the deletion fires it (into an inactive listener).
      // Removing a watch while its node is being deleted races in the native binding (see report).
      void deleteGuaranteed(client, node, joined.sessionId).then(() => held?.unsubscribe());
    };
  });
}
