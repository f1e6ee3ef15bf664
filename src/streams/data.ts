import type { Observable } from 'rxjs';
import { NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { validateClient, validatePath } from '../session/validate.js';
import { sharedStream } from './shared.js';
import type { NodeData } from './types.js';
import type { Watcher } from '../transport/port.js';
import { watched } from './watched.js';

/**
 * A znode's data and Stat, live.
 *
 * - Emits `{ path, data, stat, zxid }`, or `null` while the node does not exist (a missing node is a
 *   value, never an error); create, delete and re-create all show.
 * - Hot and shared: every subscriber on the same client and path shares one read and one server
 *   watch; a late subscriber gets the latest value at once. The last unsubscribe releases it all.
 * - First emission: the current state, read when the first subscriber arrives.
 * - Deduplicated by mzxid: no value twice; delete-then-recreate always shows.
 * - Consistency: may skip intermediate versions (ZooKeeper watches are one-shot); always delivers the
 *   latest, and converges to the server's state across disconnects and session expiry.
 * - Silent while `suspended`; completes when the client closes; errors only for what retrying cannot
 *   fix (e.g. NoAuthError on this path).
 *
 * @example
 * data$(client, '/app/config').pipe(decode(JSON.parse)).subscribe((c) => console.log(c?.value));
 */
export function data$(client: ZkClient, path: string): Observable<NodeData | null> {
  validateClient(client);
  validatePath(path);
  return sharedStream(
    client,
    `data:${path}`,
    watched<NodeData>({ client, path, key: dataKey, read: readData }),
  );
}

const dataKey = (v: NodeData): string => `${v.stat.mzxid}`;

/** The node's data with a watch; a missing node is null, with an exists() watch armed for its creation. */
function readData(client: ZkClient, path: string, watch: Watcher): Promise<NodeData | null> {
  // Promise chains rather than async/await: this runs once per change and per subscription cycle.
  return client.streamRead('data', path, watch).then(
    ({ data, stat }) => ({ path, data, stat, zxid: stat.mzxid }),
    (error: unknown) => {
      if (!(error instanceof NoNodeError)) throw error;
      // If it was created in between, read it (with its data watch) after all.
      return client
        .exists(path, { watch })
        .then((stat) => (stat === null ? null : readData(client, path, watch)));
    },
  );
}
