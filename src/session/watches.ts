/**
 * The client's table of armed watches: one server watch per path and kind, however many listeners.
 *
 * Why: every registration through the C client keeps a callback alive until its watch fires (forever
 * on a path that never changes), and the server needs only one watch per path and session anyway. So a
 * read that asks for a watch joins an armed one when there is one, and registers only when there is
 * not. When the last listener of an armed watch leaves (`unwatch`), the server watch is removed too,
 * where the transport can (removeWatches); otherwise it stays armed for the next listener to join.
 *
 * Kinds follow the server's tables: `data` (getData, or exists() on a node that exists), `exist`
 * (exists() on a missing node), `child` (getChildren).
 */
import type { TransportHandle, Watcher } from '../transport/port.js';
import type { WatchEvent } from '../types.js';

export type WatchKind = 'data' | 'exist' | 'child';

interface Entry {
  readonly kind: WatchKind;
  readonly path: string;
  readonly listeners: Set<Watcher>;
  /** A removal is in flight: the server watch may be gone, so nobody may join this entry. */
  removing: boolean;
}

/** Entries by path, one map per kind (no composite string keys on the hot path). */
type Table = Record<WatchKind, Map<string, Entry>>;
const emptyTable = (): Table => ({ data: new Map(), exist: new Map(), child: new Map() });

/** Up to this many entries per listener are kept in an array; more in a set. */
const SMALL = 8;

export class WatchTable {
  private handle: TransportHandle | undefined;
  private entries: Table = emptyTable();
  /**
   * The entries each listener is in: usually one (a stream's), kept bare; a few (a stream that watches
   * data and existence) in an array; many (a tree's listener, in one entry per node) in a set, so that
   * a firing watch leaves its listener's list in constant time.
   */
  private readonly byListener = new Map<Watcher, Entry | Entry[] | Set<Entry>>();
  /** Stamps registrations and unwatch calls, in order (see stamp). */
  private clock = 0;
  private readonly unwatchedAt = new WeakMap<Watcher, number>();
  /**
   * Paths under a recursive watch of this handle (on the path itself). ZooKeeper 3.8 keys a watch's
   * mode by connection and path, so a one-shot data or exists watch set there later would turn the
   * recursive one into a one-shot: such watches are served by the recursive one instead (`served`).
   */
  private readonly covered = new Set<string>();
  /** One-shot data/exists listeners on covered paths: the recursive watch's next event there fires them. */
  private readonly served = new Map<string, Set<Watcher>>();
  /** When each covered path was covered (a stamp): child registrations sent before then are void. */
  private readonly coveredAt = new Map<string, number>();

  /** Binds the table to the live handle; a new handle (a new session) has no watches at all. */
  use(handle: TransportHandle): void {
    if (handle === this.handle) return;
    this.handle = handle;
    this.entries = emptyTable();
    this.byListener.clear();
    this.covered.clear();
    this.served.clear();
    this.coveredAt.clear();
  }

  /** Armed watches (server side, as far as this client knows); recursive ones count one each. */
  get size(): number {
    return this.entries.data.size + this.entries.exist.size + this.entries.child.size + this.covered.size;
  }

  /** Whether a watch of `kind` on `path` is armed and joinable. */
  isArmed(kind: WatchKind, path: string): boolean {
    if (kind !== 'child' && this.covered.has(path)) return true;
    const entry = this.entries[kind].get(path);
    return entry !== undefined && !entry.removing;
  }

  /**
   * Adds `listener` to the armed watch and returns true, or returns false: a registration is needed.
   * `stamp` (from `stamp()`, taken before a read whose answer decided to join): true without joining
   * when the listener was unwatched since.
   */
  join(kind: WatchKind, path: string, listener: Watcher, stamp?: number): boolean {
    const entry = this.entries[kind].get(path);
    if (!entry || entry.removing) {
      if (kind === 'child' || !this.covered.has(path)) return false;
      // Served by the recursive watch on this path (see covered): no registration.
      if (stamp !== undefined && (this.unwatchedAt.get(listener) ?? 0) > stamp) return true;
      let listeners = this.served.get(path);
      if (!listeners) this.served.set(path, (listeners = new Set()));
      listeners.add(listener);
      return true;
    }
    if (stamp !== undefined && (this.unwatchedAt.get(listener) ?? 0) > stamp) return true;
    this.listen(entry, listener);
    return true;
  }

  /**
   * A recursive watch on `path` is being armed: from now on it serves one-shot data watches there. The
   * returned call is to be made once the arming is sent: a one-shot child watch armed on `path` before
   * it takes its mode from it on ZooKeeper 3.8 (recursive: never told of child changes), so it leaves the
   * table and its listeners are woken to read and watch again (a child watch set after is one-shot).
   */
  cover(path: string): () => void {
    this.covered.add(path);
    this.coveredAt.set(path, ++this.clock);
    const entry = this.entries.child.get(path);
    if (!entry) return () => undefined;
    this.entries.child.delete(path);
    const listeners = [...entry.listeners];
    for (const listener of listeners) this.leave(listener, entry);
    const at = ++this.clock;
    return () => {
      for (const listener of listeners) {
        if ((this.unwatchedAt.get(listener) ?? 0) < at) listener({ type: 'children', path });
      }
    };
  }

  /** An event of the recursive watch on `path`, for `path` itself: fires the one-shot listeners it serves. */
  serve(path: string, event: WatchEvent): void {
    const listeners = this.served.get(path);
    if (!listeners) return;
    this.served.delete(path);
    for (const listener of listeners) listener(event);
  }

  /**
   * The recursive watch on `path` is given up; `removed`: a removal is being sent, which takes every
   * watch of the session on that path (removeWatches(Any) on ZooKeeper 3.6-3.8): its one-shot entries
   * leave the table now (nobody may
   * join them), and the returned call, once the removal has landed, wakes their listeners and the ones
   * it served so that they read and watch again. Watches registered after this (sent after the removal)
   * are not touched by it.
   */
  uncover(path: string, removed: boolean): () => void {
    this.covered.delete(path);
    this.coveredAt.delete(path);
    const orphans: [Watcher, WatchEvent][] = [];
    for (const listener of this.served.get(path) ?? []) orphans.push([listener, { type: 'changed', path }]);
    this.served.delete(path);
    // `removed`: a removal is sent; otherwise the recursive watch went with a connection, and the
    // one-shot ones were restored on the next (SetWatches).
    for (const kind of removed ? (['data', 'exist', 'child'] as const) : []) {
      const entry = this.entries[kind].get(path);
      if (!entry) continue;
      this.entries[kind].delete(path);
      const type = kind === 'child' ? 'children' : kind === 'exist' ? 'created' : 'changed';
      for (const listener of entry.listeners) {
        this.leave(listener, entry);
        orphans.push([listener, { type, path }]);
      }
    }
    const at = ++this.clock;
    return () => {
      for (const [listener, event] of orphans) {
        // Gone meanwhile: nothing to wake.
        if ((this.unwatchedAt.get(listener) ?? 0) < at) listener(event);
      }
    };
  }

  /**
   * The connection was re-established: recursive watches did not survive it (the C client restores
   * one-shot watches only). The listeners they served are woken to read and watch again, as one-shot
   * watches now; their owners arm the recursive watches again.
   */
  reconnected(): void {
    const served = [...this.served];
    this.covered.clear();
    this.served.clear();
    this.coveredAt.clear();
    for (const [path, listeners] of served) {
      for (const listener of listeners) listener({ type: 'changed', path });
    }
  }

  /**
   * The callback for a new registration. `kind` may be a function, read when the watch fires: exists()
   * learns the kind of watch it armed only from its answer.
   */
  callback(kind: WatchKind | (() => WatchKind), path: string): Watcher {
    return typeof kind === 'string'
      ? (event) => this.fire(kind, path, event)
      : (event) => this.fire(kind(), path, event);
  }

  /**
   * A stamp for a registration about to be sent; hand it to `armed` with the reply. A listener unwatched
   * while its registration was on its way (a stream unsubscribed while its read was in flight) must not
   * be armed by the reply: nobody would ever unwatch it again, and the watch would stay on the server.
   */
  stamp(): number {
    return ++this.clock;
  }

  /**
   * Records that the server armed a watch for `listener` (the registration's reply arrived). `stamp`:
   * the registration's, from `stamp()`; if the listener was unwatched since, the watch is released.
   */
  armed(kind: WatchKind, path: string, listener: Watcher, stamp?: number): void {
    const byPath = this.entries[kind];
    let entry = byPath.get(path);
    if (!entry || entry.removing) {
      entry = { kind, path, listeners: new Set(), removing: false };
      byPath.set(path, entry);
    }
    if (stamp !== undefined && (this.unwatchedAt.get(listener) ?? 0) > stamp) {
      if (entry.listeners.size === 0) this.release(entry);
      return;
    }
    if (kind === 'child' && stamp !== undefined && (this.coveredAt.get(path) ?? 0) > stamp) {
      // Sent before a recursive watch on this path, whose mode it took (see cover): not armed. Its
      // listener reads and watches again (after this reply: the new one goes out after the arming).
      if (entry.listeners.size === 0) byPath.delete(path);
      queueMicrotask(() => {
        if ((this.unwatchedAt.get(listener) ?? 0) <= stamp) listener({ type: 'children', path });
      });
      return;
    }
    this.listen(entry, listener);
  }

  /** Drops `listener` everywhere; an armed watch left without listeners is removed from the server. */
  unwatch(listener: Watcher): void {
    // Registrations of this listener still on their way are cancelled too (see stamp).
    this.unwatchedAt.set(listener, ++this.clock);
    // Served listeners: as many sets as covered paths, a handful at most.
    for (const [path, listeners] of this.served) {
      if (listeners.delete(listener) && listeners.size === 0) this.served.delete(path);
    }
    const entries = this.byListener.get(listener);
    if (!entries) return;
    this.byListener.delete(listener);
    for (const entry of entries instanceof Array || entries instanceof Set ? entries : [entries]) {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.entries[entry.kind].get(entry.path) === entry) {
        this.release(entry);
      }
    }
  }

  private listen(entry: Entry, listener: Watcher): void {
    if (entry.listeners.has(listener)) return;
    entry.listeners.add(listener);
    const entries = this.byListener.get(listener);
    if (entries === undefined) this.byListener.set(listener, entry);
    else if (entries instanceof Set) entries.add(entry);
    else if (!(entries instanceof Array)) this.byListener.set(listener, [entries, entry]);
    else if (entries.length < SMALL) entries.push(entry);
    else this.byListener.set(listener, new Set([...entries, entry]));
  }

  /** Takes `entry` off `listener`'s list (its watch fired). */
  private leave(listener: Watcher, entry: Entry): void {
    const entries = this.byListener.get(listener);
    if (entries === undefined) return;
    if (entries instanceof Set) {
      entries.delete(entry);
      if (entries.size === 0) this.byListener.delete(listener);
    } else if (entries instanceof Array) {
      const i = entries.indexOf(entry);
      if (i !== -1) entries.splice(i, 1);
      if (entries.length === 0) this.byListener.delete(listener);
    } else if (entries === entry) {
      this.byListener.delete(listener);
    }
  }

  private forget(entry: Entry): void {
    if (this.entries[entry.kind].get(entry.path) === entry && entry.listeners.size === 0) {
      this.entries[entry.kind].delete(entry.path);
    }
  }

  private release(entry: Entry): void {
    // On a recursive watch's own path the server holds no one-shot data watch apart from it (one joined
    // it, or was served by it): removeWatches(data) would take the recursive watch's data half.
    if (entry.kind !== 'child' && this.covered.has(entry.path)) return this.forget(entry);
    const remove = this.handle?.removeWatches;
    // The server removes `data` and `exist` watches together: keep both while either is listened to.
    const sibling =
      entry.kind === 'child'
        ? undefined
        : this.entries[entry.kind === 'data' ? 'exist' : 'data'].get(entry.path);
    if (!remove || (sibling && sibling.listeners.size > 0)) return;
    entry.removing = true;
    if (sibling) sibling.removing = true;
    const done = (): void => {
      this.forget(entry);
      if (sibling) this.forget(sibling);
    };
    // A failed removal (connection loss) leaves the watch armed; it fires into no listener later.
    remove(entry.path, entry.kind === 'child' ? 'children' : 'data').then(done, done);
  }

  private fire(kind: WatchKind, path: string, event: WatchEvent): void {
    const byPath = this.entries[kind];
    const entry = byPath.get(path);
    if (!entry) return;
    // One-shot: forget it before calling out, listeners re-register from inside their callback.
    byPath.delete(path);
    for (const listener of entry.listeners) this.leave(listener, entry);
    for (const listener of entry.listeners) listener(event);
  }
}
