import type { Observable } from 'rxjs';
import { NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { validateClient, validatePath } from '../session/validate.js';
import { sharedStream } from './shared.js';
import type { NodeChildren } from './types.js';
import type { Watcher } from '../transport/port.js';
import { watched } from './watched.js';

/**
 * A znode's children, live: `{ path, children (sorted), stat (the parent's), zxid }`, or `null` while
 * the parent does not exist.
 *
 * Hot and shared per client and path (one read, one server watch; late subscribers get the latest at
 * once; the last unsubscribe releases it). First emission: the current state. Deduplicated by the
 * parent's czxid, pzxid and cversion. May skip intermediate versions; always delivers the latest and
 * converges across disconnects and expiry. Silent while `suspended`; completes on close; errors only
 * for what retrying cannot fix.
 *
 * @example
 * children$(client, '/workers').subscribe((c) => console.log(c?.children ?? 'no /workers'));
 */
export function children$(client: ZkClient, path: string): Observable<NodeChildren | null> {
  validateClient(client);
  validatePath(path);
  return sharedStream(
    client,
    `children:${path}`,
    watched<NodeChildren>({ client, path, key: childrenKey, read: readChildren }),
  );
}

const childrenKey = (v: NodeChildren): string => `${v.stat.czxid}:${v.stat.pzxid}:${v.stat.cversion}`;

/** The sorted children with a watch; a missing parent is null, with an exists() watch for its creation. */
function readChildren(client: ZkClient, path: string, watch: Watcher): Promise<NodeChildren | null> {
  return client.streamRead('child', path, watch).then(
    ({ children, stat }) => ({ path, children: children.sort(), stat, zxid: stat.pzxid }),
    (error: unknown) => {
      if (!(error instanceof NoNodeError)) throw error;
      return client
        .exists(path, { watch })
        .then((stat) => (stat === null ? null : readChildren(client, path, watch)));
    },
  );
}
