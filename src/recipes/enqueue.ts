/**
 * enqueue(): adds an item at the tail of a FIFO queue (read with queue()).
 */
import { InvalidArgumentError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath } from '../session/create.js';
import { validateClient, validatePath } from '../session/validate.js';
import type { Acl } from '../types.js';

/** The marker of queue item names: `_c_<uuid>-qn-NNNNNNNNNN` (ZooKeeper's own queue recipe uses `qn-`). */
export const QUEUE_ITEM = 'qn-';

export interface EnqueueOptions {
  /**
   * The item's ACL, and the queue node's when it has to be created. Default: the open ACL. Consumers
   * need READ on the queue node and its items and DELETE on the queue node (an at-least-once consumer
   * also CREATE and DELETE on `<path>/claims`).
   */
  readonly acl?: readonly Acl[];
  /**
   * An enqueue whose reply was lost looks for its item by the GUID in its name. Not finding it means
   * it never landed, or it landed and a consumer has taken it since. 'retry' (default) enqueues it
   * again: never lost, possibly delivered twice. 'reject' rejects with ConnectionLossError (its `path`
   * the item name that was sent, GUID included): never twice, possibly lost; for at-most-once
   * pipelines whose producer settles the doubt itself (e.g. with an idempotency key in the data).
   */
  readonly onLostReply?: 'retry' | 'reject';
}

/**
 * Appends `data` (up to ZooKeeper's size limit) to the queue at `path` (created when missing) as a
 * persistent-sequential node, and resolves to the item's path. Items are consumed in the order their
 * enqueue() calls landed. Protected (`_c_<uuid>-` prefix): a create whose reply was lost is found, not
 * repeated. One that is not found is sent again (see `onLostReply`): if a consumer took it in between,
 * the item is enqueued twice (ZooKeeper keeps no record of a deleted node). Rejects with
 * DataTooLargeError / InvalidArgumentError (naming the argument) before sending anything for bad input.
 *
 * @example
 * await enqueue(client, '/app/jobs', JSON.stringify({ id: 42 }));
 */
export function enqueue(
  client: ZkClient,
  path: string,
  data: Uint8Array | string,
  options: EnqueueOptions = {},
): Promise<string> {
  // Bad input rejects (never throws), as from every other promise of the library.
  try {
    validateClient(client);
    validatePath(path);
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options', 'must be an object', options);
    }
  } catch (error) {
    return Promise.reject(error);
  }
  // create() checks the data, the ACL and onLostReply (naming 'options.acl', 'options.onLostReply'),
  // and rejects before sending anything.
  return client.create(joinPath(path, QUEUE_ITEM), data, {
    mode: 'persistent-sequential',
    createParents: true,
    acl: options.acl,
    onLostReply: options.onLostReply,
  });
}
