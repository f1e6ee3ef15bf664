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

const keyOf = (kind: WatchKind, path: string): string => `${kind}\u0000${path}`;

export class WatchTable {
  private handle: TransportHandle | undefined;
  private readonly entries = new Map<string, Entry>();
  private readonly byListener = new Map<Watcher, Set<string>>();

  /** Binds the table to the live handle; a new handle (a new session) has no watches at all. */
  use(handle: TransportHandle): void {
    if (handle === this.handle) return;
    this.handle = handle;
    this.entries.clear();
    this.byListener.clear();
  }

  /** Armed watches (server side, as far as this client knows). */
  get size(): number {
    return this.entries.size;
  }

  /** Whether a watch of `kind` on `path` is armed and joinable. */
  isArmed(kind: WatchKind, path: string): boolean {
    const entry = this.entries.get(keyOf(kind, path));
    return entry !== undefined && !entry.removing;
  }

  /** Adds `listener` to the armed watch and returns true, or returns false: a registration is needed. */
  join(kind: WatchKind, path: string, listener: Watcher): boolean {
    const entry = this.entries.get(keyOf(kind, path));
    if (!entry || entry.removing) return false;
    this.listen(entry, listener);
    return true;
  }

  /** The callback for a new registration; `kind()` is read when it fires (exists() learns it late). */
  callback(kind: () => WatchKind, path: string): Watcher {
    return (event) => this.fire(kind(), path, event);
  }

  /** Records that the server armed a watch for `listener` (the registration's reply arrived). */
  armed(kind: WatchKind, path: string, listener: Watcher): void {
    const key = keyOf(kind, path);
    let entry = this.entries.get(key);
    if (!entry || entry.removing) {
      entry = { kind, path, listeners: new Set(), removing: false };
      this.entries.set(key, entry);
    }
    this.listen(entry, listener);
  }

  /** Drops `listener` everywhere; an armed watch left without listeners is removed from the server. */
  unwatch(listener: Watcher): void {
    const keys = this.byListener.get(listener);
    if (!keys) return;
    this.byListener.delete(listener);
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (!entry) continue;
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) this.release(entry);
    }
  }

  private listen(entry: Entry, listener: Watcher): void {
    entry.listeners.add(listener);
    const key = keyOf(entry.kind, entry.path);
    const keys = this.byListener.get(listener);
    if (keys) keys.add(key);
    else this.byListener.set(listener, new Set([key]));
  }

  private release(entry: Entry): void {
    const remove = this.handle?.removeWatches;
    // The server removes `data` and `exist` watches together: keep both while either is listened to.
    const sibling =
      entry.kind === 'child'
        ? undefined
        : this.entries.get(keyOf(entry.kind === 'data' ? 'exist' : 'data', entry.path));
    if (!remove || (sibling && sibling.listeners.size > 0)) return;
    entry.removing = true;
    if (sibling) sibling.removing = true;
    const done = (): void => {
      for (const e of [entry, sibling]) {
        if (e && this.entries.get(keyOf(e.kind, e.path)) === e && e.listeners.size === 0) {
          this.entries.delete(keyOf(e.kind, e.path));
        }
      }
    };
    // A failed removal (connection loss) leaves the watch armed; it fires into no listener later.
    remove(entry.path, entry.kind === 'child' ? 'children' : 'data').then(done, done);
  }

  private fire(kind: WatchKind, path: string, event: WatchEvent): void {
    const key = keyOf(kind, path);
    const entry = this.entries.get(key);
    if (!entry) return;
    // One-shot: forget it before calling out, listeners re-register from inside their callback.
    this.entries.delete(key);
    for (const listener of entry.listeners) {
      const keys = this.byListener.get(listener);
      keys?.delete(key);
      if (keys?.size === 0) this.byListener.delete(listener);
    }
    for (const listener of entry.listeners) listener(event);
  }
}
