/**
 * Curator interop: a Curator 5.4 LeaderLatch process (Debian's libcurator-recipes-java, compiled here
 * with javac) and rxzk processes in one election agree on one leader, and leader$ reports it.
 * Skipped, by name and with the reason, only when java, javac or the jars are missing.
 */
import { fileURLToPath } from 'node:url';
import type { Subscription } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { leader$, type Leader } from '../../src/index.js';
import { compileCurator, curatorMissing } from '../support/curator.js';
import { eventually, zkSuite } from '../support/fixture.js';
import { expectOneLeaderAtATime, fencingLog, spawnCandidate, type Candidate } from './candidates.js';

const reason = curatorMissing();
if (reason) console.warn(`Curator interop test skipped: ${reason}`);

const zk = zkSuite({ tickTime: 500 });
let compiled: ReturnType<typeof compileCurator> | undefined;
const running: Candidate[] = [];
let watching: Subscription | undefined;

beforeAll(() => {
  if (reason) return;
  compiled = compileCurator(fileURLToPath(new URL('./interop/CuratorCandidate.java', import.meta.url)));
});
afterAll(() => {
  compiled?.remove();
});
afterEach(async () => {
  watching?.unsubscribe();
  await Promise.all(running.splice(0).map((c) => c.stop(10_000)));
});

function curator(id: string): Candidate {
  const c = spawnCandidate({
    connectString: zk.connectString,
    election: '',
    id,
    command: [
      'java',
      '-cp',
      compiled!.classPath,
      'CuratorCandidate',
      zk.connectString,
      `${zk.root}/election`,
      id,
    ],
  });
  running.push(c);
  return c;
}

function rxzk(id: string): Candidate {
  const c = spawnCandidate({ connectString: zk.connectString, election: `${zk.root}/election`, id });
  running.push(c);
  return c;
}

describe.skipIf(reason !== undefined)(
  `Curator LeaderLatch interop${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    it('Curator and rxzk candidates share one election: one leader, the same for all, and leader$ shows it', async () => {
      const observer = zk.client();
      const seen: (Leader | null)[] = [];
      watching = leader$(observer, `${zk.root}/election`).subscribe((l) => seen.push(l));

      // A Curator process leads first; rxzk candidates follow it, naming it.
      const java = curator('java-1');
      await java.next((e) => e.ev === 'leader', 30_000);
      await eventually(() => expect(seen.at(-1)?.id).toBe('java-1'), 15_000);
      const [a, b] = [rxzk('a'), rxzk('b')];
      for (const c of [a, b])
        expect((await c.next((e) => e.ev === 'follower', 30_000)).leader).toBe('java-1');

      // The Curator leader leaves: exactly one rxzk candidate takes over, and everyone agrees.
      java.send('exit');
      await java.exited;
      const next = await Promise.any([a, b].map((c) => c.next((e) => e.ev === 'leader', 15_000)));
      const leader = [a, b].find((c) => c.events.includes(next))!;
      await eventually(() => expect(seen.at(-1)?.id).toBe(leader.id), 15_000);
      expect(seen.at(-1)?.token).toBe(next.token);

      // A new Curator process joins behind and sees the rxzk leader as the leader.
      const java2 = curator('java-2');
      await java2.next((e) => e.ev === 'started', 30_000);
      const status = await eventually(async () => {
        const mark = java2.events.length;
        java2.send('status');
        const s = await java2.next((e) => e.ev === 'status', 5_000, mark);
        expect(s).toMatchObject({ leader: leader.id, hasLeadership: false });
        return s;
      }, 15_000);
      expect(status.leader).toBe(leader.id);

      // The rxzk leader resigns: the next in line leads (rxzk or Curator), and still only one at a time.
      leader.send('resign');
      const others = [a, b, java2].filter((c) => c !== leader);
      await Promise.any(others.map((c) => c.next((e) => e.ev === 'leader', 15_000)));
      await eventually(() => expect(seen.at(-1)?.id).not.toBe(leader.id), 15_000);
      expectOneLeaderAtATime(fencingLog([java, a, b, java2]));
    });
  },
);
