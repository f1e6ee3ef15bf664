/**
 * The client side of watches, as the C client keeps them: three lists by server path (`node` for
 * getData and exists() on an existing node, `exist` for exists() on a missing one, `child` for
 * getChildren). A watcher joins its list when the reply arrives; an event takes every watcher of the
 * lists it concerns, so each registered callback is called once even though the server holds one
 * watch per path.
 */
import type { Watcher } from '../port.js';
import type { WatchLists } from './engine.js';
import type { EventType } from './watches.js';

export type ClientList = 'node' | 'exist' | 'child';

/** Which lists an event empties (zookeeper.c, collectWatchers). */
const listsFor: Record<EventType, readonly ClientList[]> = {
  created: ['node', 'exist'],
  changed: ['node', 'exist'],
  children: ['child'],
  deleted: ['node', 'exist', 'child'],
};

export class ClientWatches {
  private readonly lists: Record<ClientList, Map<string, Watcher[]>> = {
    node: new Map(),
    exist: new Map(),
    child: new Map(),
  };

  add(list: ClientList, path: string, watcher: Watcher): void {
    const map = this.lists[list];
    const watchers = map.get(path);
    if (watchers) watchers.push(watcher);
    else map.set(path, [watcher]);
  }

  /** Takes the watchers an event on `path` triggers (they are one-shot). */
  take(type: EventType, path: string): Watcher[] {
    const taken: Watcher[] = [];
    for (const list of listsFor[type]) {
      const watchers = this.lists[list].get(path);
      if (!watchers) continue;
      this.lists[list].delete(path);
      taken.push(...watchers);
    }
    return taken;
  }

  /** Drops the watchers of `kind` on `path` without calling them (removeWatches). */
  remove(kind: 'data' | 'children' | 'any', path: string): void {
    if (kind !== 'data') this.lists.child.delete(path);
    if (kind !== 'children') {
      this.lists.node.delete(path);
      this.lists.exist.delete(path);
    }
  }

  /** What SetWatches re-sends after a reconnect. */
  paths(): WatchLists {
    return {
      data: [...this.lists.node.keys()],
      exist: [...this.lists.exist.keys()],
      child: [...this.lists.child.keys()],
    };
  }

  clear(): void {
    for (const map of Object.values(this.lists)) map.clear();
  }
}
