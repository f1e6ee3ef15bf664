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
import { validatePath } from '../session/validate.js';
import type { Watcher } from '../transport/port.js';
import type { Stat, WatchEvent } from '../types.js';
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

    /** Serialises reads per node and kind: a trigger during a read makes it read once more after. */
    const running = new Map<string, 'running' | 'again'>();
    async function serial(key: string, read: () => Promise<void>): Promise<void> {
      if (running.has(key)) {
        running.set(key, 'again');
        return;
      }
      running.set(key, 'running');
      try {
        do {
          running.set(key, 'running');
          await read();
        } while (active && running.get(key) === 'again');
      } finally {
        running.delete(key);
      }
    }

    // One listener per node and kind, kept so they can be handed back (unwatch) when the node goes.
    const listeners = new Map<string, { data: Watcher; children: Watcher }>();
    const watchersOf = (path: string): { data: Watcher; children: Watcher } => {
      let pair = listeners.get(path);
      if (!pair) {
        pair = {
          data: (event: WatchEvent) => {
            if (!active) return;
            if (event.type === 'deleted') remove(path);
            void readData(path, true);
          },
          children: (event: WatchEvent) => {
            if (!active) return;
            if (event.type === 'deleted') return remove(path);
            void readChildren(path, false);
          },
        };
        listeners.set(path, pair);
      }
      return pair;
    };
    /**
     * A read's watch is armed when its reply arrives: a reply that arrives after teardown armed it for
     * a listener that already left (teardown unwatched it too early). Release it again, or it stays
     * armed on the server for good.
     */
    const late = (watcher: Watcher) => (): void => {
      if (!active) client.unwatch(watcher);
    };
    const onData = (path: string): Watcher => watchersOf(path).data;
    const onChildren = (path: string): Watcher => watchersOf(path).children;

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

    function dropListeners(path: string): void {
      const pair = listeners.get(path);
      // The root keeps its listeners: it is watched for re-creation.
      if (!pair || path === root) return;
      listeners.delete(path);
      client.unwatch(pair.data);
      client.unwatch(pair.children);
    }

    function remove(path: string): void {
      for (const kid of kids.get(path) ?? []) remove(joinPath(path, kid));
      kids.delete(path);
      // Forget it in its parent's list too, so the parent's next listing loads it again if it is back.
      if (path !== root) {
        const { parent, name } = splitPath(path);
        kids.get(parent)?.delete(name);
      }
      dropListeners(path);
      const node = nodes.get(path);
      if (!node) return;
      nodes.delete(path);
      record({ type: 'removed', node });
    }

    /**
     * Reads a node's data with a watch; a missing root is watched for creation. `reappeared`: read after
     * a watch event, where a node that is new to the tree (deleted and created again) needs its
     * children loaded and watched as well (a sync loads them itself).
     */
    function readData(path: string, reappeared = false): Promise<void> {
      return serial(`d:${path}`, async () => {
        try {
          const watch = onData(path);
          const { data, stat } = await client.get(path, { watch }).finally(late(watch));
          if (active && upsert(path, data, stat) && reappeared) void readChildren(path, true);
        } catch (error) {
          if (!(error instanceof NoNodeError)) return fail(path, error);
          remove(path);
          if (
            path === root &&
            (await client
              .exists(root, { watch: onRootCreated })
              .finally(late(onRootCreated))
              .catch((e) => fail(root, e)))
          ) {
            await sync(root, true);
          }
        }
      });
    }

    /** Lists a node's children with a watch; loads new ones (all at once: pipelined), drops gone ones. */
    function readChildren(path: string, deep: boolean): Promise<void> {
      if (level(path) >= maxDepth) return Promise.resolve();
      return serial(`c:${path}`, async () => {
        let names: string[];
        try {
          const watch = onChildren(path);
          names = (await client.children(path, { watch }).finally(late(watch))).children;
        } catch (error) {
          if (!(error instanceof NoNodeError)) fail(path, error);
          return;
        }
        if (!active) return;
        const known = kids.get(path) ?? new Set<string>();
        const now = new Set(names);
        kids.set(path, now);
        for (const name of known) if (!now.has(name)) remove(joinPath(path, name));
        const load = names.filter((name) => deep || !known.has(name));
        await Promise.all(load.map((name) => sync(joinPath(path, name), deep)));
      });
    }

    /** Loads (or, `deep`, re-reads) a node and its subtree; its data and children reads go out together. */
    async function sync(path: string, deep: boolean): Promise<void> {
      stale.delete(path);
      await Promise.all([readData(path), readChildren(path, deep)]);
    }

    const onRootCreated: Watcher = () => {
      if (active) void sync(root, true);
    };

    function resyncStale(): void {
      const paths = [...stale];
      stale.clear();
      for (const path of paths) void sync(path, false);
    }

    const states = onSessionChanges(client, {
      // A new session has no watches: re-read and re-watch everything (diffs show as events).
      newSession: () => void sync(root, true),
      // Restored watches cover the loaded nodes; a missing root's exists() watch may have missed a
      // create+delete, and failed reads are stale.
      reconnected: () => {
        if (!nodes.has(root)) stale.add(root);
        resyncStale();
      },
      closed: () => subscriber.complete(),
    });

    void sync(root, true).then(() => {
      if (!active) return;
      initialized = true;
      record({ type: 'initialized' });
    });

    return () => {
      active = false;
      states.unsubscribe();
      flushing?.unsubscribe();
      retry?.unsubscribe();
      client.unwatch(onRootCreated);
      for (const pair of listeners.values()) {
        client.unwatch(pair.data);
        client.unwatch(pair.children);
      }
    };
  });
}
