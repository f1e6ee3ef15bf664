/**
 * leader$(): who leads an election, for observers that do not run in it.
 */
import { distinctUntilChanged, map, of, switchMap, type Observable } from 'rxjs';
import type { ZkClient } from '../session/client.js';
import { validateClient, validatePath } from '../session/validate.js';
import { children$ } from '../streams/children.js';
import { data$ } from '../streams/data.js';
import { decodeParticipant, LATCH } from './participant.js';
import { sortSequenceNodes } from './sequence-nodes.js';

/** The leader of an election as an observer sees it. */
export interface Leader {
  /** The participant id (the node's data up to the first NUL byte: all of it for a Curator node). */
  readonly id: string;
  /** The candidate's extra data (empty when it has none). */
  readonly data: Buffer;
  /** The leader's node. */
  readonly node: string;
  /** The node's czxid: the token the leader fences its writes with. */
  readonly token: number;
  /** The session that owns the node. */
  readonly sessionId: string;
}

/**
 * The current leader of the election at `path`, or `null` while there is none (no candidate, or no
 * `path`), live. Works for elections run by leadership() and by Curator's LeaderLatch alike: the
 * leader is the `latch-` node with the lowest sequence number, as both rank them.
 *
 * - Built on children$ (of `path`) and data$ (of the lowest node), which are hot and shared per
 *   client and path: many observers in one process share two server watches. Each subscription
 *   composes them anew (cold wrapper, no extra server cost).
 * - First emission: the current leader (or null), once read.
 * - No value twice in a row (same node and data). During a failover it may show `null` between two
 *   leaders: there is a moment without one. It may skip short-lived leaders; it always converges to
 *   the current one, across disconnects and session expiry.
 * - Completes when the client closes; errors only for what retrying cannot fix (e.g. NoAuthError).
 * - What it shows is what the server had a moment ago: a leader must rely on its own leadership()
 *   stream and token, never on this.
 *
 * @example
 * leader$(client, '/app/election').subscribe((l) => console.log(l ? `${l.id} leads` : 'no leader'));
 */
export function leader$(client: ZkClient, path: string): Observable<Leader | null> {
  validateClient(client);
  validatePath(path);
  return children$(client, path).pipe(
    map((c) => (c === null ? undefined : sortSequenceNodes(path, c.children, LATCH)[0]?.path)),
    distinctUntilChanged(),
    switchMap((lowest) =>
      lowest === undefined
        ? of(null)
        : data$(client, lowest).pipe(
            map((node): Leader | null => {
              if (node === null) return null;
              const { id, data } = decodeParticipant(node.data);
              return { id, data, node: lowest, token: node.stat.czxid, sessionId: node.stat.ephemeralOwner };
            }),
          ),
    ),
    distinctUntilChanged((a, b) =>
      a === null || b === null ? a === b : a.node === b.node && a.id === b.id && a.data.equals(b.data),
    ),
  );
}
