/**
 * The server's watch tables (WatchManager): one `data` and one `child` table, each path -> the sessions
 * watching it. A session has at most one watch per path and table however often it registers. `exists()`
 * watches live in the data table.
 *
 * Each registration has a mode, keyed by session and path per table (the server's WatcherModeManager):
 * standard (one-shot, removed when it fires) or persistent recursive (never removed by an event; it fires
 * for its path and every path below it). The mode is whatever the session's last registration on that
 * path set, so a one-shot watch set on the path of a recursive one turns it back into a one-shot (ZooKeeper
 * 3.8 keeps one mode per connection and path).
 */

export type WatchTable = 'data' | 'child';

/** ZooKeeper's event types, by the names the port uses. */
export type EventType = 'created' | 'deleted' | 'changed' | 'children';

export type WatchMode = 'standard' | 'recursive';

export class WatchManager {
  private readonly tables: Record<WatchTable, Map<string, Set<string>>> = {
    data: new Map(),
    child: new Map(),
  };
  /** path -> sessions whose registration there is recursive; absent: standard. */
  private readonly recursive: Record<WatchTable, Map<string, Set<string>>> = {
    data: new Map(),
    child: new Map(),
  };

  add(table: WatchTable, path: string, sessionId: string, mode: WatchMode = 'standard'): void {
    addTo(this.tables[table], path, sessionId);
    if (mode === 'recursive') addTo(this.recursive[table], path, sessionId);
    else deleteFrom(this.recursive[table], path, sessionId);
  }

  /** Removes one session's watch, whatever its mode; false when there was none (NoWatcher). */
  remove(table: WatchTable, path: string, sessionId: string): boolean {
    deleteFrom(this.recursive[table], path, sessionId);
    return deleteFrom(this.tables[table], path, sessionId);
  }

  /** Every watch of a session (its connection closed or the session ended). */
  removeSession(sessionId: string): void {
    for (const tables of [this.tables, this.recursive]) {
      for (const table of Object.values(tables)) {
        for (const [path, sessions] of table) {
          sessions.delete(sessionId);
          if (sessions.size === 0) table.delete(path);
        }
      }
    }
  }

  clear(): void {
    for (const tables of [this.tables, this.recursive])
      for (const table of Object.values(tables)) table.clear();
  }

  /**
   * Fires the watches of `table` that an event of `type` on `path` triggers, and removes the one-shot
   * ones among them; returns the sessions notified. A one-shot watch fires only on `path` itself; a
   * recursive one on `path` or any ancestor, for every type but `children`. A session is notified once
   * however many of its watches matched. Sessions in `skip` were notified of this change already (a
   * delete notifies a session once for both tables).
   */
  trigger(table: WatchTable, path: string, type: EventType, skip?: ReadonlySet<string>): Set<string> {
    const map = this.tables[table];
    const recursive = this.recursive[table];
    const matched = new Set<string>();
    // Without recursive watches only the path itself can match (the server skips the walk too).
    for (
      let at: string | undefined = path;
      at !== undefined;
      at = recursive.size > 0 ? parent(at) : undefined
    ) {
      const sessions = map.get(at);
      if (!sessions) continue;
      const persistent = recursive.get(at);
      for (const session of sessions) {
        if (persistent?.has(session)) {
          if (type !== 'children') matched.add(session);
        } else if (at === path) {
          matched.add(session);
          sessions.delete(session);
        }
      }
      if (sessions.size === 0) map.delete(at);
    }
    const fired = new Set<string>();
    for (const session of matched) if (!skip?.has(session)) fired.add(session);
    return fired;
  }

  /**
   * Total watches, as mntr's zk_watch_count counts them: path-session pairs over both tables. A recursive
   * watch is in both (3.8 registers it in the child table too), so it counts 2.
   */
  count(): number {
    let total = 0;
    for (const table of Object.values(this.tables)) for (const s of table.values()) total += s.size;
    return total;
  }

  /** path -> watching sessions over both tables (`wchp` lists the data table only). */
  byPath(): Map<string, string[]> {
    const out = new Map<string, Set<string>>();
    for (const table of Object.values(this.tables)) {
      for (const [path, sessions] of table) {
        const set = out.get(path) ?? new Set<string>();
        for (const s of sessions) set.add(s);
        out.set(path, set);
      }
    }
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, s]) => [p, [...s]]));
  }
}

function addTo(map: Map<string, Set<string>>, path: string, sessionId: string): void {
  let sessions = map.get(path);
  if (!sessions) map.set(path, (sessions = new Set()));
  sessions.add(sessionId);
}

function deleteFrom(map: Map<string, Set<string>>, path: string, sessionId: string): boolean {
  const sessions = map.get(path);
  if (!sessions?.delete(sessionId)) return false;
  if (sessions.size === 0) map.delete(path);
  return true;
}

/** The parent of `path`, undefined for the root. */
function parent(path: string): string | undefined {
  if (path === '/') return undefined;
  const slash = path.lastIndexOf('/');
  return slash === 0 ? '/' : path.slice(0, slash);
}
