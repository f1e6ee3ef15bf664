/**
 * dashboard$(): everything the page shows, as one stream of keyed updates. This is the whole of the
 * ZooKeeper side of the dashboard: rxzk's streams, merged.
 */
import { map, merge, type Observable } from 'rxjs';
import { treeEvents$, type TreeEvent, type ZkClient } from '../../src/index.js';
import { eachChild, type Update } from './each-child.js';
import { electionView$, groupView$, lockView$, preview, queueView$ } from './views.js';

/** Where the recipes live: every child of `elections` is an election, and so on. */
export interface Layout {
  readonly elections: string;
  readonly groups: string;
  readonly locks: string;
  readonly queues: string;
}

export function layoutUnder(root: string): Layout {
  const under = (name: string) => `${root === '/' ? '' : root}/${name}`;
  return {
    elections: under('elections'),
    groups: under('groups'),
    locks: under('locks'),
    queues: under('queues'),
  };
}

/**
 * The session (`session`), the tree under `root` as diffs (`node:<path>`, null when removed; `tree`
 * once loaded), and one view per election, group, lock and queue of `layout` (`election:<path>`, …).
 * Each key's latest value is its whole state: a consumer may drop any value that a newer one of the
 * same key replaces (see SseChannel).
 *
 * Every subscription is one browser. The streams underneath are hot and shared per client and path,
 * so a second browser costs no read and no watch: it gets the latest values at once. Unsubscribing
 * (the browser went away) releases them; the last one out releases the server's watches.
 */
export function dashboard$(client: ZkClient, root: string, layout = layoutUnder(root)): Observable<Update> {
  return merge(
    client.state$.pipe(map((state) => ({ key: 'session', value: { ...state, at: Date.now() } }))),
    treeEvents$(client, root).pipe(map(treeUpdate)),
    eachChild(client, layout.elections, 'election', (path) => electionView$(client, path)),
    eachChild(client, layout.groups, 'group', (path) => groupView$(client, path)),
    eachChild(client, layout.locks, 'lock', (path) => lockView$(client, path)),
    eachChild(client, layout.queues, 'queue', (path) => queueView$(client, path)),
  );
}

function treeUpdate(event: TreeEvent): Update {
  if (event.type === 'initialized') return { key: 'tree', value: { initialized: true } };
  const { path, data, stat } = event.node;
  return {
    key: `node:${path}`,
    value:
      event.type === 'removed'
        ? null
        : {
            data: preview(data),
            bytes: stat.dataLength,
            version: stat.version,
            ephemeral: stat.ephemeralOwner !== '0',
            mtime: stat.mtime,
          },
  };
}
