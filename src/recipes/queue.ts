/**
 * queue(): a FIFO queue's items, claimed as the consumer pulls them, in an explicit delivery mode.
 */
import { Observable, type Subscriber } from 'rxjs';
import {
  BadVersionError,
  ClosedError,
  InvalidArgumentError,
  isRetryable,
  NodeExistsError,
  NoNodeError,
} from '../errors.js';
import type { ZkClient } from '../session/client.js';
import { joinPath } from '../session/create.js';
import type { SessionState } from '../session/state.js';
import { validateAclOption, validateClient, validatePath, validatePositiveInt } from '../session/validate.js';
import type { Watcher } from '../transport/port.js';
import type { Acl, Stat } from '../types.js';
import { LockLostError, QueuePayloadError } from './coordination-errors.js';
import { QUEUE_ITEM } from './enqueue.js';
import {
  deleteGuaranteed,
  sessionChangeOrBackoff,
  sortSequenceNodes,
  type SequenceNode,
} from './sequence-nodes.js';

/** The child of the queue's node under which at-least-once consumers hold their claims. */
export const CLAIMS = 'claims';

export type DeliveryMode = 'at-most-once' | 'at-least-once';

export interface QueueOptions<T> {
  /**
   * `'at-most-once'`: the delete is the claim (an item whose consumer dies is lost, never redelivered).
   * `'at-least-once'`: an ephemeral claim node; `ack()` deletes the item; a consumer that dies or
   * unsubscribes before ack releases the item for redelivery. Required: the choice is yours.
   */
  readonly mode: DeliveryMode;
  /** Turns a payload into a value; a throw makes an `invalid` item (typed error, raw bytes kept). */
  readonly decode?: (data: Buffer) => T;
  /** How many items may be claimed and not yet settled (ack/release) at once. Default 1. */
  readonly concurrency?: number;
  /**
   * The ACL of the nodes this consumer creates: the queue node and `<path>/claims` when they are
   * missing, and its at-least-once claims. Default: the open ACL. A consumer needs READ and DELETE on
   * the queue node and READ on its items; at-least-once also READ, CREATE and DELETE on the claims node.
   */
  readonly acl?: readonly Acl[];
}

interface ItemBase {
  /** The item's node name (`_c_<uuid>-qn-NNNNNNNNNN`), its counter and full path. */
  readonly name: string;
  readonly sequence: number;
  readonly path: string;
  readonly data: Buffer;
  readonly stat: Stat;
  /**
   * Settles the item: at-least-once, deletes it (then our claim), retried across connection loss while
   * our claim is ours, and rejects with LockLostError if our claim is gone (session lost: the item may
   * be redelivered); at-most-once, nothing to delete.
   * Either way the consumer then pulls the next item.
   */
  ack(): Promise<void>;
  /** Settles the item without consuming it: at-least-once, our claim is deleted (redelivery). */
  release(): Promise<void>;
}

/** What queue() emits: an item, or an item whose payload `decode` rejected (not lost: ack or release it). */
export type QueueItem<T> =
  | (ItemBase & { readonly type: 'item'; readonly value: T })
  | (ItemBase & { readonly type: 'invalid'; readonly error: QueuePayloadError });

/**
 * Consumes the queue at `path` (filled by enqueue()) for as long as it is subscribed: emits items in
 * sequence order, each claimed only when the consumer pulls: at most `concurrency` (default 1) items
 * are claimed and unsettled at a time, and the next claim waits for an `ack()` or `release()`. So
 * `concatMap(async (item) => { await work(item); await item.ack(); })` holds one item at a time.
 *
 * - Cold: every subscription is a consumer of its own. Consumers of one queue share its items; no item
 *   is ever held by two live consumers at once (an at-least-once claim is an ephemeral node; an
 *   at-most-once claim is the versioned delete). Do not mix modes on one queue.
 * - First emission: the head item, as soon as there is one. Waits (watching the queue) while empty.
 * - At-least-once: an unsettled item is released when the consumer unsubscribes (claim deleted) or its
 *   session ends (claim gone with it), and is delivered again, ahead of the items after it, to the
 *   next consumer that reads the queue (each consumer reads it again whenever it has walked its
 *   listing to the end).
 * - Connection loss is ridden out (the session layer retries); after a new session the queue is read
 *   again. Completes when the client closes; errors only for what retrying cannot fix (e.g. NoAuth).
 *   A bad payload is an `invalid` item carrying a QueuePayloadError, never an error of the stream.
 *
 * @example
 * queue(client, '/app/jobs', { mode: 'at-least-once', decode: (b) => JSON.parse(b.toString()) })
 *   .pipe(concatMap(async (item) => { if (item.type === 'item') await run(item.value); await item.ack(); }))
 *   .subscribe();
 */
export function queue<T = Buffer>(
  client: ZkClient,
  path: string,
  options: QueueOptions<T>,
): Observable<QueueItem<T>> {
  validateClient(client);
  validatePath(path);
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      'options',
      "must be an object with a mode ('at-most-once' or 'at-least-once')",
      options,
    );
  }
  if (options.mode !== 'at-most-once' && options.mode !== 'at-least-once') {
    throw new InvalidArgumentError('options.mode', "must be 'at-most-once' or 'at-least-once'", options.mode);
  }
  if (options.decode !== undefined && typeof options.decode !== 'function') {
    throw new InvalidArgumentError('options.decode', 'must be a function', typeof options.decode);
  }
  const concurrency = validatePositiveInt(options.concurrency ?? 1, 'options.concurrency');
  const decode = options.decode ?? ((data: Buffer) => data as unknown as T);
  const acl = validateAclOption(options.acl);
  return new Observable<QueueItem<T>>((subscriber) => {
    const consumer = new Consumer(client, path, options.mode, decode, concurrency, acl, subscriber);
    return () => consumer.stop();
  });
}

class Consumer<T> {
  private active = true;
  private pulling = false;
  /** A watch fired (or the session changed) since the last listing: list again before waiting. */
  private dirty = true;
  private idle = false;
  private pending: SequenceNode[] = [];
  private claimed = new Set<string>();
  private readonly unsettled = new Set<string>();
  private readonly claims: string;
  private readonly states;
  private replayed = false;
  private readonly onChange: Watcher = () => {
    this.dirty = true;
    if (this.idle) this.pump();
  };

  constructor(
    private readonly client: ZkClient,
    private readonly path: string,
    private readonly mode: DeliveryMode,
    private readonly decode: (data: Buffer) => T,
    private readonly concurrency: number,
    private readonly acl: readonly Acl[] | undefined,
    private readonly subscriber: Subscriber<QueueItem<T>>,
  ) {
    this.claims = joinPath(path, CLAIMS);
    this.states = client.state$.subscribe({
      next: (state) => this.onState(state),
      complete: () => this.finish(),
    });
    this.pump();
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.states.unsubscribe();
    this.client.unwatch(this.onChange);
    // Unsettled at-least-once items go back to the queue: our claims are deleted.
    const sessionId = this.client.sessionId;
    for (const name of this.unsettled)
      void deleteGuaranteed(this.client, joinPath(this.claims, name), sessionId);
    this.unsettled.clear();
  }

  private finish(): void {
    if (!this.active) return;
    this.stop();
    this.subscriber.complete();
  }

  private onState(state: SessionState): void {
    const first = !this.replayed;
    this.replayed = true;
    if (first) return;
    if (state.type === 'closed') return this.finish();
    if (state.type === 'connected' || state.type === 'reconnected') {
      // Watches may not have survived (a new session): read the queue again.
      this.dirty = true;
      if (this.idle) this.pump();
    }
  }

  /** Claims items while the consumer has room for them (serialised: one claim at a time). */
  private pump(): void {
    if (!this.active || this.pulling || this.unsettled.size >= this.concurrency) return;
    this.pulling = true;
    this.idle = false;
    this.claimNext().then(
      (item) => {
        this.pulling = false;
        if (!this.active) {
          if (item) void item.release();
          return;
        }
        if (!item) {
          this.idle = true;
          // A change seen while we were looking: look again rather than wait.
          if (this.dirty) this.pump();
          return;
        }
        this.subscriber.next(item);
        this.pump();
      },
      (error: unknown) => {
        this.pulling = false;
        if (!this.active) return;
        if (error instanceof ClosedError) return this.finish();
        if (isRetryable(error)) {
          // Beyond the client's own retries: wait for the session to change (onState pumps again).
          this.idle = true;
          return;
        }
        this.stop();
        this.subscriber.error(error);
      },
    );
  }

  private async list(): Promise<void> {
    this.dirty = false;
    const [items, claims] = await Promise.all([
      this.children(this.path),
      this.mode === 'at-least-once' ? this.children(this.claims) : Promise.resolve([] as string[]),
    ]);
    this.pending = sortSequenceNodes(this.path, items, QUEUE_ITEM);
    this.claimed = new Set(claims);
  }

  /** Children with a watch; a missing node is created (a watch on a missing node's children never fires). */
  private async children(path: string): Promise<string[]> {
    try {
      return (await this.client.children(path, { watch: this.onChange })).children;
    } catch (error) {
      if (!(error instanceof NoNodeError)) throw error;
      await this.client.create(path, '', { createParents: true, acl: this.acl }).catch((e: unknown) => {
        if (!(e instanceof NodeExistsError)) throw e;
      });
      return (await this.client.children(path, { watch: this.onChange })).children;
    }
  }

  private async claimNext(): Promise<QueueItem<T> | undefined> {
    // Walks the listing in order; lists again only when it is used up (new items queue at the tail;
    // a released claim is seen on the next listing).
    for (let listed = false; ;) {
      if (this.pending.length === 0) {
        if (listed && !this.dirty) return undefined;
        await this.list();
        listed = true;
        if (!this.active) return undefined;
        continue;
      }
      const next = this.pending.shift()!;
      if (this.claimed.has(next.name) || this.unsettled.has(next.name)) continue;
      const item = this.mode === 'at-most-once' ? await this.take(next) : await this.claim(next);
      if (item) return item;
    }
  }

  /** At-most-once: read, then the versioned delete; whoever's delete lands has the item. */
  private async take(node: SequenceNode): Promise<QueueItem<T> | undefined> {
    const read = await this.client.get(node.path).catch(undefinedIfMissing);
    if (!read) return undefined;
    try {
      await this.client.delete(node.path, read.stat.version);
    } catch (error) {
      if (error instanceof NoNodeError || error instanceof BadVersionError) return undefined;
      throw error;
    }
    const settle = (): Promise<void> => Promise.resolve(this.settled(node.name));
    this.unsettled.add(node.name);
    return this.item(node, read, settle, settle);
  }

  /** At-least-once: an ephemeral claim node first; the item is ours while the claim is. */
  private async claim(node: SequenceNode): Promise<QueueItem<T> | undefined> {
    const claim = joinPath(this.claims, node.name);
    try {
      await this.client.create(claim, '', { mode: 'ephemeral', createParents: true, acl: this.acl });
    } catch (error) {
      if (error instanceof NodeExistsError) return undefined;
      throw error;
    }
    const sessionId = this.client.sessionId;
    // Acked (deleted) by its previous holder between our listing and our claim: drop the claim.
    const read = await this.client.get(node.path).catch(undefinedIfMissing);
    if (!read) {
      await deleteGuaranteed(this.client, claim, sessionId);
      return undefined;
    }
    this.unsettled.add(node.name);
    let settled = false;
    const ack = async (): Promise<void> => {
      if (settled) return;
      settled = true;
      try {
        const owner = await this.deleteClaimed(node.path, claim);
        await deleteGuaranteed(this.client, claim, owner);
      } finally {
        this.settled(node.name);
      }
    };
    const release = async (): Promise<void> => {
      if (settled) return;
      settled = true;
      try {
        await deleteGuaranteed(this.client, claim, sessionId);
        // Back to the head of our listing: released, it comes before later items.
        if (this.active) this.pending.unshift(node);
      } finally {
        this.settled(node.name);
      }
    };
    return this.item(node, read, ack, release);
  }

  /**
   * Deletes an item we hold (ack), sent again after a connection loss for as long as our claim is
   * ours: a delete whose reply was lost may or may not have landed (NoNode on the retry: it had), and
   * while the claim is ours nobody else deletes the item. Given up after a lost reply, the item would
   * stay behind our live claim: never redelivered, never consumed. Resolves to the claim's owner (our
   * session); rejects with LockLostError once the claim is not ours (our session is gone: the item may
   * be redelivered), and with what retrying cannot fix (ClosedError, NoAuth).
   */
  private async deleteClaimed(item: string, claim: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        // Our claim must still be ours: after a lost session the item may be someone else's now.
        const stat = await this.client.exists(claim);
        if (!stat || stat.ephemeralOwner !== this.client.sessionId) {
          throw new LockLostError('expired', { path: item });
        }
        await this.client.delete(item).catch((error: unknown) => {
          if (!(error instanceof NoNodeError)) throw error;
        });
        return stat.ephemeralOwner;
      } catch (error) {
        if (!isRetryable(error)) throw error;
      }
      await sessionChangeOrBackoff(this.client, attempt);
    }
  }

  private settled(name: string): void {
    if (!this.unsettled.delete(name)) return;
    this.pump();
  }

  private item(
    node: SequenceNode,
    read: { data: Buffer; stat: Stat },
    ack: () => Promise<void>,
    release: () => Promise<void>,
  ): QueueItem<T> {
    const base = {
      name: node.name,
      sequence: node.sequence,
      path: node.path,
      data: read.data,
      stat: read.stat,
      ack,
      release,
    };
    try {
      return { ...base, type: 'item', value: this.decode(read.data) };
    } catch (cause) {
      return {
        ...base,
        type: 'invalid',
        error: new QueuePayloadError(read.data, { path: node.path, cause }),
      };
    }
  }
}

function undefinedIfMissing(error: unknown): undefined {
  if (error instanceof NoNodeError) return undefined;
  throw error;
}
