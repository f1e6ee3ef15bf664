/**
 * The benchmark suite cannot rot: a quick run of every scenario by every peer (rxzk, Curator in Java,
 * kazoo in Python, the raw floor) on a real ZooKeeper ends with a full comparison table per scenario
 * and its charts; and a peer that cannot run gets a refusal naming it and why, not a table with holes.
 * Figures are not asserted (the machine is shared); what each peer did is (every acquisition, failover,
 * change, node, item and subscription; no broken guarantee; rxzk and the floor leave no server watch).
 * Skipped, by name and with the reason, only when Java/javac/Curator's jars or kazoo are missing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PEERS, SCENARIOS } from '../bench/suite/protocol.js';
import { SPECS, treeNodes } from '../bench/suite/scenarios.js';
import { curatorMissing } from './support/curator.js';

const repo = fileURLToPath(new URL('../', import.meta.url));

function kazooMissing(): string | undefined {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import kazoo'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'kazoo is not importable by /usr/bin/python3 (apt-get install python3-kazoo)';
  }
}
const reason = curatorMissing() ?? kazooMissing();
if (reason) console.warn(`benchmark smoke test skipped: ${reason}`);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the suite (tsx, measuring src/ so no build is needed) with light server flags; bounded. */
function bench(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000) {
  const out = mkdtempSync(join(tmpdir(), 'rxzk-bench-smoke-'));
  dirs.push(out);
  return new Promise<{ code: number | null; stdout: string; stderr: string; out: string }>(
    (resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(repo, 'bench/suite/run.ts'), ...args, '--topology', 'single', '--out', out],
        {
          cwd: repo,
          env: {
            ...process.env,
            RXZK_BENCH_LIB: join(repo, 'src/index.ts'),
            RXZK_BENCH_SERVER_JVM: '-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1',
            RXZK_BENCH_CURATOR_JVM: '-Xmx256m',
            ...env,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        // SIGTERM first: the suite then removes its ZooKeeper container on the way out.
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
        reject(new Error(`the bench did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
      }, timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr, out });
      });
    },
  );
}

interface PeerRecord {
  ok: boolean;
  error?: string;
  rounds: { steps: Record<string, Record<string, unknown>>; probes: Record<string, number> }[];
  summary?: { samples?: { n: number; median: number }; throughput?: { median: number } };
}
interface Run {
  run: { complete: boolean };
  peers: Record<string, { info?: Record<string, string>; error?: string }>;
  topologies: {
    name: string;
    sessionsLeft: number;
    scenarios: { scenario: string; params: Record<string, number>; peers: Record<string, PeerRecord> }[];
  }[];
}

describe.skipIf(reason !== undefined)(
  `benchmark suite smoke run${reason ? ` (skipped: ${reason})` : ''}`,
  () => {
    it('every peer runs every scenario (quick) and the report has a full table and charts per scenario', async () => {
      const { code, stdout, stderr, out } = await bench(['--quick']);
      expect(code, `${stdout}\n${stderr}`).toBe(0);
      expect(stdout).not.toContain('NO COMPARISON');
      const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as Run;
      expect(run.run.complete).toBe(false);
      for (const peer of PEERS) expect(run.peers[peer]?.info, `${peer} said hello`).toBeDefined();
      expect(run.peers['curator']!.info!['curator']).toBe('5.4.0');
      expect(run.peers['kazoo']!.info!['kazoo']).toBe('2.8.0');
      const [single] = run.topologies;
      expect(single!.sessionsLeft, 'sessions left on the server after the workers exited').toBe(0);
      expect(single!.scenarios.map((s) => s.scenario)).toEqual([...SCENARIOS]);
      const quick = (name: keyof typeof SPECS) => SPECS[name].params.quick as Record<string, number>;
      for (const scenario of single!.scenarios) {
        for (const peer of PEERS) {
          const record = scenario.peers[peer];
          const what = `${peer} in ${scenario.scenario}`;
          expect(record?.error, what).toBeUndefined();
          expect(record?.ok, what).toBe(true);
          expect(record!.rounds, what).toHaveLength(1);
          const steps = record!.rounds[0]!.steps;
          const round = steps['round'] ?? {};
          switch (scenario.scenario) {
            case 'lock':
              expect(round['acquisitions'], what).toBe(
                quick('lock')['contenders']! * quick('lock')['turns']!,
              );
              expect(round['overlaps'], what).toBe(0);
              expect(record!.summary!.throughput!.median, what).toBeGreaterThan(0);
              break;
            case 'failover':
              expect(round['failovers'], what).toBe(quick('failover')['failovers']);
              expect(round['overlaps'], what).toBe(0);
              break;
            case 'change': {
              expect(record!.summary!.samples!.n, what).toBe(quick('change')['changes']);
              // Timed from the set call, each change takes at least as long as timed from its resolution.
              const fromCall = round['fromCall'] as number[];
              const samples = round['samples'] as number[];
              expect(fromCall, what).toHaveLength(samples.length);
              fromCall.forEach((t, i) =>
                expect(t, `${what}, change ${i}`).toBeGreaterThanOrEqual(samples[i]!),
              );
              break;
            }
            case 'tree':
              expect(round['nodes'], what).toBe(treeNodes(quick('tree')));
              break;
            case 'queue':
              expect(round['delivered'], what).toBe(quick('queue')['items']);
              expect(round['leftover'], what).toBe(0);
              break;
            case 'fanout': {
              const paths = quick('fanout')['paths']!;
              expect(steps['subscribe']!['subscriptions'], what).toBe(
                paths * quick('fanout')['subscribers']!,
              );
              expect(record!.summary!.samples!.n, what).toBe(quick('fanout')['changes']);
              const probes = record!.rounds[0]!.probes;
              // A shared watch per path at most (Curator's persistent watch counts as a data and a child watch).
              expect(probes['watchesSubscribed'], what).toBeGreaterThanOrEqual(paths);
              if (peer === 'rxzk' || peer === 'floor') {
                expect(probes['watchesSubscribed'], what).toBe(paths);
                expect(probes['watchesLeft'], `${what}: watches left after unsubscribing`).toBe(0);
              }
              break;
            }
          }
        }
      }
      const report = readFileSync(join(out, 'report.md'), 'utf8');
      expect(report).not.toContain('No comparison');
      for (const name of SCENARIOS) {
        const section = report.slice(report.indexOf(SPECS[name].title));
        const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| server |')));
        for (const label of [
          '| rxzk |',
          '| Curator 5.4 |',
          '| kazoo 2.8 |',
          '| floor (raw C binding) |',
          'rxzk / best peer',
        ]) {
          expect(table, `${name} table row ${label}`).toContain(label);
        }
        const svg = readFileSync(join(out, `${name}.svg`), 'utf8');
        expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), `${name}.svg`).toBe(true);
        expect(svg.trimEnd().endsWith('</svg>'), `${name}.svg`).toBe(true);
        expect(svg, `${name}.svg uses no external resource`).not.toMatch(/href=|url\(|@import|<script/);
        for (const label of ['rxzk', 'Curator 5.4', 'kazoo 2.8', 'floor (raw C binding)'])
          expect(svg).toContain(label);
      }
      expect(existsSync(join(out, 'lock-rate.svg'))).toBe(true);
      expect(existsSync(join(out, 'fanout-memory.svg'))).toBe(true);
    }, 300_000);

    it('refuses the comparison when a peer cannot run, and says which and why', async () => {
      const fake = mkdtempSync(join(tmpdir(), 'rxzk-bench-fake-'));
      dirs.push(fake);
      const python = join(fake, 'python3');
      writeFileSync(
        python,
        '#!/bin/sh\necho "ModuleNotFoundError: No module named kazoo (fake)" >&2\nexit 3\n',
      );
      chmodSync(python, 0o755);
      const { code, stdout, out } = await bench(['change', '--quick', '--peers', 'rxzk,kazoo,floor'], {
        RXZK_BENCH_PYTHON: python,
      });
      expect(code, stdout).toBe(1);
      expect(stdout).toContain('change (single): NO COMPARISON: kazoo 2.8 failed: did not start');
      expect(stdout).toContain('No comparison for change/single');
      const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as Run;
      expect(run.peers['kazoo']!.error).toContain('No module named kazoo (fake)');
      expect(run.peers['kazoo']!.error).toContain('apt-get install python3-kazoo');
      const change = run.topologies[0]!.scenarios[0]!;
      expect(change.peers['kazoo']!.ok).toBe(false);
      expect(change.peers['rxzk']!.ok, 'the peers that ran are still recorded').toBe(true);
      const report = readFileSync(join(out, 'report.md'), 'utf8');
      expect(report).toContain('**No comparison on the single server**: kazoo 2.8 failed: did not start');
      expect(report, 'no table with holes').not.toContain('| server | peer |');
      expect(existsSync(join(out, 'change.svg')), 'no chart with holes').toBe(false);
    }, 300_000);
  },
);

describe('scenario checks', () => {
  it('a round that broke a guarantee or missed work is refused, naming what', () => {
    const lock = SPECS.lock.params.quick;
    expect(SPECS.lock.check({ acquisitions: 40, overlaps: 0, maxHolders: 1 }, lock, 'round')).toBeUndefined();
    expect(SPECS.lock.check({ acquisitions: 40, overlaps: 1, maxHolders: 1 }, lock, 'round')).toMatch(
      /mutual exclusion broken 1 times/,
    );
    expect(SPECS.lock.check({ acquisitions: 40, overlaps: 0, maxHolders: 2 }, lock, 'round')).toMatch(
      /2 holders/,
    );
    expect(SPECS.lock.check({ acquisitions: 39, overlaps: 0, maxHolders: 1 }, lock, 'round')).toMatch(
      /39 acquisitions/,
    );
    expect(SPECS.failover.check({ failovers: 5, overlaps: 1 }, SPECS.failover.params.quick, 'round')).toMatch(
      /two leaders at once/,
    );
    expect(SPECS.tree.check({ nodes: 189 }, SPECS.tree.params.quick, 'round')).toMatch(
      /189 nodes loaded, expected 190/,
    );
    expect(SPECS.queue.check({ delivered: 30, leftover: 2 }, SPECS.queue.params.quick, 'round')).toMatch(
      /never acked/,
    );
    expect(SPECS.change.check({ samples: [1, 2] }, SPECS.change.params.quick, 'round')).toMatch(
      /2 changes seen/,
    );
    expect(SPECS.fanout.check({ subscriptions: 299 }, SPECS.fanout.params.quick, 'subscribe')).toMatch(/299/);
  });
});
