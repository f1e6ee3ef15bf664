/**
 * tree$ and treeEvents$: a whole subtree, live, like Curator's CuratorCache and kazoo's TreeCache.
 */
import {
  defer,
  distinctUntilChanged,
  filter,
  map,
  mergeMap,
  Observable,
  timer,
  type Subscription,
} from 'rxjs';
import { ClosedError, InvalidArgumentError, isRetryable, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath, splitPath } from '../session/create.js';
import { validateClient, validatePath } from '../session/validate.js';
import type { Watcher } from '../transport/port.js';
import type { Stat } from '../types.js';
import { onSessionChanges } from './session.js';
import { sharedStream } from './shared.js';

export interface TreeNode {
  readonly path: string;
  readonly data: Buffer;
  readonly stat: Stat;
}

/** An immutable view of the subtree: path -> node. */
export interface TreeSnapshot {
  readonly root: string;
  readonly nodes: ReadonlyMap<string, TreeNode>;
  /** True once the first full load finished. */
  readonly initialized: boolean;
}

export type TreeEvent =
  | { readonly type: 'added'; readonly node: TreeNode }
  | { readonly type: 'updated'; readonly node: TreeNode; readonly previous: TreeNode }
  | { readonly type: 'removed'; readonly node: TreeNode }
  /** After the first full load (or, for a late subscriber, after the `added` of what is already there). */
  | { readonly type: 'initialized' };

export interface TreeOptions {
  /** Levels below the root to follow: 0 = the root alone. Default: all. */
  readonly depth?: number;
}

interface Batch {
  readonly snapshot: TreeSnapshot;
  readonly events: readonly TreeEvent[];
}

const RETRY_MS = 1_000;

/**
 * Snapshots of the subtree at `path`, live: the first once the whole subtree is loaded (its reads are
 * pipelined, not issued one at a time), then one per batch of changes. Empty while the root does not
 * exist. Hot and shared per client, path and depth with treeEvents$; may skip intermediate versions of a
 * node, always converges to the server's tree across disconnects and session expiry; completes on close.
 *
 * @example
 * tree$(client, '/services').subscribe((t) => console.log(`${t.nodes.size} nodes`));
 */
export function tree$(client: ZkClient, path: string, options: TreeOptions = {}): Observable<TreeSnapshot> {
  return batches(client, path, options).pipe(
    filter((b) => b.snapshot.initialized),
    map((b) => b.snapshot),
    distinctUntilChanged(),
  );
}

/**
 * The subtree's changes as events: `added`, `updated`, `removed`, and `initialized` after the first
 * full load. A subscriber arriving later first gets `added` for every node already there, then
 * `initialized`, then live events, so every subscriber can rebuild the tree from its events alone.
 * Never reports `added` for a node it reported present, nor `updated`/`removed` for one it did not.
 */
export function treeEvents$(
  client: ZkClient,
  path: string,
  options: TreeOptions = {},
): Observable<TreeEvent> {
  // Bad input throws here, at the call, as from every stream factory (not on subscribe).
  const source = batches(client, path, options);
  return defer(() => {
    let first = true;
    let initialized = false;
    return source.pipe(
      mergeMap((batch) => {
        const out: TreeEvent[] = [];
        if (first) {
          // Joining a running tree: what is there already arrives as `added`.
          first = false;
          for (const node of batch.snapshot.nodes.values()) out.push({ type: 'added', node });
        } else {
          out.push(...batch.events.filter((e) => e.type !== 'initialized'));
        }
        if (batch.snapshot.initialized && !initialized) {
          initialized = true;
          out.push({ type: 'initialized' });
        }
        return out;
      }),
    );
  });
}

function batches(client: ZkClient, path: string, options: TreeOptions): Observable<Batch> {
  validateClient(client);
  validatePath(path);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object', options);
  }
  const depth = options.depth ?? Infinity;
  if (typeof depth !== 'number' || !(depth >= 0) || (depth !== Infinity && !Number.isInteger(depth))) {
    throw new InvalidArgumentError('options.depth', 'must be an integer >= 0 (or Infinity)', depth);
  }
  return sharedStream(client, `tree:${depth}:${path}`, (sink) => {
    const subscription = treeSource(client, path, depth).subscribe(sink);
    return { stop: () => subscription.unsubscribe() };
  });
}

function treeSource(client: ZkClient, root: string, maxDepth: number): Observable<Batch> {
  return new Observable<Batch>((subscriber) => {
    let active = true;
    // One recursive watch on the root (ZooKeeper 3.6+ addWatch, where the transport has it) instead of
    // a data and a children watch per node: priming is then a plain read of each node, and the server
    // holds one watch, not two per node. It does not survive a reconnection: armed again, and the tree
    // read again, after each (as Curator's CuratorCache does).
    const recursive = client.recursiveWatches;
    let initialized = false;
    const nodes = new Map<string, TreeNode>();
    const kids = new Map<string, Set<string>>();
    const stale = new Set<string>();
    let pending: TreeEvent[] = [];
    let flushing: Subscription | undefined;
    let retry: Subscription | undefined;
    const level = (path: string): number =>
      path === root ? 0 : (root === '/' ? path : path.slice(root.length)).split('/').length - 1;

    // Changes are batched per scheduler turn: one immutable snapshot per batch, not per event.
    const record = (event: TreeEvent): void => {
      pending.push(event);
      // While priming, nobody sees partial trees: one batch when the load is complete, no copies before.
      if (initialized || event.type === 'initialized') flushing ??= client.scheduler.schedule(flush);
    };
    function flush(): void {
      flushing = undefined;
      if (!active) return;
      const events = pending;
      pending = [];
      subscriber.next({ snapshot: { root, nodes: new Map(nodes), initialized }, events });
    }

    // Reads still out while priming: the first snapshot goes out when none is left. Counted rather than
    // awaited: a promise per node (and one per level to wait on them) was most of priming's garbage.
    let loading = 0;
    const loaded = (): void => {
      if (initialized || --loading > 0 || !active) return;
      initialized = true;
      record({ type: 'initialized' });
    };

    const fail = (path: string, error: unknown): void => {
      if (!active) return;
      if (error instanceof ClosedError) return subscriber.complete();
      if (!isRetryable(error)) return subscriber.error(error);
      stale.add(path);
      retry ??= timer(RETRY_MS, client.scheduler).subscribe(() => {
        retry = undefined;
        resyncStale();
      });
    };

    // One listener per kind for the whole tree (events carry their path), not a pair per node: the
    // client keeps one server watch per path and kind either way, and the tree hands them all back at
    // once when it stops. A removed node's watches have fired (deletion triggers them), so nothing is
    // left to hand back before.
    const onData: Watcher = (event) => {
      if (!active) return;
      if (event.type === 'deleted') remove(event.path);
      readData(event.path, REAPPEARED);
    };
    const onChildren: Watcher = (event) => {
      if (!active) return;
      if (event.type === 'deleted') return remove(event.path);
      readChildren(event.path, false);
    };
    const onRootCreated: Watcher = () => {
      if (active) sync(root, true);
    };
    const onRecursive: Watcher = (event) => {
      if (!active) return;
      const path = event.path;
      if (level(path) > maxDepth) return;
      if (event.type === 'deleted') return remove(path);
      if (event.type === 'changed') return readData(path);
      if (event.type !== 'created') return;
      // A node made since its parent was listed: the parent's list must know it, for later diffs.
      if (path !== root) {
        const { parent, name } = splitPath(path);
        kids.get(parent)?.add(name);
      }
      sync(path, false);
    };
    const arm = (): void => {
      client.watchRecursive(root, onRecursive).catch((error: unknown) => fail(root, error));
    };

    /** Returns true when the node is new to the tree. */
    function upsert(path: string, data: Buffer, stat: Stat): boolean {
      const previous = nodes.get(path);
      if (previous && previous.stat.mzxid === stat.mzxid) return false;
      const node = { path, data, stat };
      // Update the map before recording: the batch's snapshot must include what its events say.
      nodes.set(path, node);
      record(previous ? { type: 'updated', node, previous } : { type: 'added', node });
      return previous === undefined;
    }

    function remove(path: string): void {
      for (const kid of kids.get(path) ?? []) remove(joinPath(path, kid));
      kids.delete(path);
      // Forget it in its parent's list too, so the parent's next listing loads it again if it is back.
      if (path !== root) {
        const { parent, name } = splitPath(path);
        kids.get(parent)?.delete(name);
      }
      const node = nodes.get(path);
      if (!node) return;
      nodes.delete(path);
      record({ type: 'removed', node });
    }

    // Reads are serialised per node and kind: a trigger during a read makes it read once more after
    // (RUNNING -> AGAIN); `reappeared` survives into the read again.
    const dataRuns = new Map<string, number>();
    const childRuns = new Map<string, number>();

    /**
     * Reads a node's data with a watch; a missing root is watched for creation. `reappeared`: read after
     * a watch event, where a node that is new to the tree (deleted and created again) needs its
     * children loaded and watched as well (a sync loads them itself).
     */
    function readData(path: string, follow = 0): void {
      const run = dataRuns.get(path);
      if (run !== undefined) {
        dataRuns.set(path, run | AGAIN | follow);
        return;
      }
      dataRuns.set(path, RUNNING);
      if (!initialized) loading++;
      (recursive ? client.plainRead('data', path) : client.streamRead('data', path, onData)).then(
        ({ data, stat }) => {
          if (active) {
            const added = upsert(path, data, stat);
            if (follow & CHILDREN) {
              // The recursive watch reports every child made from now on: a node that has none needs
              // no listing (most of a tree's nodes are leaves: half the requests of a load).
              if (stat.numChildren > 0) readChildren(path, (follow & DEEP) !== 0);
              else noChildren(path);
            } else if (added && follow & REAPPEARED) readChildren(path, true);
          }
          dataDone(path);
        },
        (error: unknown) => {
          if (!(error instanceof NoNodeError)) {
            fail(path, error);
            return dataDone(path);
          }
          remove(path);
          // The recursive watch reports the root's creation; one-shot watches need an exists() watch.
          if (path !== root || !active || recursive) return dataDone(path);
          client.exists(root, { watch: onRootCreated }).then(
            (stat) => {
              if (stat && active) sync(root, true);
              dataDone(path);
            },
            (e: unknown) => {
              fail(root, e);
              dataDone(path);
            },
          );
        },
      );
    }

    function dataDone(path: string): void {
      const run = dataRuns.get(path) ?? RUNNING;
      dataRuns.delete(path);
      if (active && run & AGAIN) readData(path, run & (REAPPEARED | CHILDREN | DEEP));
      loaded();
    }

    /** A node read with no children: any it was known to have are gone. */
    function noChildren(path: string): void {
      const known = kids.get(path);
      kids.set(path, new Set());
      if (known) for (const name of known) remove(joinPath(path, name));
    }

    /** Lists a node's children with a watch; loads new ones (all at once: pipelined), drops gone ones. */
    function readChildren(path: string, deep: boolean): void {
      if (level(path) >= maxDepth) return;
      const run = childRuns.get(path);
      if (run !== undefined) {
        childRuns.set(path, run | AGAIN | (deep ? DEEP : 0));
        return;
      }
      childRuns.set(path, RUNNING);
      if (!initialized) loading++;
      (recursive ? client.plainRead('child', path) : client.streamRead('child', path, onChildren)).then(
        ({ children: names }) => {
          if (active) {
            const known = kids.get(path);
            const now = new Set(names);
            kids.set(path, now);
            if (known) for (const name of known) if (!now.has(name)) remove(joinPath(path, name));
            for (const name of names) if (deep || !known?.has(name)) sync(joinPath(path, name), deep);
          }
          childrenDone(path);
        },
        (error: unknown) => {
          if (!(error instanceof NoNodeError)) fail(path, error);
          childrenDone(path);
        },
      );
    }

    function childrenDone(path: string): void {
      const run = childRuns.get(path) ?? RUNNING;
      childRuns.delete(path);
      if (active && run & AGAIN) readChildren(path, (run & DEEP) !== 0);
      loaded();
    }

    /** Loads (or, `deep`, re-reads) a node and its subtree; its data and children reads go out together. */
    function sync(path: string, deep: boolean): void {
      stale.delete(path);
      if (recursive && level(path) < maxDepth) return readData(path, CHILDREN | (deep ? DEEP : 0));
      readData(path);
      readChildren(path, deep);
    }

    function resyncStale(): void {
      const paths = [...stale];
      stale.clear();
      // A failed arming leaves the root stale: arm again (once per connection: a no-op if it held).
      if (recursive && paths.includes(root)) arm();
      for (const path of paths) sync(path, false);
    }

    // After a reconnection a recursive watch is gone, and what changed meanwhile was not reported:
    // armed again, then everything read again (diffs show as events).
    const rearm = (): void => {
      arm();
      sync(root, true);
    };
    const states = onSessionChanges(client, {
      // A new session has no watches: re-read and re-watch everything (diffs show as events).
      newSession: () => (recursive ? rearm() : sync(root, true)),
      // Restored one-shot watches cover the loaded nodes; a missing root's exists() watch may have
      // missed a create+delete, and failed reads are stale.
      reconnected: () => {
        if (recursive) return rearm();
        if (!nodes.has(root)) stale.add(root);
        resyncStale();
      },
      closed: () => subscriber.complete(),
    });

    // Counted as one load itself, so that the first snapshot cannot go out before the root's reads are.
    loading++;
    // Sent before the reads (one session's requests are applied in order): no change after them is
    // missed, and one before them is read anyway.
    if (recursive) arm();
    sync(root, true);
    loaded();

    return () => {
      active = false;
      states.unsubscribe();
      flushing?.unsubscribe();
      retry?.unsubscribe();
      // Every watch the tree armed, at once (a reply still on its way is released when it lands).
      if (recursive) client.unwatchRecursive(root, onRecursive);
      client.unwatch(onRootCreated);
      client.unwatch(onData);
      client.unwatch(onChildren);
    };
  });
}

/**
 * Bits of a read's run: one is out; another was asked for; (data, one-shot watches) a node new to the
 * tree loads its children; (data, recursive watch) list its children if it has any; deep: re-read them.
 */
const RUNNING = 1;
const AGAIN = 2;
const REAPPEARED = 4;
const DEEP = 8;
const CHILDREN = 16;
