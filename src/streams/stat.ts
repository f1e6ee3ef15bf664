import type { Observable } from 'rxjs';
import { NoNodeError } from '../errors.js';
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
 * Needs READ on the node, and fails with NoAuthError without it (as data$ does). exists() checks no
 * ACL, but ZooKeeper delivers a node's events only to sessions that may read it, so a Stat read
 * without READ would be the last: before it shows a node's Stat, the stream makes one READ-guarded
 * read of it (the smaller of its data and its children, by the Stat; no watch), once per session and
 * ACL version (`aversion`). What it cannot see (nor can data$): an ACL changed later to shut the
 * session out (setACL fires no watch, and the node's later events are withheld: the last Stat stays),
 * and a node missing at first and then created unreadable (the creation is withheld: `null` stays).
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

/** Per stream (its watcher): the session and ACL version under which it last found READ allowed. */
const readable = new WeakMap<Watcher, string>();

function readStat(client: ZkClient, path: string, watch: Watcher): Promise<Stat | null> {
  return client
    .exists(path, { watch })
    .then((stat) => (stat === null ? null : checkRead(client, path, watch, stat)));
}

/** Resolves to `stat` once the session may READ the node; rejects with NoAuthError if it may not. */
function checkRead(client: ZkClient, path: string, watch: Watcher, stat: Stat): Stat | Promise<Stat | null> {
  const mark = `${client.sessionId}:${stat.aversion}`;
  if (readable.get(watch) === mark) return stat;
  // A child's name takes 10 bytes or more of a listing: read the data when it is smaller than that.
  // Either read needs READ, and neither arms a watch.
  const probe: Promise<unknown> =
    stat.dataLength < stat.numChildren * 10 ? client.get(path) : client.children(path);
  return probe.then(
    () => {
      readable.set(watch, mark);
      return stat;
    },
    (error: unknown) => {
      // Deleted in between: read again (an unreadable node's delete would not be heard).
      if (error instanceof NoNodeError) return readStat(client, path, watch);
      throw error;
    },
  );
}
