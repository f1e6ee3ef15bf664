/**
 * One member of the double barrier in its own OS process, for the real-ZooKeeper tests. JSON lines:
 *   {"ev":"waiting","node":"<name>","czxid":n}   our member node is there (found by its owner: our
 *                                                session) with its creation zxid
 *   {"ev":"entered","children":[..],"cversion":n,"readyCzxid":n}
 *       the barrier's children listed on entering, the parent's cversion with that listing, and the
 *       `ready` node's creation zxid (our node is still there, so `ready` is too)
 *   {"ev":"leaving","workMs":n}                   after its work, a random 0..WORK_MS ms
 *   {"ev":"left","children":[..]}                 the barrier's children listed after leaving
 *   then exits 0 once the stream completes; {"ev":"error","message":".."} and exit 1 otherwise.
 *
 * The work starts once the entered listing is back, so our member node is still there when it is read.
 * env: ZK_CONNECT, BARRIER (path), MEMBERS, WORK_MS (default 200), SESSION_TIMEOUT (default 6000).
 */
import { defer, lastValueFrom, tap } from 'rxjs';
import { NoNodeError } from '../../src/errors.js';
import { doubleBarrier, READY } from '../../src/recipes/double-barrier.js';
import { connectFromEnv, env, run, say, sleep } from './worker-io.js';

const client = connectFromEnv(6_000);
const path = env('BARRIER');
const members = Number(env('MEMBERS'));
const workMs = Math.round(Math.random() * Number(env('WORK_MS', '200')));

const list = async (): Promise<{ children: string[]; cversion: number }> => {
  try {
    const { children, stat } = await client.children(path);
    return { children: children.sort(), cversion: stat.cversion };
  } catch (error) {
    // The barrier is a container: the server may remove it once it is empty.
    if (error instanceof NoNodeError) return { children: [], cversion: -1 };
    throw error;
  }
};

/** Our member node: the one whose ephemeral owner is our session. */
async function ownNode(): Promise<void> {
  const { children } = await list();
  for (const name of children) {
    const stat = await client.exists(`${path}/${name}`);
    if (stat && stat.ephemeralOwner === client.sessionId) {
      return say({ ev: 'waiting', node: name, czxid: stat.czxid });
    }
  }
  throw new Error(`no member node of session ${client.sessionId} under ${path}: ${children.join(', ')}`);
}

async function enteredChecks(): Promise<void> {
  const [{ children, cversion }, ready] = await Promise.all([list(), client.exists(`${path}/${READY}`)]);
  say({ ev: 'entered', children, cversion, readyCzxid: ready?.czxid ?? null });
}

async function main(): Promise<void> {
  // The reports, one after another (in the order of the states they are about).
  let reports: Promise<void> = Promise.resolve();
  const report = (work: () => Promise<void>): Promise<void> => (reports = reports.then(work));
  let entered: Promise<void> | undefined;
  await lastValueFrom(
    doubleBarrier(client, path, {
      members,
      // The work: subscribed once we are in; starts when our entered listing is back.
      leave: defer(async () => {
        await entered;
        await sleep(workMs);
      }),
    }).pipe(
      tap((state) => {
        if (state === 'waiting') void report(ownNode);
        if (state === 'entered') entered = report(enteredChecks);
        if (state === 'leaving') void report(async () => say({ ev: 'leaving', workMs }));
        if (state === 'left') void report(async () => say({ ev: 'left', children: (await list()).children }));
      }),
    ),
  );
  await reports;
  await client.close();
}

run(main);
