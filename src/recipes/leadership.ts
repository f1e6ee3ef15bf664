/**
 * leadership(): an election candidate as a stream of typed transitions, on Curator's LeaderLatch layout.
 */
import { Observable, timer, type Subscriber, type Subscription } from 'rxjs';
import { ClosedError, InvalidArgumentError, isRetryable, NoNodeError } from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath, splitPath } from '../session/create.js';
import { isLive, type SessionState } from '../session/state.js';
import { validateAclOption, validateClient, validatePath, validateRequestSize } from '../session/validate.js';
import type { Watcher } from '../transport/port.js';
import type { Acl, Stat } from '../types.js';
import { decodeParticipant, encodeParticipant, LATCH, validateId } from './participant.js';
import { deleteGuaranteed, sortSequenceNodes, standing, waitForDeletion } from './sequence-nodes.js';
import { SerialCheck } from './serial-check.js';

/**
 * What `suspended` (socket lost, session maybe alive) means for a leader:
 * - `'safe'` (default): leadership ends at once (`uncertain`) and is re-checked on `reconnected`. The
 *   client notices a dead socket after 2/3 of the session timeout and the server expires the session
 *   only after all of it: that margin keeps two leaders from overlapping.
 * - `'available'`: leadership is kept through `suspended` and ends only on `lost`. Another candidate
 *   may lead before this one learns it lost: use the fencing token on everything the leader writes.
 */
export const LeadershipPolicy = { Safe: 'safe', Available: 'available' } as const;
export type LeadershipPolicy = (typeof LeadershipPolicy)[keyof typeof LeadershipPolicy];

export interface LeadershipOptions {
  /** This participant's id: the node's data, as Curator's LeaderLatch writes it. */
  readonly id: string;
  /** Extra payload for observers (leader$). Leave unset in an election shared with Curator processes. */
  readonly data?: Uint8Array | string;
  /** Default `'safe'`. */
  readonly policy?: LeadershipPolicy;
  /**
   * The ACL of our node, and of `path` when it has to be created. Default: the open ACL. Every
   * candidate must be able to list `path` and read the other candidates' nodes (READ), and to create
   * and delete children of `path` (CREATE, DELETE).
   */
  readonly acl?: readonly Acl[];
}

/** A candidate's transitions. Only `leader` means "do the work now". */
export type Leadership =
  /** Another candidate leads (`leader`: its id, as read when this candidate last looked). */
  | { readonly type: 'follower'; readonly id: string; readonly leader: string; readonly node: string }
  /**
   * This candidate leads. `token`: our node's czxid, larger for every later leadership of the
   * election: hand it to what the leader writes, so a resource can refuse a deposed leader's writes.
   * `since`: the client scheduler's time when leadership began.
   */
  | {
      readonly type: 'leader';
      readonly id: string;
      readonly token: number;
      readonly since: number;
      readonly node: string;
      readonly sessionId: string;
    }
  /** The connection is suspended: under the safe policy this ends leadership until re-checked. */
  | { readonly type: 'uncertain'; readonly id: string }
  /** Our node is gone (session lost, or the node deleted): we rejoin with a new node when we can. */
  | { readonly type: 'lost'; readonly id: string };

/** Delay before trying again after an operation failed for connection reasons beyond the client's retries. */
const RETRY_MS = 1_000;

/**
 * Joins the election at `path` as a candidate for as long as it is subscribed, and emits its
 * transitions: `follower` (with the leader's id), `leader` (with a fencing token and the time it began),
 * `uncertain` (connection suspended), `lost` (our node is gone). Nothing else: no value twice in a row.
 *
 * - Cold: every subscription is a candidate of its own, with its own ephemeral-sequential node
 *   `_c_<uuid>-latch-NNNNNNNNNN` under `path` (Curator's LeaderLatch layout; `path` is created as a
 *   container when missing). Share it (`share()`) to run one candidate for several consumers.
 * - First emission: `follower` or `leader`, once the node is created and ranked.
 * - Each candidate watches only its predecessor (no herd); a predecessor that vanished means a
 *   re-check, never a claim (it may have abandoned, not released). Before `leader`, the lowest node
 *   must be ours and its ephemeralOwner our current session (CURATOR-696).
 * - Session: `suspended` -> `uncertain` under the safe policy (default; see LeadershipPolicy),
 *   `reconnected` -> re-check, `lost` -> `lost`, then a new node in the new session.
 * - Unsubscribing resigns: our node is deleted (retried across connection loss until it is gone or its
 *   session is) and our watches are released. Completes when the client closes; errors only for what
 *   retrying cannot fix (e.g. NoAuthError on `path`). A `follower`'s `leader` may lag behind a change of
 *   leader further up the queue (use leader$ to follow who leads); `leader` is never stale: it is
 *   emitted only after the checks above and withdrawn as described.
 *
 * @example
 * leadership(client, '/app/election', { id: 'worker-1' })
 *   .pipe(switchMap((s) => (s.type === 'leader' ? work$(s.token) : EMPTY)))
 *   .subscribe();
 */
export function leadership(
  client: ZkClient,
  path: string,
  options: LeadershipOptions,
): Observable<Leadership> {
  validateClient(client);
  validatePath(path);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object with an id', options);
  }
  const id = validateId(options.id, 'options.id');
  const policy = options.policy ?? 'safe';
  if (policy !== 'safe' && policy !== 'available') {
    throw new InvalidArgumentError('options.policy', "must be 'safe' or 'available'", policy);
  }
  const payload = encodeParticipant(id, options.data);
  const acl = validateAclOption(options.acl);
  validateRequestSize(payload, client.createOverhead(joinPath(path, LATCH), true, acl), 'options.data');
  return new Observable<Leadership>((subscriber) => {
    const candidate = new Candidate(client, path, id, payload, policy, acl, subscriber);
    return () => candidate.stop();
  });
}

interface OurNode {
  readonly path: string;
  readonly name: string;
  readonly sessionId: string;
  /** Its Stat from the create's own reply: the token (czxid), and the owner it was made for. */
  readonly stat: Stat;
}

class Candidate {
  private active = true;
  /** Bumped whenever our node is given up: replies about an older node are stale. */
  private epoch = 0;
  private node: OurNode | undefined;
  private joining = false;
  private readonly serial = new SerialCheck(
    () => this.check(),
    (error) => this.fail(error),
  );
  private last: Leadership | undefined;
  private predecessor: { path: string; present: boolean; subscription: Subscription | undefined } | undefined;
  private retry: Subscription | undefined;
  private replayed = false;
  /**
   * Reconnections of our session, and the last one the server we are on was synced after: back on a
   * server after a disconnection, it may not have applied what happened while we were away (a follower
   * that lagged accepts us as long as it has what we saw). No claim before a sync (see evaluate).
   */
  private reconnects = 0;
  private syncedFor = 0;
  /** The lowest node when we last ranked ourselves as a follower, and whether it has gone since. */
  private lowest: string | undefined;
  private lowestGone = false;
  private readonly states: Subscription;
  // As leader we watch our own node: if someone deletes it, we are not the leader any more.
  private readonly ownWatch: Watcher = () => this.check();

  constructor(
    private readonly client: ZkClient,
    private readonly path: string,
    private readonly id: string,
    private readonly payload: Uint8Array,
    private readonly policy: LeadershipPolicy,
    private readonly acl: readonly Acl[] | undefined,
    private readonly subscriber: Subscriber<Leadership>,
  ) {
    this.states = client.state$.subscribe({
      next: (state) => this.onState(state),
      complete: () => this.finish(),
    });
    // create() waits for a live session itself.
    if (this.active) this.join();
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.epoch++;
    this.states.unsubscribe();
    this.retry?.unsubscribe();
    this.dropPredecessor();
    const node = this.node;
    this.node = undefined;
    // A create still in flight deletes its node when it lands (see join). Our own node's watch is
    // released after the delete, which fires it (into `active === false`): removing a watch while its
    // node is being deleted races in the native binding.
    if (!node) return this.client.unwatch(this.ownWatch);
    void deleteGuaranteed(this.client, node.path, node.sessionId).then(() =>
      this.client.unwatch(this.ownWatch),
    );
  }

  private finish(): void {
    if (!this.active) return;
    this.stop();
    this.subscriber.complete();
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
    this.stop();
    this.subscriber.error(error);
  }

  private emit(value: Leadership): void {
    const last = this.last;
    if (last && last.type === value.type) {
      if (value.type === 'uncertain' || value.type === 'lost') return;
      if (value.type === 'leader' && last.type === 'leader' && last.token === value.token) return;
      if (
        value.type === 'follower' &&
        last.type === 'follower' &&
        last.leader === value.leader &&
        last.node === value.node
      ) {
        return;
      }
    }
    // Update state before emitting: the subscriber may unsubscribe (resign) from inside next().
    this.last = value;
    this.subscriber.next(value);
  }

  private onState(state: SessionState): void {
    const first = !this.replayed;
    this.replayed = true;
    switch (state.type) {
      case 'closed':
        return this.finish();
      case 'suspended':
        if (this.policy === 'safe' && !first) this.emit({ type: 'uncertain', id: this.id });
        return;
      case 'reconnected':
        if (first) return;
        this.reconnects++;
        return this.check();
      case 'lost':
        if (first) return;
        // The node died with the session (or will, when the server notices): it is not ours any more.
        this.giveUp();
        return this.emit({ type: 'lost', id: this.id });
      case 'connected':
        if (!first) this.join();
        return;
    }
  }

  /** Forgets our node (and what watched for it); the caller rejoins or reports. */
  private giveUp(): void {
    this.epoch++;
    this.node = undefined;
    this.lowest = undefined;
    this.lowestGone = false;
    this.dropPredecessor();
    this.client.unwatch(this.ownWatch);
  }

  private join(): void {
    if (!this.active || this.joining || this.node) return;
    this.joining = true;
    const epoch = this.epoch;
    this.client
      .create2(joinPath(this.path, LATCH), this.payload, {
        mode: 'ephemeral-sequential',
        createParents: 'container',
        acl: this.acl,
      })
      .then(
        ({ path: created, stat }) => {
          this.joining = false;
          const sessionId = this.client.sessionId;
          if (
            !this.active ||
            epoch !== this.epoch ||
            sessionId === undefined ||
            stat.ephemeralOwner !== sessionId
          ) {
            // Resigned, or the session was lost, while the create was on its way: not a candidate.
            void deleteGuaranteed(this.client, created, stat.ephemeralOwner);
            if (this.active && isLive(this.client.state)) this.join();
            return;
          }
          this.node = { path: created, name: splitPath(created).name, sessionId, stat };
          this.check();
        },
        (error: unknown) => {
          this.joining = false;
          this.fail(error);
        },
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
    const stale = (): boolean => !this.active || epoch !== this.epoch;
    const resynced = this.syncedFor !== this.reconnects;
    if (resynced) {
      const reconnects = this.reconnects;
      await this.client.sync(this.path);
      if (stale()) return;
      this.syncedFor = reconnects;
    }
    // Our predecessor was the lowest node when we last looked, and it is gone: nothing can be lower
    // now (counters only grow), so skip the listing. Not after a reconnection: our own node may have
    // been deleted meanwhile (the listing, after the sync, says so).
    const shortcut = this.lowestGone && !resynced;
    this.lowestGone = false;
    if (shortcut) return this.claim(node, stale);
    // Our node's Stat came with its create (its owner, its token): a listing is all a ranking reads.
    const listing = await this.client.children(this.path).catch((error: unknown) => {
      if (error instanceof NoNodeError) return { children: [] as string[] };
      throw error;
    });
    if (stale()) return;
    const sorted = sortSequenceNodes(this.path, listing.children, LATCH);
    const { index, predecessor } = standing(sorted, node.name);
    if (index === -1) return this.vanished();
    if (predecessor === undefined) return this.claim(node, stale);
    this.client.unwatch(this.ownWatch);
    this.lowest = sorted[0]!.path;
    // Watch the predecessor first: once armed, its deletion cannot be missed.
    const watching = await this.watchPredecessor(predecessor.path);
    if (stale() || watching === 'failed') return;
    if (watching === 'gone') {
      this.serial.requestAgain();
      return;
    }
    const lowest = sorted[0]!;
    const leader = await this.client.get(lowest.path).then(
      (r) => decodeParticipant(r.data).id,
      (error: unknown) => {
        if (error instanceof NoNodeError) return undefined;
        throw error;
      },
    );
    if (stale()) return;
    if (leader === undefined) {
      this.serial.requestAgain();
      return;
    }
    if (this.policy === 'safe' && !isLive(this.client.state)) return;
    this.emit({ type: 'follower', id: this.id, leader, node: node.path });
  }

  /**
   * We are lowest: claim leadership. Our node is ours (CURATOR-696: the create's own reply says which
   * session owns it, and it must be the one we have now), and its token is its czxid: no read on the
   * handoff's path. The watch on our own node is armed right after, off that path: a node someone
   * deleted meanwhile is found then, and leadership withdrawn.
   */
  private claim(node: OurNode, stale: () => boolean): void {
    if (stale()) return;
    if (node.stat.ephemeralOwner !== this.client.sessionId) return this.vanished();
    // A reply read just before a suspension was reported: the reconnect will check again.
    if (this.policy === 'safe' && !isLive(this.client.state)) return;
    this.dropPredecessor();
    this.emit({
      type: 'leader',
      id: this.id,
      token: node.stat.czxid,
      since: this.client.scheduler.now(),
      node: node.path,
      sessionId: node.stat.ephemeralOwner,
    });
    this.watchOwnNode(node);
  }

  /** As leader we watch our own node (see ownWatch); if it went meanwhile, its answer says so. */
  private watchOwnNode(node: OurNode): void {
    if (!this.active || this.node !== node) return;
    this.client.exists(node.path, { watch: this.ownWatch }).then(
      (stat) => {
        // Resigned while this was in flight: hand the watch back (stop() may have released it first).
        if (!this.active || this.node !== node) return this.client.unwatch(this.ownWatch);
        if (stat === null) this.check();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** Our node is not in the election any more: report it, and take a new place. */
  private vanished(): void {
    this.giveUp();
    this.emit({ type: 'lost', id: this.id });
    this.join();
  }

  /** Arms (or keeps) the watch on our predecessor; says whether it is there. */
  private watchPredecessor(path: string): Promise<'present' | 'gone' | 'failed'> {
    const current = this.predecessor;
    if (current?.path === path && current.present) return Promise.resolve('present');
    this.dropPredecessor();
    return new Promise((resolve) => {
      const entry: { path: string; present: boolean; subscription: Subscription | undefined } = {
        path,
        present: false,
        subscription: undefined,
      };
      this.predecessor = entry;
      entry.subscription = waitForDeletion(this.client, path).subscribe({
        next: (event) => {
          if (event === 'present') {
            entry.present = true;
            return resolve('present');
          }
          resolve('gone');
          if (this.predecessor !== entry) return;
          this.predecessor = undefined;
          if (!entry.present) return;
          // The lowest node went: we are next (see evaluate). Anything else, deleted or abandoned:
          // rank again before claiming anything.
          this.lowestGone = entry.path === this.lowest;
          this.check();
        },
        error: (error: unknown) => {
          resolve('failed');
          if (this.predecessor === entry) this.predecessor = undefined;
          this.fail(error);
        },
      });
    });
  }

  private dropPredecessor(): void {
    const entry = this.predecessor;
    this.predecessor = undefined;
    entry?.subscription?.unsubscribe();
  }
}
