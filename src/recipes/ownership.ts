/**
 * What a lock, a read or write lock and a semaphore lease emit: ownership transitions, shared by all
 * of them (they are one recipe with different ranking rules, see lock-internals.ts).
 */
import type { Acl } from '../types.js';

/**
 * What `suspended` (socket lost, session maybe alive) means for an owner:
 * - `'safe'` (default): ownership ends at once (`lost` with reason `suspended`) and is re-checked on
 *   `reconnected` (same node, same token, if nothing changed). The client notices a dead socket after
 *   2/3 of the session timeout and the server expires the session only after all of it: that margin
 *   keeps two owners from overlapping.
 * - `'available'`: ownership is kept through `suspended` and ends only on `lost`. Another process may
 *   own the lock before this one learns it lost: fence what the owner writes with the token.
 */
export const OwnershipPolicy = { Safe: 'safe', Available: 'available' } as const;
export type OwnershipPolicy = (typeof OwnershipPolicy)[keyof typeof OwnershipPolicy];

/** Why ownership ended. */
export type LossReason =
  /** The connection is suspended (safe policy): the session may live, but we cannot know. */
  | 'suspended'
  /** The session is gone: expired on the server, or judged lost by the client's own timer. */
  | 'expired'
  /** Our node was deleted by someone else. */
  | 'deleted';

/** Ownership transitions. Only `acquired` means "you hold it now". No value twice in a row. */
export type Ownership =
  /** Our node is queued behind others (`node`: its path). */
  | { readonly type: 'waiting'; readonly node: string }
  /**
   * We hold it. `token`: our node's czxid, larger for every later owner of the same path (a fencing
   * token: hand it to what you write, so a resource can refuse a deposed owner's writes). `since`:
   * the client scheduler's time when ownership began.
   */
  | {
      readonly type: 'acquired';
      readonly token: number;
      readonly node: string;
      readonly sessionId: string;
      readonly since: number;
    }
  /** We held it and do not any more (`reason`). The stream goes on: it may acquire again. */
  | { readonly type: 'lost'; readonly reason: LossReason };

export interface OwnershipOptions {
  /** Default `'safe'`. */
  readonly policy?: OwnershipPolicy;
  /** The node's data. Default: empty. */
  readonly data?: Uint8Array | string;
  /**
   * The ACL of our node, and of the lock's parent when it has to be created. Default: the open ACL.
   * Every contender must be able to read the parent's children and our node (READ), and to create and
   * delete children of the parent (CREATE, DELETE).
   */
  readonly acl?: readonly Acl[];
}
