/**
 * The double barrier against a real ZooKeeper, 10 members each a separate OS process
 * (test/coordination/barrier-worker.ts), each leaving after a random 0..200 ms of work. ZooKeeper is
 * the witness: the `ready` node that lets members in was created after all ten member nodes; on
 * entering, each member's listing shows `ready` and every member node (present, or already created and
 * deleted by a member that left: the parent's cversion counts both); after leaving, none is left. And
 * with nine members nobody enters until the tenth arrives.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { READY } from '../../src/recipes/double-barrier.js';
import { eventually, sleep, zkSuite } from '../support/fixture.js';
import { allExited, workerPool, type WorkerProcess } from '../support/processes.js';

const zk = zkSuite({ tickTime: 500 });
const WORKER = new URL('./barrier-worker.ts', import.meta.url);
const MEMBERS = 10;

interface Event {
  ev: string;
  t: number;
  node?: string;
  czxid?: number;
  children?: string[];
  cversion?: number;
  readyCzxid?: number | null;
  workMs?: number;
  message?: string;
}
type Member = WorkerProcess<Event>;

const processes = workerPool();
afterEach(() => processes.stopAll());

const member = (barrier: string): Member =>
  processes.spawn<Event>(WORKER, {
    ZK_CONNECT: zk.connectString,
    BARRIER: barrier,
    MEMBERS: String(MEMBERS),
    WORK_MS: '200',
  });

const event = (m: Member, ev: string): Event => {
  const found = m.events.find((e) => e.ev === ev);
  if (!found) throw new Error(`no ${ev} event among ${JSON.stringify(m.events)}`);
  return found;
};

/** Checks a complete run of MEMBERS members; returns their member nodes' czxids, by node name. */
function expectTogether(members: readonly Member[]): Map<string, number> {
  expect(members.flatMap((m) => m.events.filter((e) => e.ev === 'error'))).toEqual([]);
  for (const m of members) {
    expect(m.events.map((e) => e.ev)).toEqual(['waiting', 'entered', 'leaving', 'left']);
  }
  const czxids = new Map(members.map((m) => [event(m, 'waiting').node!, event(m, 'waiting').czxid!]));
  expect(czxids.size).toBe(MEMBERS);
  // One `ready` node, created after the last member node: nobody could enter before all ten arrived.
  const readies = new Set(members.map((m) => event(m, 'entered').readyCzxid));
  expect(readies.size).toBe(1);
  const ready = [...readies][0]!;
  expect(ready).not.toBeNull();
  expect(Math.max(...czxids.values()), 'newest member node vs `ready` (czxid)').toBeLessThan(ready);
  let allPresent = 0;
  for (const m of members) {
    const { children, cversion } = event(m, 'entered');
    const own = event(m, 'waiting').node!;
    const present = children!.filter((c) => c !== READY);
    expect(children, own).toContain(READY);
    expect(present, own).toContain(own);
    for (const name of present) expect(czxids.has(name), `${own} saw unknown ${name}`).toBe(true);
    // cversion counts every create and delete of a child: with the listing it gives both. All 11
    // nodes (10 members and `ready`) had been created; the members missing had already left.
    const created = (cversion! + children!.length) / 2;
    const deleted = (cversion! - children!.length) / 2;
    expect({ created, deleted }, `${own}: ${children!.join(', ')} at cversion ${cversion}`).toEqual({
      created: MEMBERS + 1,
      deleted: MEMBERS - present.length,
    });
    if (present.length === MEMBERS) allPresent++;
  }
  // After leaving, no member node (and no `ready`) is left: nobody left while another was inside.
  for (const m of members) expect(event(m, 'left').children, event(m, 'waiting').node).toEqual([]);
  const work = members.map((m) => event(m, 'leaving').workMs!);
  console.log(
    `double barrier: ${allPresent} of ${MEMBERS} entered listings showed all ${MEMBERS} members ` +
      `(the others after a fast member had left); work ${Math.min(...work)}..${Math.max(...work)} ms`,
  );
  return czxids;
}

async function expectEmpty(barrier: string): Promise<void> {
  const admin = zk.client();
  await eventually(async () => {
    const { children } = await admin.children(barrier).catch(() => ({ children: [] as string[] }));
    expect(children).toEqual([]);
  }, 15_000);
}

describe('double barrier across processes', () => {
  it('10 processes enter together and leave together', async () => {
    const barrier = `${zk.root}/barrier`;
    const members = Array.from({ length: MEMBERS }, () => member(barrier));
    const started = performance.now();
    expect(await allExited(members, 120_000)).toEqual(Array(MEMBERS).fill(0));
    console.log(
      `10 members through the barrier in ${(performance.now() - started).toFixed(0)} ms (incl. start)`,
    );
    expectTogether(members);
    await expectEmpty(barrier);
  }, 180_000);

  it('with 9 of 10 members nobody enters; the 10th lets all in', async () => {
    const admin = zk.client();
    const barrier = `${zk.root}/barrier`;
    const nine = Array.from({ length: MEMBERS - 1 }, () => member(barrier));
    await eventually(
      () => expect(nine.every((m) => m.events.some((e) => e.ev === 'waiting'))).toBe(true),
      60_000,
      50,
    );
    const names = nine.map((m) => event(m, 'waiting').node!).sort();
    expect((await admin.children(barrier)).children.sort()).toEqual(names);
    await sleep(2_000);
    // Nobody entered, and ZooKeeper agrees: the nine members wait, no `ready` node.
    expect(nine.flatMap((m) => m.events.filter((e) => e.ev !== 'waiting'))).toEqual([]);
    expect((await admin.children(barrier)).children.sort()).toEqual(names);
    expect(await admin.exists(`${barrier}/${READY}`)).toBeNull();
    const tenth = member(barrier);
    const all = [...nine, tenth];
    expect(await allExited(all, 60_000)).toEqual(Array(MEMBERS).fill(0));
    const czxids = expectTogether(all);
    // The tenth's node is the newest member node, and `ready` came after it.
    expect(czxids.get(event(tenth, 'waiting').node!)).toBe(Math.max(...czxids.values()));
    expect(event(tenth, 'entered').readyCzxid).toBeGreaterThan(event(tenth, 'waiting').czxid!);
    await expectEmpty(barrier);
  }, 180_000);
});
