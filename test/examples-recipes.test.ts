/** The recipe examples run here, on a real server (and the election also as separate processes). */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { main as configWatch } from '../examples/config-watch.js';
import { demo, main as election } from '../examples/leader-election.js';
import { main as membership } from '../examples/membership.js';
import { eventually, zkSuite } from './support/fixture.js';

const zk = zkSuite({ tickTime: 500 });
const children: ReturnType<typeof spawn>[] = [];
afterEach(async () => {
  await Promise.all(
    children.splice(0).map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.on('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 5_000).unref();
        }),
    ),
  );
});

describe('recipe examples', () => {
  it('examples/leader-election.ts: leadership moves from candidate to candidate', async () => {
    const path = `${zk.root}/election`;
    const seen = await Promise.all(
      ['a', 'b', 'c'].map((id) => election({ connectString: zk.connectString, path, id, leadFor: 300 })),
    );
    // Every candidate led once, and one at a time: one led first, the others followed someone first.
    expect(seen.map((s) => s.filter((t) => t === 'leader').length)).toEqual([1, 1, 1]);
    expect(seen.filter((s) => s[0] === 'leader')).toHaveLength(1);
    expect(seen.filter((s) => s[0]!.startsWith('follower of '))).toHaveLength(2);
  });

  it('examples/leader-election.ts on the embedded engine (the README demo)', async () => {
    const seen = await demo('memory://examples-test');
    expect(seen.map((s) => s.at(-1))).toEqual(['leader', 'leader', 'leader']);
  });

  it('examples/leader-election.ts as separate processes: kill the leader and another takes over', async () => {
    const script = fileURLToPath(new URL('../examples/leader-election.ts', import.meta.url));
    const lines = new Map<string, string[]>();
    for (const id of ['w1', 'w2', 'w3']) {
      const child = spawn(process.execPath, ['--import', 'tsx', script, id], {
        env: { ...process.env, ZK_CONNECT: `${zk.connectString}${zk.root}` },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      lines.set(id, []);
      createInterface({ input: child.stdout! }).on('line', (l) => lines.get(id)!.push(l));
    }
    const leads = (id: string): boolean => lines.get(id)!.some((l) => l.includes('leads'));
    const leader = await eventually(() => {
      const leading = [...lines.keys()].filter(leads);
      expect(leading).toHaveLength(1);
      expect([...lines.values()].every((l) => l.some((x) => /leads|follows/.test(x)))).toBe(true);
      return leading[0]!;
    }, 30_000);
    const index = ['w1', 'w2', 'w3'].indexOf(leader);
    children[index]!.kill('SIGTERM');
    const next = await eventually(() => {
      const leading = [...lines.keys()].filter((id) => id !== leader && leads(id));
      expect(leading).toHaveLength(1);
      return leading[0]!;
    }, 20_000);
    expect(next).not.toBe(leader);
    expect(lines.get(leader)!.at(-1)).toContain('resigned');
  });

  it('examples/config-watch.ts', async () => {
    const result = await configWatch(zk.connectString, `${zk.root}/config`);
    expect(result.seen).toEqual([1, 2, 3]);
    // Reported to each subscription live when the bad value arrived (or joined while it was the latest).
    expect(result.invalid.length).toBeGreaterThanOrEqual(1);
    expect(result.invalid.every((m) => m.includes('limit must be a number'))).toBe(true);
  });

  it('examples/membership.ts', async () => {
    const views = await membership(zk.connectString, `${zk.root}/workers`);
    expect(views.at(-1)).toBe('nobody');
    expect(views).toContainEqual(expect.stringMatching(/^worker-1 .*, worker-2 /));
    expect(views).toContainEqual(expect.stringMatching(/^worker-2 \(/));
  });
});
