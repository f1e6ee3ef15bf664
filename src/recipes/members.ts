/**
 * members$(): a group's members, live.
 */
import { map, type Observable } from 'rxjs';
import type { ZkClient } from '../session/client.js';
import { splitPath } from '../session/create.js';
import { validateClient, validatePath } from '../session/validate.js';
import { tree$ } from '../streams/tree.js';

/**
 * The members of the group at `path` (joined with join(), or Curator's GroupMember): id -> data,
 * live. An empty map while the group is empty or `path` does not exist.
 *
 * - Built on tree$ (depth 1), hot and shared per client and path: one watch on `path` and one per
 *   member, however many subscribers.
 * - First emission: every member, once all are loaded. Then one map per change (a batch of changes in
 *   one turn may arrive as one map).
 * - May skip intermediate states; always converges to the server's, across disconnects and expiry.
 *   Completes when the client closes; errors only for what retrying cannot fix.
 *
 * @example
 * members$(client, '/app/workers').subscribe((m) => console.log([...m.keys()]));
 */
export function members$(client: ZkClient, path: string): Observable<ReadonlyMap<string, Buffer>> {
  validateClient(client);
  validatePath(path);
  return tree$(client, path, { depth: 1 }).pipe(
    map((tree) => {
      const members = new Map<string, Buffer>();
      for (const [nodePath, node] of tree.nodes) {
        if (nodePath !== path) members.set(splitPath(nodePath).name, node.data);
      }
      return members as ReadonlyMap<string, Buffer>;
    }),
  );
}
