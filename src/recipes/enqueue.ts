/**
 * enqueue(): adds an item at the tail of a FIFO queue (read with queue()).
 */
import type { ZkClient } from '../session/client.js';
import { joinPath } from '../session/create.js';
import { validatePath } from '../session/validate.js';

/** The marker of queue item names: `_c_<uuid>-qn-NNNNNNNNNN` (ZooKeeper's own queue recipe uses `qn-`). */
export const QUEUE_ITEM = 'qn-';

/**
 * Appends `data` (up to ZooKeeper's size limit) to the queue at `path` (created when missing) as a
 * persistent-sequential node, and resolves to the item's path. Items are consumed in the order their
 * enqueue() calls landed. Protected (`_c_<uuid>-` prefix): a create whose reply was lost is found, not
 * repeated, so a retry never enqueues twice. Rejects with DataTooLargeError / InvalidArgumentError
 * (naming the argument) before sending anything for bad input.
 *
 * @example
 * await enqueue(client, '/app/jobs', JSON.stringify({ id: 42 }));
 */
export function enqueue(client: ZkClient, path: string, data: Uint8Array | string): Promise<string> {
  validatePath(path);
  return client.create(joinPath(path, QUEUE_ITEM), data, {
    mode: 'persistent-sequential',
    createParents: true,
  });
}
