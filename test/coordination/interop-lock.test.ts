/**
 * Curator lock interop: Curator 5.4 InterProcessMutex processes (Debian's libcurator-recipes-java,
 * compiled here with javac: interop/CuratorLocker.java) and rxzk lock processes (locker.ts) contend on
 * one lock path. Mutual exclusion is proven with a counter incremented without versions, the turns of
 * the two kinds interleave, and both create Curator's node layout. Skipped, by name and with the
 * reason, only when java, javac or the jars are missing.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acquire } from '../../src/recipes/acquire.js';
import { compileCurator, curatorMissing } from '../support/curator.js';
import { eventually, zkSuite } from '../support/fixture.js';
import { allExited, workerPool, type Command, type WorkerProcess } from '../support/processes.js';

const reason = curatorMissing();
if (reason) console.warn(`Curator lock interop test skipped: ${reason}`);

const zk = zkSuite({ tickTime: 500 });
const LOCKER = new URL('./locker.ts', import.meta.url);
/** Curator's protected lock node name, which rxzk creates too. */
const LOCK_NODE = /^_c_[0-9a-f-]{36}-lock-\d{10}$/;

type Kind = 'java' | 'rxzk';
interface LockEvent {
  readonly ev: string;
  readonly t?: number;
  readonly value?: number;
  readonly node?: string;
  readonly children?: string[];
  readonly message?: string;
}
type Contender = WorkerProcess<LockEvent> & { readonly kind: Kind };

let compiled: ReturnType<typeof compileCurator> | undefined;
const processes = workerPool();

beforeAll(() => {
  if (reason) return;
  compiled = compileCurator(fileURLToPath(new URL('./interop/CuratorLocker.java', import.meta.url)));
});
afterAll(() => {
  compiled?.remove();
});
afterEach(() => processes.stopAll());

function start(kind: Kind, command: Command, env: Record<string, string> = {}): Contender {
  return Object.assign(processes.spawn<LockEvent>(command, env), { kind });
}

function curator(lock: string, counter: string, count: number): Contender {
  const classpath = compiled!.classPath;
  return start('java', [
    'java',
    '-cp',
    classpath,
    'CuratorLocker',
    zk.connectString,
    lock,
    counter,
    `${count}`,
  ]);
}

function rxzk(lock: string, counter: string, count: number): Contender {
  return start('rxzk', LOCKER, {
    ZK_CONNECT: zk.connectString,
    SESSION_TIMEOUT: '3000',
    LOCK: lock,
    COUNTER: counter,
    COUNT: `${count}`,
  });
}

const errors = (contenders: readonly Contender[]): LockEvent[] =>
  contenders.flatMap((c) => c.events.filter((e) => e.ev === 'error'));

describe.skipIf(reason !== undefined)(
  `Curator InterProcessMutex interop${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    it('2 Curator and 3 rxzk processes x 100 unversioned increments under one lock: exactly 500, interleaved', async () => {
      const admin = zk.client();
      const lock = `${zk.root}/lock`;
      const counter = `${zk.root}/counter`;
      const count = 100;
      await admin.create(counter, '0');

      // Hold the lock while every process starts and queues behind us (the JVMs start slower than
      // Node): the contention then starts with all five in line, and the queue shows every kind's node.
      const first = await acquire(admin, lock);
      const contenders = [
        curator(lock, counter, count),
        rxzk(lock, counter, count),
        rxzk(lock, counter, count),
        curator(lock, counter, count),
        rxzk(lock, counter, count),
      ];
      const queued = await eventually(
        async () => {
          expect(errors(contenders)).toEqual([]);
          expect(contenders.map((c) => c.child.exitCode ?? c.child.signalCode)).toEqual(
            contenders.map(() => null),
          );
          const { children } = await admin.children(lock);
          expect(children).toHaveLength(contenders.length + 1);
          return children;
        },
        60_000,
        100,
      );
      const started = performance.now();
      await first.release();
      expect(await allExited(contenders, 120_000), JSON.stringify(errors(contenders))).toEqual(
        Array(contenders.length).fill(0),
      );
      const elapsed = performance.now() - started;

      // Mutual exclusion: every increment landed once, none lost, none doubled.
      const total = count * contenders.length;
      const { data } = await admin.get(counter);
      expect(Number(data.toString())).toBe(total);
      const writes = contenders
        .flatMap((c) =>
          c.events.filter((e) => e.ev === 'wrote').map((e) => ({ kind: c.kind, value: e.value! })),
        )
        .sort((a, b) => a.value - b.value);
      expect(writes.map((w) => w.value)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      for (const c of contenders) expect(c.events.filter((e) => e.ev === 'wrote')).toHaveLength(count);

      // The two kinds took turns: in write order, the holder's kind switched many times.
      let switches = 0;
      for (let i = 1; i < writes.length; i++) if (writes[i]!.kind !== writes[i - 1]!.kind) switches++;
      expect(switches).toBeGreaterThanOrEqual(10);

      // One layout: Curator's nodes (reported by the Curator processes themselves) and rxzk's (the rest
      // of the queue behind our own node) are all `_c_<uuid>-lock-NNNNNNNNNN`.
      const javas = contenders.filter((c) => c.kind === 'java');
      const javaNodes = javas.flatMap((c) => c.events.filter((e) => e.ev === 'acquired').map((e) => e.node!));
      expect(javaNodes).toHaveLength(count * javas.length);
      for (const node of javaNodes) expect(node).toMatch(LOCK_NODE);
      const ours = first.node.slice(first.node.lastIndexOf('/') + 1);
      expect(ours).toMatch(LOCK_NODE);
      const firstJavaNodes = javas.map((c) => c.events.find((e) => e.ev === 'acquired')!.node!);
      for (const node of firstJavaNodes) expect(queued).toContain(node);
      const rxzkNodes = queued.filter((n) => n !== ours && !firstJavaNodes.includes(n));
      expect(rxzkNodes).toHaveLength(3);
      for (const node of rxzkNodes) expect(node).toMatch(LOCK_NODE);
      // What Curator itself saw under the lock path on its first turn: the same layout throughout.
      for (const c of javas) {
        const seen = c.events.find((e) => e.ev === 'nodes')!.children!;
        expect(seen.length).toBeGreaterThan(0);
        for (const node of seen) expect(node).toMatch(LOCK_NODE);
      }

      // Informational: the gap between one holder's release and the next holder's turn, across kinds
      // (two clocks, so not asserted; the counter above is the proof).
      const spans = contenders.flatMap((c) => {
        const acquired = c.events.filter((e) => e.ev === 'acquired');
        const releasing = c.events.filter((e) => e.ev === 'releasing');
        return acquired.map((a, i) => ({ kind: c.kind, from: a.t!, to: releasing[i]!.t! }));
      });
      spans.sort((a, b) => a.from - b.from);
      let minGap = Infinity;
      for (let i = 1; i < spans.length; i++) {
        if (spans[i]!.kind !== spans[i - 1]!.kind)
          minGap = Math.min(minGap, spans[i]!.from - spans[i - 1]!.to);
      }
      console.log(
        `${total} locked increments by 2 Curator + 3 rxzk processes in ${elapsed.toFixed(0)} ms; ` +
          `${switches} switches between kinds; smallest cross-kind handoff gap ${minGap.toFixed(2)} ms`,
      );

      // Nothing left behind under the lock path.
      await eventually(async () => {
        const { children } = await admin.children(lock).catch(() => ({ children: [] as string[] }));
        expect(children).toEqual([]);
      }, 15_000);
    }, 240_000);
  },
);
