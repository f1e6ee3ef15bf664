/**
 * The floor: every scenario hand-written on raw handles of the ZooKeeper C binding rxzk uses (the
 * `zookeeper` package's addon behind rxzk's thin native adapter, `nativeTransport().open()`: no session
 * layer, no retries, no streams). Each does the least work its recipe's protocol needs, so the gap
 * between it and a library is that library's own cost.
 * Run by the orchestrator as `node --expose-gc --import tsx bench/suite/floor-worker.ts`.
 */
import type { TransportHandle, Watcher } from '../../src/index.js';
import { libraryInfo, rxzk } from './library.js';
import {
  bounded,
  handoffGaps,
  memory,
  now,
  num,
  serve,
  sleep,
  str,
  type Running,
  type SetupContext,
} from './worker-io.js';

const { Code, ZkError, nativeTransport } = rxzk;
const WAIT_MS = 60_000;
const empty = new Uint8Array(0);
const transport = nativeTransport();

const isCode = (error: unknown, code: number): boolean => error instanceof ZkError && error.code === code;

/** A raw handle, once its session is connected. */
function open(context: SetupContext): Promise<TransportHandle> {
  return bounded(
    new Promise<TransportHandle>((resolve, reject) => {
      const handle = transport.open(
        { connectString: context.connect, sessionTimeout: context.sessionTimeout, auth: [] },
        (event) => {
          if (event.type === 'connected') resolve(handle);
          else if (event.type !== 'disconnected') reject(new Error(`session ${event.type}`));
        },
      );
    }),
    WAIT_MS,
    'a raw session to connect',
  );
}

const openMany = (context: SetupContext, n: number): Promise<TransportHandle[]> =>
  Promise.all(Array.from({ length: n }, () => open(context)));

const closeAll = async (handles: readonly TransportHandle[]): Promise<void> => {
  await Promise.all(handles.map((h) => h.close()));
};

/** Creates `path` and its missing ancestors (persistent, empty). */
async function ensurePath(h: TransportHandle, path: string): Promise<void> {
  let at = '';
  for (const part of path.split('/').slice(1)) {
    at += `/${part}`;
    await h.create({ path: at, data: empty, mode: 'persistent' }).catch((error: unknown) => {
      if (!isCode(error, Code.NodeExists)) throw error;
    });
  }
}

const bySequence = (a: string, b: string): number => a.slice(-10).localeCompare(b.slice(-10));

/**
 * The least a turn of the lock protocol needs (InterProcessMutex's, without its retries and GUID): the
 * create and the listing sent together (one session's requests are applied in order, so the listing
 * already has our node); hold if lowest, else watch the predecessor; when it goes, hold at once if it
 * was the lowest (nothing else can be ahead of us), list again only if it was not (it may have
 * abandoned). Release = delete. The handoff is then one delete and one notification.
 */
async function rawLock(h: TransportHandle, dir: string): Promise<string> {
  const [{ path: mine }, listed] = await Promise.all([
    h.create({ path: `${dir}/lock-`, data: empty, mode: 'ephemeral-sequential' }),
    h.children(dir),
  ]);
  const name = mine.slice(dir.length + 1);
  let children = listed.children;
  for (;;) {
    children.sort(bySequence);
    const index = children.indexOf(name);
    if (index === 0) return mine;
    if (index < 0) throw new Error(`our lock node ${mine} is not listed`);
    await new Promise<void>((resolve, reject) => {
      h.exists(`${dir}/${children[index - 1]}`, () => resolve()).then(
        (stat) => stat === null && resolve(),
        reject,
      );
    });
    if (index === 1) return mine;
    children = (await h.children(dir)).children;
  }
}

async function lockScenario(context: SetupContext): Promise<Running> {
  const turns = num(context.params, 'turns');
  const handles = await openMany(context, num(context.params, 'contenders'));
  const dir = `${context.root}/lock`;
  await ensurePath(handles[0]!, dir);
  return {
    async step() {
      const log: [number, number][] = [];
      let holders = 0;
      let maxHolders = 0;
      const started = now();
      await Promise.all(
        handles.map(async (h) => {
          for (let i = 0; i < turns; i++) {
            const mine = await bounded(rawLock(h, dir), WAIT_MS, 'raw lock');
            const acquired = now();
            maxHolders = Math.max(maxHolders, ++holders);
            await new Promise((resolve) => setImmediate(resolve));
            holders--;
            log.push([acquired, now()]);
            await h.delete(mine, -1);
          }
        }),
      );
      const elapsed = now() - started;
      const { samples, overlaps } = handoffGaps(log);
      return {
        throughput: (log.length / elapsed) * 1000,
        acquisitions: log.length,
        maxHolders,
        overlaps,
        samples,
      };
    },
    teardown: () => closeAll(handles),
  };
}

/**
 * A raw election candidate: an ephemeral-sequential node; the lowest leads; the others watch their
 * predecessor (exists). When it goes: lead at once if it was the lowest, else list again (it may have
 * abandoned). The failover is then one delete and one notification, the least an election can do.
 */
class RawCandidate {
  node: string | undefined;
  leading = false;
  private epoch = 0;

  constructor(
    private readonly h: TransportHandle,
    private readonly dir: string,
    private readonly onLeader: (candidate: RawCandidate, at: number) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  async join(): Promise<void> {
    const epoch = ++this.epoch;
    const [{ path }, { children }] = await Promise.all([
      this.h.create({ path: `${this.dir}/n-`, data: empty, mode: 'ephemeral-sequential' }),
      this.h.children(this.dir),
    ]);
    if (epoch !== this.epoch) return;
    this.node = path.slice(this.dir.length + 1);
    await this.rank(epoch, children);
  }

  private lead(): void {
    this.leading = true;
    this.onLeader(this, now());
  }

  private async rank(epoch: number, children: string[]): Promise<void> {
    if (epoch !== this.epoch || !this.node) return;
    children.sort(bySequence);
    const index = children.indexOf(this.node);
    if (index === 0) return this.lead();
    if (index < 0) throw new Error(`our node ${this.node} is not listed`);
    const gone = (): void => {
      if (epoch !== this.epoch) return;
      if (index === 1) return this.lead();
      this.h.children(this.dir).then(({ children: again }) => this.rank(epoch, again), this.onError);
    };
    const stat = await this.h.exists(`${this.dir}/${children[index - 1]}`, gone);
    if (stat === null) gone();
  }

  async resign(): Promise<void> {
    this.epoch++;
    this.leading = false;
    const node = this.node;
    this.node = undefined;
    if (node) await this.h.delete(`${this.dir}/${node}`, -1);
  }
}

async function failoverScenario(context: SetupContext): Promise<Running> {
  const failovers = num(context.params, 'failovers');
  const handles = await openMany(context, num(context.params, 'candidates'));
  const dir = `${context.root}/election`;
  await ensurePath(handles[0]!, dir);
  let overlaps = 0;
  let failed: unknown;
  let nextLeader: ((at: number) => void) | undefined;
  const candidates: RawCandidate[] = [];
  const onLeader = (who: RawCandidate, at: number): void => {
    if (candidates.some((c) => c !== who && c.leading)) overlaps++;
    nextLeader?.(at);
  };
  for (const h of handles) {
    candidates.push(new RawCandidate(h, dir, onLeader, (error) => (failed = error)));
  }
  const first = new Promise<number>((resolve) => (nextLeader = resolve));
  for (const c of candidates) await c.join();
  await bounded(first, WAIT_MS, 'a first leader');
  const count = async (): Promise<number> => (await handles[0]!.children(dir)).children.length;
  return {
    async step() {
      const samples: number[] = [];
      overlaps = 0;
      for (let k = 0; k < failovers; k++) {
        const leader = candidates.find((c) => c.leading);
        if (!leader) throw new Error('no leader before a failover');
        const next = new Promise<number>((resolve) => (nextLeader = resolve));
        const t0 = now();
        await leader.resign();
        const t1 = await bounded(next, WAIT_MS, 'the next leader');
        nextLeader = undefined;
        samples.push(t1 - t0);
        await leader.join();
        const deadline = now() + WAIT_MS;
        while ((await count()) < candidates.length && now() < deadline) await sleep(1);
        if (failed) throw failed;
      }
      return { samples, failovers: samples.length, overlaps };
    },
    teardown: () => closeAll(handles),
  };
}

async function changeScenario(context: SetupContext): Promise<Running> {
  const changes = num(context.params, 'changes');
  const [writer, reader] = (await openMany(context, 2)) as [TransportHandle, TransportHandle];
  const path = `${context.root}/node`;
  await ensurePath(writer, context.root);
  await writer.create({ path, data: Buffer.from('start'), mode: 'persistent' });
  let expected = 'start';
  let seen: ((at: number) => void) | undefined;
  let active = true;
  // The hand-written loop: get with a one-shot watch; on the event, get again (and watch again).
  const watch: Watcher = () => void read();
  const read = async (): Promise<void> => {
    if (!active) return;
    const { data } = await reader.get(path, watch);
    const at = now();
    if (data.toString() === expected) seen?.(at);
  };
  await read();
  return {
    async step(_name, round) {
      const samples: number[] = [];
      const fromCall: number[] = [];
      let early = 0;
      for (let i = 0; i < changes; i++) {
        expected = `r${round}-${i}`;
        const sawIt = new Promise<number>((resolve) => (seen = resolve));
        const called = now();
        await writer.set(path, Buffer.from(expected), -1);
        const resolved = now();
        const at = await bounded(sawIt, WAIT_MS, `change ${expected}`);
        seen = undefined;
        if (at < resolved) early++;
        samples.push(Math.max(0, at - resolved));
        fromCall.push(at - called);
      }
      return { samples, fromCall, early };
    },
    async teardown() {
      active = false;
      await closeAll([writer, reader]);
    },
  };
}

/** Loads and watches the subtree: get + getChildren with watches on every node, all pipelined. */
function rawTree(h: TransportHandle, root: string): Promise<Map<string, Buffer>> {
  const nodes = new Map<string, Buffer>();
  const watcher: Watcher = () => undefined;
  return new Promise((resolve, reject) => {
    let outstanding = 0;
    const settle = (): void => {
      if (--outstanding === 0) resolve(nodes);
    };
    const load = (path: string): void => {
      outstanding += 2;
      h.get(path, watcher).then(({ data }) => {
        nodes.set(path, data);
        settle();
      }, reject);
      h.children(path, watcher).then(({ children }) => {
        for (const child of children) load(path === '/' ? `/${child}` : `${path}/${child}`);
        settle();
      }, reject);
    };
    load(root);
  });
}

async function treeScenario(context: SetupContext): Promise<Running> {
  const fixture = str(context.params, 'fixture');
  return {
    async step() {
      const h = await open(context);
      try {
        const started = now();
        const nodes = await bounded(rawTree(h, fixture), WAIT_MS * 5, 'the raw tree load');
        return { samples: [now() - started], nodes: nodes.size };
      } finally {
        await h.close();
      }
    },
    teardown: async () => undefined,
  };
}

/**
 * The least the at-least-once protocol needs (what every peer's queue does, pipelined where one
 * session's ordering makes it safe): list the items and the claims together (watching when nothing is
 * left to take); for each unclaimed item in order: the ephemeral claim and the read sent together
 * (the read is dropped if the claim failed), deliver, then the item's delete (the ack) and the claim's
 * delete sent together (applied in that order: no one can claim an item that is still there).
 */
async function rawConsumer(
  h: TransportHandle,
  path: string,
  stopped: { value: boolean; signal: Promise<void> },
  deliver: (data: Buffer) => void,
): Promise<void> {
  const claims = `${path}/claims`;
  const listing = async (watch?: Watcher): Promise<string[]> => {
    const [items, claimed] = await Promise.all([h.children(path, watch), h.children(claims, watch)]);
    const taken = new Set(claimed.children);
    return items.children.filter((n) => n.startsWith('qn-') && !taken.has(n)).sort();
  };
  while (!stopped.value) {
    let list = await listing();
    if (list.length === 0) {
      let changed!: () => void;
      const change = new Promise<void>((resolve) => (changed = resolve));
      list = await listing(() => changed());
      if (list.length === 0) {
        await Promise.race([change, stopped.signal]);
        continue;
      }
    }
    for (const name of list) {
      if (stopped.value) return;
      const claim = `${claims}/${name}`;
      const [claimed, read] = await Promise.allSettled([
        h.create({ path: claim, data: empty, mode: 'ephemeral' }),
        h.get(`${path}/${name}`),
      ]);
      if (claimed.status === 'rejected') {
        if (isCode(claimed.reason, Code.NodeExists)) continue;
        throw claimed.reason;
      }
      if (read.status === 'rejected') {
        if (!isCode(read.reason, Code.NoNode)) throw read.reason;
        await h.delete(claim, -1);
        continue;
      }
      deliver(read.value.data);
      await Promise.all([h.delete(`${path}/${name}`, -1), h.delete(claim, -1)]);
    }
  }
}

async function queueScenario(context: SetupContext): Promise<Running> {
  const items = num(context.params, 'items');
  const [producer, ...consumers] = (await openMany(context, 1 + num(context.params, 'consumers'))) as [
    TransportHandle,
    ...TransportHandle[],
  ];
  return {
    async step(_name, round) {
      const path = `${context.root}/q${round}`;
      await ensurePath(producer, `${path}/claims`);
      const putAt = new Array<number>(items);
      const delivered = new Set<number>();
      const samples: number[] = [];
      let duplicates = 0;
      let finished: ((at: number) => void) | undefined;
      const done = new Promise<number>((resolve) => (finished = resolve));
      let stop!: () => void;
      const stopped = { value: false, signal: new Promise<void>((resolve) => (stop = resolve)) };
      const loops = consumers.map((h) =>
        rawConsumer(h, path, stopped, (data) => {
          const at = now();
          const i = Number(data.toString());
          if (delivered.has(i)) duplicates++;
          else {
            delivered.add(i);
            samples.push(at - putAt[i]!);
            if (delivered.size === items) finished?.(at);
          }
        }),
      );
      let failed: unknown;
      const watched = Promise.all(loops).catch((error: unknown) => (failed = error));
      await sleep(200);
      const started = now();
      for (let i = 0; i < items; i++) {
        putAt[i] = now();
        await producer.create({
          path: `${path}/qn-`,
          data: Buffer.from(`${i}`),
          mode: 'persistent-sequential',
        });
      }
      const ended = await bounded(
        Promise.race([done, watched.then(() => Promise.reject(failed ?? new Error('consumers ended')))]),
        WAIT_MS * 5,
        'every item delivered',
      );
      const left = async (): Promise<number> =>
        (await producer.children(path)).children.filter((n) => n.startsWith('qn-')).length;
      const deadline = now() + WAIT_MS;
      let leftover = await left();
      while (leftover > 0 && now() < deadline) {
        await sleep(10);
        leftover = await left();
      }
      stopped.value = true;
      stop();
      await bounded(watched, WAIT_MS, 'the consumers to stop');
      return {
        throughput: (items / (ended - started)) * 1000,
        samples,
        delivered: delivered.size,
        duplicates,
        leftover,
      };
    },
    teardown: () => closeAll([producer, ...consumers]),
  };
}

async function fanoutScenario(context: SetupContext): Promise<Running> {
  const fixture = str(context.params, 'fixture');
  const paths = Array.from({ length: num(context.params, 'paths') }, (_, i) => `${fixture}/p${i}`);
  const perPath = num(context.params, 'subscribers');
  const changes = num(context.params, 'changes');
  let handles: TransportHandle[] = [];
  let active = false;
  let wanted: { path: string; value: string; count: number; last: number; done?: () => void } | undefined;
  return {
    async step(name, round) {
      switch (name) {
        case 'subscribe': {
          handles = await openMany(context, 2);
          const reader = handles[0]!;
          const before = await memory();
          active = true;
          // Per path: one get with a watch, re-armed on each event, fanned out to its subscribers.
          const loads = paths.map((path) => {
            const subscribers = Array.from({ length: perPath }, () => (data: Buffer) => {
              const w = wanted;
              if (w && w.path === path && data.toString() === w.value) {
                w.last = now();
                if (++w.count === perPath) w.done?.();
              }
            });
            const watch: Watcher = () => void read();
            const read = async (): Promise<void> => {
              if (!active) return;
              const { data } = await reader.get(path, watch);
              for (const s of subscribers) s(data);
            };
            return read();
          });
          await bounded(Promise.all(loads), WAIT_MS * 5, 'every first value');
          const after = await memory();
          return {
            subscriptions: paths.length * perPath,
            heapBytes: after.heap - before.heap,
            rssBytes: after.rss - before.rss,
          };
        }
        case 'deliver': {
          const writer = handles[1]!;
          const samples: number[] = [];
          const fromCall: number[] = [];
          for (let k = 0; k < changes; k++) {
            const path = paths[(k * 7919) % paths.length]!;
            const value = `r${round}-${k}`;
            const all = new Promise<void>((resolve) => {
              wanted = { path, value, count: 0, last: 0, done: resolve };
            });
            const called = now();
            await writer.set(path, Buffer.from(value), -1);
            const resolved = now();
            await bounded(all, WAIT_MS, `change of ${path} to reach every subscriber`);
            samples.push(Math.max(0, wanted!.last - resolved));
            fromCall.push(wanted!.last - called);
            wanted = undefined;
          }
          return { samples, fromCall };
        }
        case 'unsubscribe': {
          active = false;
          const reader = handles[0]!;
          if (!reader.removeWatches) throw new Error('the binding is not patched: no removeWatches');
          await Promise.all(paths.map((p) => reader.removeWatches!(p, 'data')));
          return {};
        }
        case 'close':
          await closeAll(handles);
          handles = [];
          return {};
        default:
          throw new Error(`no step ${name}`);
      }
    },
    async teardown() {
      active = false;
      await closeAll(handles);
    },
  };
}

serve(() => ({ ...libraryInfo(), floor: 'raw handles: nativeTransport().open(), the zookeeper addon' }), {
  lock: lockScenario,
  failover: failoverScenario,
  change: changeScenario,
  tree: treeScenario,
  queue: queueScenario,
  fanout: fanoutScenario,
});
