/**
 * Internal: one contender for a lock-like resource (mutex, read lock, write lock, semaphore lease).
 * They differ only in which nodes they count and which node blocks them (`ContenderSpec`); queueing,
 * watching, handoff, session handling and release are the same, and live here. Built on the ordering
 * helpers shared with leadership (sequence-nodes.ts), as kazoo's Election wraps its Lock.
 */
import { Observable, timer, type Subscription } from 'rxjs';
import { ClosedError, isRetryable, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath, splitPath } from '../session/create.js';
import { isLive, type SessionState } from '../session/state.js';
import type { Watcher } from '../transport/port.js';
import type { Acl, Stat } from '../types.js';
import type { Ownership, OwnershipPolicy } from './ownership.js';
import {
  deleteGuaranteed,
  sortSequenceNodes,
  standing,
  waitForDeletion,
  type SequenceNode,
} from './sequence-nodes.js';
import { SerialCheck } from './serial-check.js';

export interface ContenderSpec {
  readonly client: ZkClient;
  /** The parent of the contenders' nodes. */
  readonly path: string;
  /** Our node's name before the counter, e.g. `lock-` (created protected: `_c_<uuid>-lock-NNNNNNNNNN`). */
  readonly name: string;
  readonly data: Uint8Array;
  /** Our node's ACL (absent: open); the lock's parent, when missing, is created with it too. */
  readonly acl?: readonly Acl[] | undefined;
  readonly policy: OwnershipPolicy;
  /** The contending nodes among `parent`'s children, in queue order. */
  readonly rank: (parent: string, children: readonly string[]) => SequenceNode[];
  /**
   * The node that must go before ours holds, or undefined when ours holds now. It must be monotone:
   * removing nodes ahead of ours never makes a holder a waiter (true of every rule here), which is
   * what lets a waiter take over on a deletion without reading the children again.
   */
  readonly blocker: (sorted: readonly SequenceNode[], index: number) => SequenceNode | undefined;
}

/** Sorts the children carrying any of `markers` by their counter, as one queue (read/write lock). */
export function rankByMarkers(markers: readonly string[]): ContenderSpec['rank'] {
  if (markers.length === 1) return (parent, children) => sortSequenceNodes(parent, children, markers[0]!);
  return (parent, children) =>
    markers
      .flatMap((m) => sortSequenceNodes(parent, children, m))
      .sort((a, b) => a.sequence - b.sequence || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The mutex rule (and a write lock's): hold when first; else wait for the node just ahead. */
export function predecessorBlocks(sorted: readonly SequenceNode[], index: number): SequenceNode | undefined {
  return index > 0 ? sorted[index - 1] : undefined;
}

/** Deletions of our nodes still in flight, per client: `release()` resolves when its own lands. */
const releasing = new WeakMap<ZkClient, Map<string, Promise<void>>>();

/** Resolves once the delete of `node` (started by a stopped contender) has landed or is moot. */
export function released(client: ZkClient, node: string): Promise<void> {
  return releasing.get(client)?.get(node) ?? Promise.resolve();
}

function trackRelease(client: ZkClient, node: string, done: Promise<void>): void {
  let map = releasing.get(client);
  if (!map) releasing.set(client, (map = new Map()));
  map.set(node, done);
  const forget = (): void => {
    if (map.get(node) === done) map.delete(node);
  };
  void done.then(forget);
}

/** A cold ownership stream: one contender per subscription. */
export function ownership$(spec: ContenderSpec): Observable<Ownership> {
  return new Observable<Ownership>((subscriber) => {
    const contender = new Contender(spec, {
      next: (o) => subscriber.next(o),
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    return () => void contender.stop();
  });
}

interface Sink {
  next(value: Ownership): void;
  error(error: unknown): void;
  complete(): void;
}

interface OurNode {
  readonly path: string;
  readonly name: string;
  readonly sessionId: string;
  /** Our node's czxid (the fencing token), from the create's own reply. */
  readonly token: number;
  /** The counter ZooKeeper gave our node: the parent's child-create count just before our create. */
  readonly sequence: number;
  /** The watch on our own node, once armed (one per node: unwatching one never touches another's). */
  watch: Watcher | undefined;
}

/**
 * The last listing each client read of each lock parent (a few, most recent last), so that a contender
 * that queues again right after releasing (the usual loop) can skip its first listing: see `queueView`.
 */
const listings = new WeakMap<ZkClient, Map<string, { children: readonly string[]; creates: number }>>();
const LISTINGS_KEPT = 64;

function remember(client: ZkClient, path: string, listing: { children: string[]; stat: Stat }): void {
  // The Stat's cversion counts child creates and deletes (DataNode.copyStat: 2 x creates - children),
  // while the sequence counter counts creates only: this recovers that counter from the listing.
  const sum = listing.stat.cversion + listing.stat.numChildren;
  if (sum < 0 || sum % 2 !== 0) return;
  let byPath = listings.get(client);
  if (!byPath) listings.set(client, (byPath = new Map()));
  byPath.delete(path);
  byPath.set(path, { children: listing.children, creates: sum / 2 });
  if (byPath.size > LISTINGS_KEPT) byPath.delete(byPath.keys().next().value!);
}

/**
 * The parent's children as they were when our node was created, without reading them, or undefined.
 * Known when the last listing this client read counted exactly `node.sequence` child creates: then no
 * child was created between that listing and ours, so every node that can stand before ours is in it
 * (nodes deleted since are only fewer nodes ahead; a later node never queues ahead of ours).
 */
function queueView(client: ZkClient, path: string, node: OurNode): readonly string[] | undefined {
  const last = listings.get(client)?.get(path);
  if (!last || last.creates !== node.sequence) return undefined;
  return [...last.children, node.name];
}

/** Delay before trying again after an operation failed for connection reasons beyond the client's retries. */
const RETRY_MS = 1_000;

export class Contender {
  private active = true;
  /** Bumped whenever our node is given up: replies about an older node are stale. */
  private epoch = 0;
  private node: OurNode | undefined;
  private joining: Promise<string | undefined> | undefined;
  private readonly serial = new SerialCheck(
    () => this.check(),
    (error) => this.fail(error),
  );
  private last: Ownership | undefined;
  private waiting: { name: string; subscription: Subscription } | undefined;
  private retry: Subscription | undefined;
  private replayed = false;
  /**
   * Reconnections of our session, and the last one the server we are on was synced after. Back on a
   * server after a disconnection, that server may not have applied what happened while we were away
   * (a follower that lagged accepts us as long as it has what we saw): our node may be gone, someone
   * else may hold. So no claim after a reconnection before a sync (see evaluate).
   */
  private reconnects = 0;
  private syncedFor = 0;
  private readonly states: Subscription;
  private readonly client: ZkClient;
  constructor(
    private readonly spec: ContenderSpec,
    private readonly sink: Sink,
  ) {
    this.client = spec.client;
    this.states = this.client.state$.subscribe({
      next: (state) => this.onState(state),
      complete: () => this.finish(),
    });
    if (this.active) this.join();
  }

  /** Gives up (or releases): deletes our node, retried across connection loss; resolves when done. */
  stop(): Promise<void> {
    if (!this.active) return Promise.resolve();
    this.active = false;
    this.epoch++;
    this.states.unsubscribe();
    this.retry?.unsubscribe();
    this.dropWait();
    const node = this.node;
    const joining = this.joining;
    this.node = undefined;
    const client = this.client;
    const done = (async () => {
      // Our own node's watch is released after the delete, which fires it (into `active === false`):
      // removing a watch while its node is being deleted races in the native binding.
      if (node) await deleteGuaranteed(client, node.path, node.sessionId);
      if (node?.watch) client.unwatch(node.watch);
      // A create still on its way when we stopped: its node is ours to delete when it lands.
      const created = joining && (await joining);
      if (created) await deleteGuaranteed(client, created, client.sessionId);
    })();
    if (node) trackRelease(client, node.path, done);
    return done;
  }

  private finish(): void {
    if (!this.active) return;
    void this.stop();
    this.sink.complete();
  }

  private fail(error: unknown): void {
    if (!this.active) return;
    if (error instanceof ClosedError) return this.finish();
    if (isRetryable(error)) {
      // The client's own retries are exhausted: look again later, or when the session changes.
      this.retry?.unsubscribe();
      this.retry = timer(RETRY_MS, this.client.scheduler).subscribe(() =>
        this.node ? this.check() : this.join(),
      );
      return;
    }
    void this.stop();
    this.sink.error(error);
  }

  private emit(value: Ownership): void {
    const last = this.last;
    if (last && last.type === value.type) {
      if (value.type === 'lost') return;
      if (value.type === 'waiting' && last.type === 'waiting' && last.node === value.node) return;
      if (value.type === 'acquired' && last.type === 'acquired' && last.token === value.token) return;
    }
    // Update state before emitting: the subscriber may unsubscribe (release) from inside next().
    this.last = value;
    this.sink.next(value);
  }

  private lose(reason: 'suspended' | 'expired' | 'deleted'): void {
    if (this.last?.type === 'acquired') this.emit({ type: 'lost', reason });
  }

  private onState(state: SessionState): void {
    const first = !this.replayed;
    this.replayed = true;
    if (first) return;
    switch (state.type) {
      case 'closed':
        return this.finish();
      case 'suspended':
        if (this.spec.policy === 'safe') this.lose('suspended');
        return;
      case 'reconnected':
        this.reconnects++;
        return this.check();
      case 'lost':
        // Our node dies with the session (or will, when the server notices): it is not ours any more.
        this.lose('expired');
        return this.giveUp();
      case 'connected':
        return this.join();
      case 'connecting':
        return;
    }
  }

  private giveUp(): void {
    this.epoch++;
    const node = this.node;
    this.node = undefined;
    this.dropWait();
    if (node?.watch) this.client.unwatch(node.watch);
  }

  private join(): void {
    if (!this.active || this.joining || this.node) return;
    const epoch = this.epoch;
    const joining = this.client
      .create2(joinPath(this.spec.path, this.spec.name), this.spec.data, {
        mode: 'ephemeral-sequential',
        createParents: 'container',
        acl: this.spec.acl,
      })
      .then(
        ({ path: created, stat }) => {
          if (this.joining === joining) this.joining = undefined;
          // Stopped meanwhile: stop() deletes it (it awaits this promise).
          if (!this.active) return created;
          const sessionId = this.client.sessionId;
          // The session was lost while the create was on its way: not a contender any more. (A node the
          // create found again after a lost reply is one of this session's: create checks its owner.)
          if (epoch !== this.epoch || sessionId === undefined || stat.ephemeralOwner !== sessionId) {
            void deleteGuaranteed(this.client, created, stat.ephemeralOwner);
            if (isLive(this.client.state)) this.join();
            return undefined;
          }
          const name = splitPath(created).name;
          const sequence = Number(name.slice(-10));
          this.node = { path: created, name, sessionId, token: stat.czxid, sequence, watch: undefined };
          this.check();
          return undefined;
        },
        (error: unknown) => {
          if (this.joining === joining) this.joining = undefined;
          this.fail(error);
          return undefined;
        },
      );
    this.joining = joining;
  }

  /**
   * Watches our own node (from its first ranking on): if someone deletes it, we are not in line (nor
   * hold) any more. Any other event (its data set by someone) needs the one-shot watch armed again.
   * Not awaited by anyone: a node found missing here is re-checked like a deleted one.
   */
  private watchOwn(node: OurNode): void {
    const watch: Watcher =
      node.watch ??
      (node.watch = (event) => {
        if (event.type === 'deleted') return this.check();
        this.watchOwn(node);
      });
    if (!this.active || this.node !== node) return;
    this.client.exists(node.path, { watch }).then(
      (stat) => {
        // Stopped or moved on while the read was out: a watch it armed is nobody's (stop() may have
        // unwatched before it landed, and a missing node's watch would stay armed for good).
        if (!this.active || this.node !== node) return this.client.unwatch(watch);
        if (stat === null) this.check();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** Ranks our node (serialised: a trigger during a check makes it check once more after). */
  private check(): void {
    if (!this.active) return;
    const node = this.node;
    if (!node) return this.join();
    this.serial.run(() => this.evaluate(node));
  }

  private async evaluate(node: OurNode): Promise<void> {
    const epoch = this.epoch;
    const stale = (): boolean => !this.active || epoch !== this.epoch || this.node !== node;
    const { client, spec } = this;
    if (this.syncedFor !== this.reconnects) {
      const reconnects = this.reconnects;
      await client.sync(spec.path);
      if (stale()) return;
      this.syncedFor = reconnects;
    }
    // The first ranking arms the watch on our own node (beside the read below, not before it), and may
    // need no read at all: the queue as it stood when our node was made is known after a listing of
    // this client's own that nothing was created since (a contender queueing again after its release).
    const first = node.watch === undefined;
    if (first) this.watchOwn(node);
    let children = first ? queueView(client, spec.path, node) : undefined;
    const viewed = children !== undefined;
    if (!children) {
      const listing = await client.children(spec.path).catch((error: unknown) => {
        if (error instanceof NoNodeError) return undefined;
        throw error;
      });
      if (stale()) return;
      if (listing) remember(client, spec.path, listing);
      children = listing?.children ?? [];
    }
    const sorted = spec.rank(spec.path, children);
    const { index } = standing(sorted, node.name);
    if (index === -1) return this.vanished();
    const blocker = spec.blocker(sorted, index);
    if (!blocker) return this.hold(node);
    // A node in a listing read now is there (or was a moment ago); one in the remembered view may have
    // gone since (an earlier session's, say): then we are only waiting once the read says it is present.
    if (!viewed) this.emit({ type: 'waiting', node: node.path });
    this.waitFor(node, blocker, sorted, viewed);
  }

  /** Claims ownership, if the session allows (a reply read just before a suspension was reported). */
  private hold(node: OurNode): void {
    this.dropWait();
    if (this.spec.policy === 'safe' && !isLive(this.client.state)) return;
    const sessionId = node.sessionId;
    if (sessionId !== this.client.sessionId) return;
    this.emit({
      type: 'acquired',
      token: node.token,
      node: node.path,
      sessionId,
      since: this.client.scheduler.now(),
    });
  }

  /**
   * Watches the node that blocks ours (and nothing else: one wake-up per release, no herd). When it
   * goes: if, in the listing we read, ours was next in line after it, nothing can have come in between
   * (a later node only ever queues behind ours) and ours holds without another read: the handoff is
   * one delete plus one notification. Otherwise it may have abandoned rather than released: re-check.
   */
  private waitFor(
    node: OurNode,
    blocker: SequenceNode,
    sorted: readonly SequenceNode[],
    announce: boolean,
  ): void {
    if (this.waiting?.name === blocker.name) return;
    this.dropWait();
    const epoch = this.epoch;
    const entry = {
      name: blocker.name,
      subscription: undefined as Subscription | undefined,
    };
    this.waiting = entry as { name: string; subscription: Subscription };
    entry.subscription = waitForDeletion(this.client, blocker.path).subscribe({
      next: (event) => {
        if (this.waiting !== entry) return;
        if (event === 'present') {
          if (announce && this.active && epoch === this.epoch)
            this.emit({ type: 'waiting', node: node.path });
          return;
        }
        this.waiting = undefined;
        if (!this.active || epoch !== this.epoch || this.node !== node) return;
        const rest = sorted.filter((n) => n.name !== blocker.name);
        const index = rest.findIndex((n) => n.name === node.name);
        // The handoff without a read, unless we reconnected since the server was last synced.
        if (
          !this.serial.busy &&
          this.syncedFor === this.reconnects &&
          this.spec.blocker(rest, index) === undefined
        )
          return this.hold(node);
        this.check();
      },
      error: (error: unknown) => {
        if (this.waiting === entry) this.waiting = undefined;
        this.fail(error);
      },
    });
  }

  /** Our node is not in the queue any more (deleted by someone): report it, and queue again. */
  private vanished(): void {
    this.lose('deleted');
    this.giveUp();
    this.join();
  }

  private dropWait(): void {
    const entry = this.waiting;
    this.waiting = undefined;
    entry?.subscription.unsubscribe();
  }
}
