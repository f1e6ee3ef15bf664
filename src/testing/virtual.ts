/**
 * ZooKeeper on virtual time, for marble tests of code written against rxzk: an in-memory server and
 * its clients whose every timer (session timeouts, backoff, TTLs, the client's own `lost` timer, your
 * operators' `debounceTime`) runs on one TestScheduler.
 *
 * Why not `TestScheduler.run`: a client's operations are promises, and `run` flushes virtual time in
 * one synchronous pass, before any promise job runs. `advance()` steps the scheduler one action at a
 * time instead and lets the promise jobs each action started settle before the next one, so a reply
 * that the server sends at frame 10 is seen at frame 10. Nothing waits in real time: a session timeout
 * of a minute passes in microseconds.
 *
 * @example
 * const zk = new VirtualZooKeeper({ assert: (a, e) => expect(a).toEqual(e) });
 * const client = zk.client({ sessionTimeout: 1_000 });
 * await zk.seed({ '/app/config': 'v1' });
 * const seen = zk.record(data$(client, '/app/config').pipe(map((n) => n?.data.toString())));
 * zk.at(100, () => void zk.writer.set('/app/config', 'v2'));
 * await zk.advance(200);
 * zk.expect(seen).toBe('a 99ms b', { a: 'v1', b: 'v2' });
 * await zk.close();
 */
import type { Observable, ObservableNotification, Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { ZkClient, type ConnectOptions } from '../session/client.js';
import { MemoryZooKeeper } from '../transport/memory/index.js';

/** One notification and the frame it arrived at: the shape `TestScheduler.parseMarbles` produces. */
export interface RecordedMessage<T> {
  readonly frame: number;
  readonly notification: ObservableNotification<T>;
}

/** When a subscription started and ended (`Infinity` while it lasts), as in RxJS's SubscriptionLog. */
export interface SubscriptionFrames {
  readonly subscribedFrame: number;
  readonly unsubscribedFrame: number;
}

export interface Recording<T> {
  readonly messages: RecordedMessage<T>[];
  readonly subscriptions: SubscriptionFrames[];
  /** Stops recording now (also what the `!` of `record`'s subscription marbles does). */
  unsubscribe(): void;
}

export interface VirtualZooKeeperOptions {
  /** The server's tickTime in frames (ms): session timeouts are negotiated into [2, 20] ticks. Default 100. */
  readonly tickTime?: number;
  /** How often empty containers and expired TTL nodes are reaped, in frames. Default 1,000. */
  readonly containerCheckInterval?: number;
  /** Deep equality for `expect(...).toBe`, e.g. `(a, e) => expect(a).toEqual(e)`. Default: a JSON comparison. */
  readonly assert?: (actual: unknown, expected: unknown) => void;
}

/** What a letter of a fault script does to a client's session (or, for `d`/`u`, to the server). */
const FAULTS = {
  s: 'suspend (the connection drops; the session lives until its timeout)',
  r: 'restore (the connection comes back: same session, or expired)',
  x: 'expire (the server expires the session now)',
  d: 'down (the server stops: every connection drops)',
  u: 'up (the server is back)',
} as const;
export type FaultLetter = keyof typeof FAULTS;

export class VirtualZooKeeper {
  readonly scheduler: TestScheduler;
  readonly server: MemoryZooKeeper;
  private readonly clients: ZkClient[] = [];
  private readonly probes: (() => void)[] = [];
  private readonly assertEqual: (actual: unknown, expected: unknown) => void;
  private admin: ZkClient | undefined;
  /** The session each client had when `s` suspended it: `r` restores that one, even after `lost`. */
  private readonly suspended = new WeakMap<ZkClient, string>();

  constructor(options: VirtualZooKeeperOptions = {}) {
    this.assertEqual = options.assert ?? jsonEqual;
    this.scheduler = new TestScheduler(this.assertEqual);
    this.server = new MemoryZooKeeper({
      scheduler: this.scheduler,
      tickTime: options.tickTime ?? 100,
      containerCheckInterval: options.containerCheckInterval ?? 1_000,
    });
  }

  /** The current frame (virtual ms since the start). */
  get now(): number {
    return this.scheduler.frame;
  }

  /** A client on the server and the virtual clock (closed by `close()`). `chroot` like '/app'. */
  client(options: Omit<ConnectOptions, 'transport' | 'scheduler'> & { chroot?: string } = {}): ZkClient {
    const { chroot = '', ...rest } = options;
    // Not `memory://`: that names the process's embedded servers; this client is on the kit's own.
    const client = new ZkClient(`memory:virtual${chroot}`, {
      sessionTimeout: 1_000,
      ...rest,
      transport: this.server.transport,
      scheduler: this.scheduler,
    });
    this.clients.push(client);
    return client;
  }

  /** A client of the kit's own, for seeding and for writes placed with `at()`. */
  get writer(): ZkClient {
    this.admin ??= this.client();
    return this.admin;
  }

  /** Creates nodes (and their parents) with the given data, and lets the clock settle. */
  async seed(tree: Readonly<Record<string, string | Uint8Array>>): Promise<void> {
    const writer = this.writer;
    const done = Promise.all(
      Object.entries(tree).map(([path, data]) => writer.create(path, data, { createParents: true })),
    );
    await this.settle();
    await done;
  }

  /** Runs `work` at absolute frame `frame` (now, if that has passed). */
  at(frame: number, work: () => void): void {
    this.scheduler.schedule(work, Math.max(0, frame - this.now));
  }

  /** Moves the clock `ms` frames forward, running each due action and the promise jobs it starts. */
  advance(ms: number): Promise<void> {
    return this.advanceTo(this.now + ms);
  }

  /** Moves the clock to `frame` (see advance). */
  async advanceTo(frame: number): Promise<void> {
    await this.drain();
    for (;;) {
      const action = this.scheduler.actions[0];
      if (!action || action.delay > frame) break;
      // One action at a time, each followed by the promise jobs it started (a flush would run the
      // next action before a reply's continuation).
      this.scheduler.actions.shift();
      this.scheduler.frame = action.delay;
      const error: unknown = action.execute(action.state, action.delay);
      if (error) throw error;
      await this.drain();
    }
    this.scheduler.frame = Math.max(this.scheduler.frame, frame);
    this.sample();
  }

  /** Lets everything due now happen (actions at this frame, promise jobs) without moving the clock. */
  settle(): Promise<void> {
    return this.advanceTo(this.now);
  }

  private async drain(): Promise<void> {
    // One macrotask turn runs every queued microtask first, including those queued meanwhile.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sample();
  }

  /**
   * Subscribes to `source` and records what it emits with frames. `subscription` is a subscription
   * marble relative to now: '^' subscribes now, '10ms ^ 50ms !' subscribes at +10 and unsubscribes 51
   * frames later.
   */
  record<T>(source: Observable<T>, subscription = '^'): Recording<T> {
    const { subscribedFrame, unsubscribedFrame } = runMode(() =>
      TestScheduler.parseMarblesAsSubscriptions(subscription, true),
    );
    const start = this.now;
    const messages: RecordedMessage<T>[] = [];
    const subscriptions: { subscribedFrame: number; unsubscribedFrame: number }[] = [];
    let live: Subscription | undefined;
    const unsubscribe = (): void => {
      if (!live) return;
      live.unsubscribe();
      live = undefined;
      subscriptions[subscriptions.length - 1]!.unsubscribedFrame = this.now;
    };
    const subscribe = (): void => {
      subscriptions.push({ subscribedFrame: this.now, unsubscribedFrame: Infinity });
      const note = (notification: ObservableNotification<T>): void => {
        messages.push({ frame: this.now, notification });
      };
      live = source.subscribe({
        next: (value) => note({ kind: 'N', value }),
        error: (error: unknown) => note({ kind: 'E', error }),
        complete: () => note({ kind: 'C' }),
      });
    };
    const first = Math.max(0, subscribedFrame);
    if (first === 0) subscribe();
    else this.at(start + first, subscribe);
    if (unsubscribedFrame !== Infinity) this.at(start + unsubscribedFrame, unsubscribe);
    return { messages, subscriptions, unsubscribe };
  }

  /**
   * Samples `read()` after every step of the clock and records each change of its value: a timeline
   * of server-side state (watch counts, node existence) to compare with marbles. First value: now.
   */
  probe<T>(read: () => T): Recording<T> {
    const messages: RecordedMessage<T>[] = [];
    let last: { value: T } | undefined;
    let active = true;
    const sample = (): void => {
      if (!active) return;
      const value = read();
      if (last && jsonSame(last.value, value)) return;
      last = { value };
      messages.push({ frame: this.now, notification: { kind: 'N', value } });
    };
    this.probes.push(sample);
    sample();
    return {
      messages,
      subscriptions: [{ subscribedFrame: this.now, unsubscribedFrame: Infinity }],
      unsubscribe: () => (active = false),
    };
  }

  /**
   * The server watches on `path` as subscription frames: one entry per time the path went from no
   * watch to at least one and back. With `expectSubscriptions` it shows when a stream registered its
   * server watch and when it released it.
   */
  watchLog(path: string): SubscriptionFrames[] {
    const log: { subscribedFrame: number; unsubscribedFrame: number }[] = [];
    const watched = (): boolean => (this.server.watchesByPath().get(path)?.length ?? 0) > 0;
    let on = false;
    const sample = (): void => {
      const now = watched();
      if (now && !on) log.push({ subscribedFrame: this.now, unsubscribedFrame: Infinity });
      if (!now && on) log[log.length - 1]!.unsubscribedFrame = this.now;
      on = now;
    };
    this.probes.push(sample);
    sample();
    return log;
  }

  /**
   * Places faults on frames, relative to now, as a marble string of letters: `s` suspend, `r` restore,
   * `x` expire (the session `client` has when the letter is reached), `d` server down, `u` server up.
   * E.g. '100ms s 499ms r' suspends at +100 and restores at +600.
   */
  faults(client: ZkClient | undefined, script: string): void {
    const start = this.now;
    const letters = runMode(() => TestScheduler.parseMarbles(script, undefined, undefined, false, true));
    for (const { frame, notification } of letters) {
      if (notification.kind !== 'N') continue;
      const letter = notification.value as string;
      if (!(letter in FAULTS)) {
        throw new RangeError(`faults: unknown letter '${letter}' (known: ${Object.keys(FAULTS).join(', ')})`);
      }
      if ((letter === 's' || letter === 'r' || letter === 'x') && client === undefined) {
        throw new RangeError(`faults: '${letter}' needs a client`);
      }
      this.at(start + frame, () => this.fault(letter as FaultLetter, client));
    }
  }

  /** Asserts a recording against a marble diagram (frames relative to `from`, default 0). */
  expect<T>(
    recording: Pick<Recording<T>, 'messages'>,
    from = 0,
  ): {
    toBe(marbles: string, values?: Record<string, T>, error?: unknown): void;
  } {
    return {
      toBe: (marbles, values, error) => {
        const parsed = runMode(() => TestScheduler.parseMarbles(marbles, values, error, false, true));
        const expected = parsed.map((m) => ({
          frame: m.frame + from,
          notification: m.notification,
        }));
        this.assertEqual(recording.messages, expected);
      },
    };
  }

  /** Asserts subscription frames (a recording's, or a watchLog) against subscription marbles. */
  expectSubscriptions(log: readonly SubscriptionFrames[], from = 0): { toBe(...marbles: string[]): void } {
    return {
      toBe: (...marbles) => {
        const expected = marbles.map((m) => {
          const parsed = runMode(() => TestScheduler.parseMarblesAsSubscriptions(m, true));
          return {
            subscribedFrame: parsed.subscribedFrame + from,
            unsubscribedFrame: parsed.unsubscribedFrame + from,
          };
        });
        this.assertEqual(
          log.map((l) => ({ subscribedFrame: l.subscribedFrame, unsubscribedFrame: l.unsubscribedFrame })),
          expected,
        );
      },
    };
  }

  /** Closes every client of the kit and the server; lets the last replies settle. */
  async close(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    this.server.close();
    await this.drain();
  }

  private fault(letter: FaultLetter, client: ZkClient | undefined): void {
    const server = this.server;
    const session = client?.sessionId ?? client?.currentHandle()?.sessionId;
    switch (letter) {
      case 'd':
        return server.stop();
      case 'u':
        return server.start();
      case 's':
        if (client && session) {
          this.suspended.set(client, session);
          server.suspend(session);
        }
        return;
      case 'r': {
        const held = client && this.suspended.get(client);
        if (held) server.restore(held);
        return;
      }
      case 'x':
        if (session) server.expire(session);
        return;
    }
  }

  private sample(): void {
    for (const probe of this.probes) probe();
  }
}

/** Marbles read as in `TestScheduler.run`: one frame per character, `10ms` is ten frames. */
function runMode<T>(parse: () => T): T {
  const factor = TestScheduler.frameTimeFactor;
  TestScheduler.frameTimeFactor = 1;
  try {
    return parse();
  } finally {
    TestScheduler.frameTimeFactor = factor;
  }
}

function jsonSame(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function jsonEqual(actual: unknown, expected: unknown): void {
  if (!jsonSame(actual, expected)) {
    throw new Error(
      `marbles differ:\n  actual:   ${JSON.stringify(actual)}\n  expected: ${JSON.stringify(expected)}`,
    );
  }
}
