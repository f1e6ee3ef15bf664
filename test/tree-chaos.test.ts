/**
 * Consistency under chaos, after Curator's TestCuratorCacheConsistency: writers mutate a tree on a
 * 3-node ensemble while one server is killed and restarted; tree$ must end equal to a fresh full read,
 * and its events must never report the impossible.
 */
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { tree$, treeEvents$, type TreeEvent, type ZkClient } from '../src/index.js';
import { eventually, sleep, zkSuite } from './support/fixture.js';

const zk = zkSuite({ ensemble: 3, tickTime: 500 });
const SECONDS = Number(process.env['RXZK_CHAOS_SECONDS'] ?? 30);

async function fullRead(c: ZkClient, root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (path: string): Promise<void> => {
    const [{ data }, { children }] = await Promise.all([c.get(path), c.children(path)]);
    out.set(path, data.toString());
    await Promise.all(children.map((k) => walk(`${path}/${k}`)));
  };
  await walk(root);
  return out;
}

describe('tree$ under chaos', () => {
  it(
    `stays consistent through ${SECONDS} s of random writes and a server kill/restart`,
    { timeout: (SECONDS + 90) * 1000 },
    async () => {
      const root = `${zk.root}/chaos`;
      const watcher = zk.client({ sessionTimeout: 6_000 });
      const writers = [0, 1, 2].map(() => zk.client({ sessionTimeout: 6_000 }));
      await writers[0]!.create(root, '');
      const events: TreeEvent[] = [];
      const impossible: string[] = [];
      const known = new Set<string>();
      const sub = treeEvents$(watcher, root).subscribe((e) => {
        events.push(e);
        if (e.type === 'initialized') return;
        const has = known.has(e.node.path);
        if (e.type === 'added' && has) impossible.push(`added twice ${e.node.path}`);
        if (e.type !== 'added' && !has) impossible.push(`${e.type} of unknown ${e.node.path}`);
        if (e.type === 'removed') known.delete(e.node.path);
        else known.add(e.node.path);
      });

      let ops = 0;
      let running = true;
      const names = ['a', 'b', 'c', 'd'];
      const random = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
      const work = writers.map(async (w) => {
        while (running) {
          const parent = `${root}/${random(names)}`;
          const leaf = `${parent}/${random(names)}${Math.floor(Math.random() * 5)}`;
          const op = Math.random();
          const attempt =
            op < 0.4
              ? w.create(leaf, `${ops}`, { createParents: true })
              : op < 0.75
                ? w.set(random([leaf, parent]), `${ops}`)
                : w.delete(random([leaf, leaf, parent]));
          await attempt.then(
            () => ops++,
            () => undefined,
          );
        }
      });

      const server = zk.ensemble!.servers[1]!;
      await sleep((SECONDS * 1000) / 3);
      await server.stop();
      await sleep((SECONDS * 1000) / 3);
      await server.start();
      await sleep((SECONDS * 1000) / 3);
      running = false;
      await Promise.all(work);

      const expected = await fullRead(writers[0]!, root);
      await eventually(async () => {
        const t = await firstValueFrom(tree$(watcher, root));
        expect(new Map([...t.nodes].map(([p, n]) => [p, n.data.toString()]))).toEqual(expected);
      }, 30_000);
      expect(impossible).toEqual([]);
      expect([...known].sort()).toEqual([...expected.keys()].sort());
      console.log(
        `chaos: ${ops} writes in ${SECONDS} s, ${events.length} events, final tree ${expected.size} nodes`,
      );
      sub.unsubscribe();
      await zk.ensemble!.waitForQuorum();
    },
  );
});
