/**
 * The server's watch tables (WatchManager): one `data` and one `child` table, each path -> the sessions
 * watching it. A session has at most one watch per path and table however often it registers; a watch
 * is removed when it fires (one-shot). `exists()` watches live in the data table.
 */

export type WatchTable = 'data' | 'child';

/** ZooKeeper's event types, by the names the port uses. */
export type EventType = 'created' | 'deleted' | 'changed' | 'children';

export class WatchManager {
  private readonly tables: Record<WatchTable, Map<string, Set<string>>> = {
    data: new Map(),
    child: new Map(),
  };

  add(table: WatchTable, path: string, sessionId: string): void {
    const map = this.tables[table];
    let sessions = map.get(path);
    if (!sessions) map.set(path, (sessions = new Set()));
    sessions.add(sessionId);
  }

  /** Removes one session's watch; false when there was none (NoWatcher). */
  remove(table: WatchTable, path: string, sessionId: string): boolean {
    const map = this.tables[table];
    const sessions = map.get(path);
    if (!sessions?.delete(sessionId)) return false;
    if (sessions.size === 0) map.delete(path);
    return true;
  }

  /** Every watch of a session (its connection closed or the session ended). */
  removeSession(sessionId: string): void {
    for (const table of Object.values(this.tables)) {
      for (const [path, sessions] of table) {
        sessions.delete(sessionId);
        if (sessions.size === 0) table.delete(path);
      }
    }
  }

  clear(): void {
    this.tables.data.clear();
    this.tables.child.clear();
  }

  /**
   * Fires and removes the watches of `table` on `path`; returns the sessions notified. Sessions in
   * `skip` were notified of this change already (a delete notifies a session once for both tables).
   */
  trigger(table: WatchTable, path: string, skip?: ReadonlySet<string>): Set<string> {
    const map = this.tables[table];
    const sessions = map.get(path);
    map.delete(path);
    const fired = new Set<string>();
    for (const session of sessions ?? []) if (!skip?.has(session)) fired.add(session);
    return fired;
  }

  /** Total watches, as `wchs` counts them (path-session pairs over both tables). */
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
