/**
 * eachChild(): one live view per child of a node, for as long as the child is there.
 */
import { endWith, filter, map, mergeMap, pairwise, share, startWith, takeUntil, type Observable } from 'rxjs';
import { children$, type ZkClient } from '../../src/index.js';

/** The latest state of one thing the page shows; `null` when it is gone. */
export interface Update {
  readonly key: string;
  readonly value: unknown;
}

/**
 * Follows the children of `parent` (children$) and runs `view(childPath)` for each child while it is
 * listed: its values become updates keyed `<kind>:<childPath>`, and a `null` for that key when the
 * child goes. A child that comes back gets a fresh view.
 */
export function eachChild(
  client: ZkClient,
  parent: string,
  kind: string,
  view: (path: string) => Observable<unknown>,
): Observable<Update> {
  // One listing for the views' end conditions and for finding new children (children$ is shared per
  // client and path anyway; share() keeps this pipeline's subscribers in a known order: new children
  // are found before the listing that drops one ends its view).
  const names$ = children$(client, parent).pipe(
    map((listing) => new Set(listing?.children ?? [])),
    share(),
  );
  return names$.pipe(
    startWith(new Set<string>()),
    pairwise(),
    mergeMap(([before, now]) => [...now].filter((name) => !before.has(name))),
    mergeMap((name) => {
      const path = `${parent === '/' ? '' : parent}/${name}`;
      const key = `${kind}:${path}`;
      return view(path).pipe(
        map((value): Update => ({ key, value })),
        takeUntil(names$.pipe(filter((names) => !names.has(name)))),
        endWith({ key, value: null }),
      );
    }),
  );
}
