/**
 * Internal: one participant of a counting semaphore in Curator's InterProcessSemaphoreV2 layout.
 * Composed from the lock: the internal mutex under `<path>/locks` is a lock() stream, subscribed while
 * we queue and unsubscribed (released) once we hold a lease. What is left here is the lease pool:
 * create our lease while holding the mutex, count it, wait on the pool, hold it, give it back.
 */
import { timer, type Subscription } from 'rxjs';
import { ClosedError, isRetryable, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath, splitPath } from '../session/create.js';
import { isLive, type SessionState } from '../session/state.js';
import type { Watcher } from '../transport/port.js';
import type { Acl } from '../types.js';
import { lock } from './lock.js';
import type { Ownership, OwnershipPolicy } from './ownership.js';
import { deleteGuaranteed, sortSequenceNodes, standing } from './sequence-nodes.js';
import { SerialCheck } from './serial-check.js';

/** Curator's lease marker: `<path>/leases/_c_<uuid>-lease-NNNNNNNNNN`. */
export const LEASE = 'lease-';

export interface SemaphoreSpec {
  readonly client: ZkClient;
  readonly path: string;
  readonly leases: number;
  readonly policy: OwnershipPolicy;
  readonly data: Uint8Array;
  /** The ACL of the nodes we create (the mutex's and the lease's, and their parents); absent: open. */
  readonly acl: readonly Acl[] | undefined;
  /** Makes sure the limit stored on `path` is ours (rejects with SemaphoreLimitError otherwise). */
  readonly ensureLimit: () => Promise<void>;
}

interface Sink {
  next(value: Ownership): void;
  error(error: unknown): void;
  complete(): void;
}

interface Lease {
  readonly path: string;
  readonly name: string;
  readonly sessionId: string | undefined;
  token: number | undefined;
  /** Counted among the first `leases` once: it stays a lease until deleted (counts only shrink). */
  admitted: boolean;
  /** Watches this lease node while held: someone deleting it ends our ownership. */
  readonly watch: Watcher;
}

const RETRY_MS = 1_000;

export class LeaseHolder {
  private active = true;
  /** Bumped whenever our lease is given up: replies about an older lease are stale. */
  private epoch = 0;
  private ready = false;
  private lease: Lease | undefined;
  private creating: Promise<string | undefined> | undefined;
  private mutex: Subscription | undefined;
  private mutexHeld = false;
  private readonly serial = new SerialCheck(
    () => this.check(),
    (error) => this.fail(error),
  );
  private last: Ownership | undefined;
  private retry: Subscription | undefined;
  private replayed = false;
  private readonly states: Subscription;
  private readonly client: ZkClient;
  private readonly leasesPath: string;
  // The children watch on the pool. Only the mutex holder arms it: one watcher at a time, no herd.
  private readonly poolWatch: Watcher = () => this.check();

  constructor(
    private readonly spec: SemaphoreSpec,
    private readonly sink: Sink,
  ) {
    this.client = spec.client;
    this.leasesPath = joinPath(spec.path, 'leases');
    this.states = this.client.state$.subscribe({
      next: (state) => this.onState(state),
      complete: () => this.finish(),
    });
    if (this.active) this.resume();
  }

  /** Gives the lease back (or gives up waiting): deletes our nodes, retried across connection loss. */
  stop(): Promise<void> {
    if (!this.active) return Promise.resolve();
    this.active = false;
    this.epoch++;
    this.states.unsubscribe();
    this.retry?.unsubscribe();
    this.releaseMutex();
    this.client.unwatch(this.poolWatch);
    const { lease, creating, client } = this;
    this.lease = undefined;
    return (async () => {
      // The lease's own watch goes after the delete that fires it (see Contender.stop).
      if (lease) await deleteGuaranteed(client, lease.path, lease.sessionId);
      if (lease) client.unwatch(lease.watch);
      const created = creating && (await creating);
      if (created) await deleteGuaranteed(client, created, client.sessionId);
    })();
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
      this.retry?.unsubscribe();
      this.retry = timer(RETRY_MS, this.client.scheduler).subscribe(() => this.resume());
      return;
    }
    void this.stop();
    this.sink.error(error);
  }

  /** Picks up wherever we are: limit not checked yet, lease to count, lease to create, or queue. */
  private resume(): void {
    if (!this.active) return;
    if (!this.ready) {
      this.spec.ensureLimit().then(
        () => {
          this.ready = true;
          this.resume();
        },
        (error: unknown) => this.fail(error),
      );
      return;
    }
    if (this.lease) return this.check();
    if (this.mutexHeld) return this.createLease();
    this.queue();
  }

  private emit(value: Ownership): void {
    const last = this.last;
    if (last && last.type === value.type) {
      // One `waiting` per wait, whether queued for the mutex or for the pool.
      if (value.type !== 'acquired') return;
      if (last.type === 'acquired' && last.token === value.token) return;
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
        // A held lease is ours again (same node, same token); a pool wait looks again.
        return this.check();
      case 'lost':
        this.lose('expired');
        return this.giveUp();
      case 'connected':
        return this.resume();
      case 'connecting':
        return;
    }
  }

  /** Queues for the internal mutex (a lock() of its own: its node, watch and release live there). */
  private queue(): void {
    if (!this.active || !this.ready || this.mutex || this.lease || this.creating) return;
    this.mutex = lock(this.client, joinPath(this.spec.path, 'locks'), {
      policy: this.spec.policy,
      acl: this.spec.acl,
    }).subscribe({
      next: (o) => this.onMutex(o),
      error: (error: unknown) => this.fail(error),
      complete: () => this.finish(),
    });
  }

  private onMutex(o: Ownership): void {
    if (!this.active) return;
    switch (o.type) {
      case 'waiting':
        return this.emit({ type: 'waiting', node: o.node });
      case 'acquired':
        this.mutexHeld = true;
        return this.lease ? this.check() : this.createLease();
      case 'lost':
        this.mutexHeld = false;
        // A lease waiting without the mutex would deadlock: the next mutex holder would wait behind
        // it while it waits for the mutex. Give it up; a new one is made when the mutex is ours again.
        if (this.lease && !this.lease.admitted) this.dropLease();
        return;
    }
  }

  private releaseMutex(): void {
    const mutex = this.mutex;
    this.mutex = undefined;
    this.mutexHeld = false;
    mutex?.unsubscribe();
  }

  private createLease(): void {
    if (!this.active || this.lease || this.creating) return;
    const epoch = this.epoch;
    const creating = this.client
      .create(joinPath(this.leasesPath, LEASE), this.spec.data, {
        mode: 'ephemeral-sequential',
        createParents: 'container',
        acl: this.spec.acl,
      })
      .then(
        (created) => {
          if (this.creating === creating) this.creating = undefined;
          // Stopped meanwhile: stop() deletes it (it awaits this promise).
          if (!this.active) return created;
          const sessionId = this.client.sessionId;
          if (epoch !== this.epoch || !this.mutexHeld) {
            // The mutex or the session went while the create was on its way: this lease is moot.
            void deleteGuaranteed(this.client, created, sessionId);
            if (this.mutexHeld) this.createLease();
            return undefined;
          }
          const name = splitPath(created).name;
          const lease: Lease = {
            path: created,
            name,
            sessionId,
            token: undefined,
            admitted: false,
            watch: (event) => {
              if (event.type === 'deleted' && this.lease === lease) this.check();
            },
          };
          this.lease = lease;
          this.check();
          return undefined;
        },
        (error: unknown) => {
          if (this.creating === creating) this.creating = undefined;
          this.fail(error);
          return undefined;
        },
      );
    this.creating = creating;
  }

  /** Counts our lease (serialised: a trigger during a check makes it check once more after). */
  private check(): void {
    const lease = this.lease;
    if (!this.active || !lease) return;
    this.serial.run(() => this.evaluate(lease));
  }

  private async evaluate(lease: Lease): Promise<void> {
    // A lease not yet admitted is counted only by the mutex holder (Curator's protocol).
    if (!lease.admitted && !this.mutexHeld) return;
    const epoch = this.epoch;
    const stale = (): boolean => !this.active || epoch !== this.epoch || this.lease !== lease;
    const { client, leasesPath } = this;
    const watch = lease.admitted ? {} : { watch: this.poolWatch };
    const [listing, stat] = await Promise.all([
      client.children(leasesPath, watch).catch((error: unknown) => {
        if (error instanceof NoNodeError) return { children: [] as string[] };
        throw error;
      }),
      lease.token === undefined ? client.exists(lease.path) : Promise.resolve(undefined),
    ]);
    if (stale()) return;
    if (stat === null) return this.vanished();
    if (stat !== undefined) {
      // A node of an earlier session (about to be reaped) is not ours to hold (CURATOR-604).
      if (stat.ephemeralOwner !== lease.sessionId || lease.sessionId !== client.sessionId) {
        void client.delete(lease.path).catch(() => undefined);
        return this.vanished();
      }
      lease.token = stat.czxid;
    }
    const { index } = standing(sortSequenceNodes(leasesPath, listing.children, LEASE), lease.name);
    if (index === -1) return this.vanished();
    if (lease.admitted || index < this.spec.leases) return this.admit(lease);
    // Full: the pool watch armed by this listing wakes us on the next change.
    this.emit({ type: 'waiting', node: lease.path });
  }

  /** Holds the lease, if the session allows (a reply read just before a suspension was reported). */
  private admit(lease: Lease): void {
    if (this.spec.policy === 'safe' && !isLive(this.client.state)) return;
    const sessionId = lease.sessionId;
    if (sessionId === undefined || sessionId !== this.client.sessionId || lease.token === undefined) return;
    const first = !lease.admitted;
    lease.admitted = true;
    this.client.unwatch(this.poolWatch);
    // The lease is ours: the mutex has done its job (Curator releases it here too).
    this.releaseMutex();
    const already = this.last?.type === 'acquired';
    this.emit({
      type: 'acquired',
      token: lease.token,
      node: lease.path,
      sessionId,
      since: this.client.scheduler.now(),
    });
    // Armed after emitting: not on the handoff's path. A lease already gone is found by the check.
    if ((already && !first) || !this.active || this.lease !== lease) return;
    this.client.exists(lease.path, { watch: lease.watch }).then(
      (stat) => {
        if (stat === null && this.lease === lease) this.check();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** Our lease is not in the pool any more (deleted by someone): report it, and queue again. */
  private vanished(): void {
    this.lose('deleted');
    this.dropLease();
    this.resume();
  }

  /** Gives our lease up and deletes it (retried); the session keeps it otherwise. */
  private dropLease(): void {
    const lease = this.lease;
    this.giveUp();
    if (!lease) return;
    const client = this.client;
    void deleteGuaranteed(client, lease.path, lease.sessionId).then(() => client.unwatch(lease.watch));
  }

  private giveUp(): void {
    this.epoch++;
    const lease = this.lease;
    this.lease = undefined;
    this.client.unwatch(this.poolWatch);
    // An expired session's lease goes with it; its watch is of no use.
    if (lease && !isLive(this.client.state)) this.client.unwatch(lease.watch);
  }
}
