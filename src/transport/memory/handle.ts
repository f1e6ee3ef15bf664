/**
 * The client end of a memory session: what the C client does for the native adapter. It validates
 * paths, adds and strips the chroot, keeps the watcher lists and the last zxid it saw (for SetWatches),
 * and receives replies and events through its connection's outbox, in the server's order.
 */
import { Code, errorFromCode } from '../../errors.js';
import type { AuthInfo, CreateRequest, Created, TransportHandle, Watcher } from '../port.js';
import { isSequential, type Acl, type Stat } from '../../types.js';
import { ClientConnection } from './connection.js';
import { toClient } from './paths.js';

export type { HandleHost } from './connection.js';

export class MemoryHandle extends ClientConnection implements TransportHandle {
  // --- the port ------------------------------------------------------------------------------------

  create({ path, data, mode, ttl, acl }: CreateRequest): Promise<Created> {
    return this.send(
      path,
      isSequential(mode),
      (s, full) => this.host.engine.create(s, full, data, mode, ttl, acl),
      (created) => ({ path: toClient(this.chroot, created.path), stat: created.stat }),
    );
  }

  get(path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
    return this.send(
      path,
      false,
      (s, full) => this.host.engine.getData(s, full, !!watcher),
      (r, full) => {
        if (watcher) this.watchers.add('node', full, watcher);
        return r;
      },
    );
  }

  set(path: string, data: Uint8Array, version: number): Promise<Stat> {
    return this.send(path, false, (s, full) => this.host.engine.setData(s, full, data, version));
  }

  delete(path: string, version: number): Promise<void> {
    return this.send(path, false, (s, full) => this.host.engine.delete(s, full, version));
  }

  exists(path: string, watcher?: Watcher): Promise<Stat | null> {
    return this.send(
      path,
      false,
      (s, full) => this.host.engine.exists(s, full, !!watcher),
      (stat, full) => {
        if (watcher) this.watchers.add(stat ? 'node' : 'exist', full, watcher);
        return stat;
      },
    );
  }

  children(path: string, watcher?: Watcher): Promise<{ children: string[]; stat: Stat }> {
    return this.send(
      path,
      false,
      (s, full) => this.host.engine.getChildren(s, full, !!watcher),
      (r, full) => {
        if (watcher) this.watchers.add('child', full, watcher);
        return r;
      },
    );
  }

  sync(path: string): Promise<void> {
    return this.send(path, false, () => undefined);
  }

  getACL(path: string): Promise<{ acl: Acl[]; stat: Stat }> {
    return this.send(path, false, (s, full) => this.host.engine.getACL(s, full));
  }

  setACL(path: string, acl: readonly Acl[], version: number): Promise<void> {
    return this.send(path, false, (s, full) => {
      this.host.engine.setACL(s, full, acl, version);
    });
  }

  addAuth(auth: AuthInfo): Promise<void> {
    return this.send(undefined, false, (s) => {
      try {
        this.host.engine.addAuth(s, auth.scheme, auth.credentials);
      } catch (error) {
        // The reply goes out first; then the server closes the connection and the handle is dead.
        queueMicrotask(() => this.host.authFailed(this));
        throw error;
      }
    });
  }

  /** An own property, as native's: the session layer calls it detached from the handle. */
  readonly removeWatches = (path: string, kind: 'data' | 'children'): Promise<void> =>
    this.remove(path, kind);

  /** As native's: the watcher is in place from the call on (an event may reach it before the reply). */
  readonly addRecursiveWatch = (path: string, watcher: Watcher): Promise<void> => {
    this.recursive.set(path, watcher);
    return this.send(path, false, (s, full) => this.host.engine.addWatch(s, full)).catch((error: unknown) => {
      // Not armed (or armed on a connection that is gone): it must not hear events meanwhile.
      if (this.recursive.get(path) === watcher) this.recursive.delete(path);
      throw error;
    });
  };

  /** removeWatches with type Any: the session's one-shot watches on `path` go too (see the port). */
  readonly removeRecursiveWatch = (path: string): Promise<void> => {
    this.recursive.delete(path);
    return this.remove(path, 'any');
  };

  /**
   * removeWatches. The C client asks the server even when it holds no watcher on the path (the adapter
   * removes all of a kind), and drops its own watchers only if the server removed something; NoWatcher
   * is the goal reached, as the native adapter treats it.
   */
  private remove(path: string, kind: 'data' | 'children' | 'any'): Promise<void> {
    return this.send(
      path,
      false,
      (s, full) => this.host.engine.removeWatches(s, full, kind),
      (removed, full) => {
        if (removed) this.watchers.remove(kind, full);
      },
    );
  }

  close(): void {
    if (this.state === 'dead') {
      this.closedByOwner = true;
      return;
    }
    this.state = 'dead';
    this.closedByOwner = true;
    const gone = errorFromCode(Code.SessionExpired);
    this.failWaiting(gone);
    this.host.handleClosed(this);
    for (const item of this.outbox.drop()) item.lost?.(gone);
    this.watchers.clear();
    this.recursive.clear();
  }
}
