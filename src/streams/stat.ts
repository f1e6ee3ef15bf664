import type { Observable } from 'rxjs';
import type { ZkClient } from '../session/client.js';
import { validateClient, validatePath } from '../session/validate.js';
import type { Watcher } from '../transport/port.js';
import type { Stat } from '../types.js';
import { sharedStream } from './shared.js';
import { watched } from './watched.js';

/**
 * A znode's Stat, or `null` while it does not exist, on ZooKeeper's existence watch: it follows
 * creation, deletion and data changes. Changes to the children alone do not trigger it (use
 * children$), though any Stat it emits is current when read.
 *
 * Hot and shared per client and path; first emission is the current state; deduplicated by the Stat's
 * zxids and versions; may skip intermediate versions but always converges; silent while `suspended`;
 * completes on close.
 *
 * Needs READ on the node: exists() checks no ACL, but ZooKeeper delivers a node's events only to
 * sessions that may read it, so without READ this shows the first Stat and then nothing (no error to
 * report it; data$ fails with NoAuthError instead). FAULTS.md, row 13.
 *
 * @example
 * stat$(client, '/app/ready').subscribe((s) => console.log(s ? 'ready' : 'not yet'));
 */
export function stat$(client: ZkClient, path: string): Observable<Stat | null> {
  validateClient(client);
  validatePath(path);
  return sharedStream(client, `stat:${path}`, watched<Stat>({ client, path, key: statKey, read: readStat }));
}

const statKey = (s: Stat): string => `${s.czxid}:${s.mzxid}:${s.pzxid}:${s.cversion}:${s.aversion}`;

const readStat = (client: ZkClient, path: string, watch: Watcher): Promise<Stat | null> =>
  client.exists(path, { watch });
