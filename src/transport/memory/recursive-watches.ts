/**
 * The client side of persistent recursive watches, as the native adapter keeps them over the patched C
 * client: one watcher per path, by the path the caller gave (chroot-relative). The C client keeps no table
 * of them; once a handle has added one, every node event the server sends it also goes to the handle's
 * own watcher, and the adapter hands it to the recursive watches on the event's path and its ancestors,
 * deepest first. So a recursive watch hears whatever node event its session receives below it, whichever
 * watch the server fired it for.
 */
import type { WatchEvent } from '../../types.js';
import type { Watcher } from '../port.js';

export class RecursiveWatches {
  private readonly byPath = new Map<string, Watcher>();

  set(path: string, watcher: Watcher): void {
    this.byPath.set(path, watcher);
  }

  get(path: string): Watcher | undefined {
    return this.byPath.get(path);
  }

  delete(path: string): void {
    this.byPath.delete(path);
  }

  clear(): void {
    this.byPath.clear();
  }

  /** Calls the watchers on `event.path` and above it (never for `children` events). */
  deliver(event: WatchEvent): void {
    if (this.byPath.size === 0 || event.type === 'children') return;
    for (let at = event.path; ;) {
      this.byPath.get(at)?.(event);
      if (at === '/') return;
      const slash = at.lastIndexOf('/');
      at = slash === 0 ? '/' : at.slice(0, slash);
    }
  }
}
