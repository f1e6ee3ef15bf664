/**
 * The benchmark suite: rxzk against Apache Curator 5.4 (Java), kazoo 2.8 (Python) and the raw-binding
 * floor, side by side on the same ZooKeeper in one run, interleaved round by round.
 *
 *   npm run bench                          every scenario, single server and 3-node ensemble; writes
 *                                          bench/results/<time>/ (run.json, SVGs) and BENCHMARKS.md
 *   npm run bench -- lock change           some scenarios (lock failover change tree queue fanout)
 *   npm run bench -- --quick               tiny parameters, one round (a smoke run)
 *
 * Options: --topology single|ensemble|single,ensemble  --peers rxzk,curator,kazoo,floor
 *   --rounds N  --warmup N  --set <scenario>.<param>=<value>  --fsync (forceSync=yes on the servers)
 *   --out DIR (where run.json and the SVGs go)  --publish (also write BENCHMARKS.md)  --verbose
 * A run that is not complete (some scenarios, peers or topologies, --quick, overrides) goes to
 * bench/results/partial/ and leaves BENCHMARKS.md alone unless --publish is given.
 *
 * Each peer is one worker process (peers.ts, protocol.ts) that times its own work with its own
 * monotonic clock; the orchestrator only sequences rounds, checks results and probes the server. A peer
 * that fails anywhere in a scenario (start, setup, a round, a broken guarantee) is reported with the
 * reason, and that scenario gets no comparison table: the exit code is then 1.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TransportHandle } from '../../src/index.js';
import { liveSessions } from '../../test/support/fourLetter.js';
import { compileCuratorPeer, peerCommand, PeerProcess, PYTHON, type Compiled } from './peers.js';
import {
  PEERS,
  SCENARIOS,
  type Params,
  type PeerInfo,
  type PeerName,
  type ScenarioName,
  type StepResult,
} from './protocol.js';
import {
  PEER_LABELS,
  SPECS,
  summarize,
  type PeerSummary,
  type RoundRecord,
  type ScenarioSpec,
} from './scenarios.js';
import {
  adminHandle,
  createFanout,
  createTree,
  removeTree,
  SERVER_JVM_FLAGS,
  settledWatchCount,
  startServers,
  type BenchServers,
  type Topology,
} from './servers.js';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const BENCH_ROOT = '/rxzk-bench';
const FIXTURES = `${BENCH_ROOT}/fixtures`;
/** Every peer's sessions ask for this (the server grants it: 2..20 ticks of 2 s). */
const SESSION_TIMEOUT_MS = 10_000;
const HELLO_TIMEOUT_MS = 120_000;
const SETUP_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 600_000;
const TEARDOWN_TIMEOUT_MS = 120_000;

interface Options {
  scenarios: ScenarioName[];
  topologies: Topology[];
  peers: PeerName[];
  quick: boolean;
  rounds: number | undefined;
  warmup: number | undefined;
  overrides: Record<string, Record<string, number | string>>;
  out: string | undefined;
  publish: boolean;
  fsync: boolean;
  verbose: boolean;
}

function usage(message: string): never {
  console.error(`bench: ${message}\nsee the comment at the top of bench/suite/run.ts for the options`);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    scenarios: [],
    topologies: ['single', 'ensemble'],
    peers: [...PEERS],
    quick: false,
    rounds: undefined,
    warmup: undefined,
    overrides: {},
    out: undefined,
    publish: false,
    fsync: false,
    verbose: false,
  };
  const list = <T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] => {
    const items = (value ?? '').split(',').filter(Boolean);
    for (const item of items) if (!allowed.includes(item as T)) usage(`unknown ${what} '${item}'`);
    if (items.length === 0) usage(`--${what} needs a value`);
    return items as T[];
  };
  const count = (value: string | undefined, flag: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0) usage(`${flag} needs a whole number`);
    return parsed;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string | undefined => argv[++i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--publish') options.publish = true;
    else if (arg === '--fsync') options.fsync = true;
    else if (arg === '--verbose') options.verbose = true;
    else if (arg === '--topology')
      options.topologies = list(value(), ['single', 'ensemble'] as const, 'topology');
    else if (arg === '--peers') options.peers = list(value(), PEERS, 'peers');
    else if (arg === '--rounds') options.rounds = Math.max(1, count(value(), '--rounds'));
    else if (arg === '--warmup') options.warmup = count(value(), '--warmup');
    else if (arg === '--out') options.out = value() ?? usage('--out needs a directory');
    else if (arg === '--set') {
      const match = /^(\w+)\.(\w+)=(.+)$/.exec(value() ?? '');
      if (!match || !SCENARIOS.includes(match[1] as ScenarioName))
        usage('--set wants <scenario>.<param>=<value>');
      const number = Number(match[3]);
      (options.overrides[match[1]!] ??= {})[match[2]!] = Number.isFinite(number) ? number : match[3]!;
    } else if (SCENARIOS.includes(arg as ScenarioName)) options.scenarios.push(arg as ScenarioName);
    else usage(`unknown argument '${arg}'`);
  }
  if (options.scenarios.length === 0) options.scenarios = [...SCENARIOS];
  return options;
}

const log = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};

/** The first line of an error (the rest, a stack trace, goes to the JSON). */
const firstLine = (text: string): string => text.split('\n').find((l) => l.trim() !== '') ?? text;

type PeerRecord =
  | { ok: true; rounds: RoundRecord[]; summary?: PeerSummary }
  | { ok: false; error: string; rounds: RoundRecord[] };

interface ScenarioRecord {
  scenario: ScenarioName;
  title: string;
  measures: string;
  headline: ScenarioSpec['headline'];
  samplesLabel: string | undefined;
  params: Params;
  rounds: number;
  warmup: number;
  /** The order peers ran in, per measured round. */
  order: PeerName[][];
  peers: Partial<Record<PeerName, PeerRecord>>;
  /** Nodes the orchestrator deleted under the scenario's paths after every teardown (the peers' dirs). */
  cleanedNodes: number;
  durationS: number;
}

async function machine(): Promise<Record<string, unknown>> {
  let docker = 'unknown';
  try {
    docker = (await exec('docker', ['version', '--format', '{{.Server.Version}}'])).stdout.trim();
  } catch {
    // Reported as unknown.
  }
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    docker,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** Peers in round `r`'s order: the list rotated by r (A B C D, B C D A, ...). */
const rotate = <T>(items: readonly T[], r: number): T[] => {
  const k = items.length === 0 ? 0 : r % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
};

async function runScenario(
  spec: ScenarioSpec,
  options: Options,
  servers: BenchServers,
  admin: TransportHandle,
  workers: ReadonlyMap<PeerName, PeerProcess>,
  notStarted: ReadonlyMap<PeerName, string>,
): Promise<ScenarioRecord> {
  const began = performance.now();
  const base = options.quick ? spec.params.quick : spec.params.full;
  const params: Record<string, number | string> = { ...base, ...options.overrides[spec.name] };
  if (spec.fixture === 'tree') {
    params['fixture'] = `${FIXTURES}/tree`;
    log(`${spec.name}: creating the tree fixture`);
    await createTree(admin, `${FIXTURES}/tree`, Number(params['children']), Number(params['grandchildren']));
  } else if (spec.fixture === 'fanout') {
    params['fixture'] = `${FIXTURES}/fanout`;
    await createFanout(admin, `${FIXTURES}/fanout`, Number(params['paths']));
  }
  const rounds = options.rounds ?? (options.quick ? spec.rounds.quick : spec.rounds.full);
  const warmup = options.warmup ?? (options.quick ? spec.warmup.quick : spec.warmup.full);
  const record: ScenarioRecord = {
    scenario: spec.name,
    title: spec.title,
    measures: spec.measures,
    headline: spec.headline,
    samplesLabel: spec.samplesLabel,
    params,
    rounds,
    warmup,
    order: [],
    peers: {},
    cleanedNodes: 0,
    durationS: 0,
  };
  const fail = (peer: PeerName, error: string): void => {
    const previous = record.peers[peer];
    record.peers[peer] = { ok: false, error, rounds: previous?.rounds ?? [] };
    log(`${spec.name}/${servers.topology}: ${peer} FAILED: ${firstLine(error)}`);
  };
  const live: PeerName[] = [];
  for (const peer of options.peers) {
    const worker = workers.get(peer);
    if (!worker) {
      fail(peer, `did not start: ${notStarted.get(peer) ?? 'unknown reason'}`);
      continue;
    }
    if (worker.dead) {
      fail(peer, `its worker died earlier: ${worker.dead}`);
      continue;
    }
    const reply = await worker
      .request(
        {
          cmd: 'setup',
          scenario: spec.name,
          connect: servers.clientConnect,
          root: `${BENCH_ROOT}/${spec.name}/${peer}`,
          sessionTimeout: SESSION_TIMEOUT_MS,
          params,
        },
        SETUP_TIMEOUT_MS,
      )
      .catch((error: Error) => ({ ok: false as const, error: error.message }));
    if (!reply.ok) {
      fail(peer, `setup: ${reply.error}`);
      continue;
    }
    record.peers[peer] = { ok: true, rounds: [] };
    live.push(peer);
  }

  const ok = (peer: PeerName): boolean => record.peers[peer]?.ok === true;
  for (let r = 0; r < warmup + rounds; r++) {
    const order = rotate(live, r).filter(ok);
    const measured = r >= warmup;
    if (measured) record.order.push(order);
    log(
      `${spec.name}/${servers.topology}: ${measured ? `round ${r - warmup + 1}/${rounds}` : 'warm-up'} (${order.join(' ')})`,
    );
    for (const peer of order) {
      const worker = workers.get(peer)!;
      const steps: Record<string, StepResult> = {};
      const probes: Record<string, number> = {};
      try {
        for (const step of spec.steps) {
          if (spec.name === 'fanout' && step === 'subscribe') {
            probes['watchesBefore'] = await settledWatchCount(servers.clientConnect);
          }
          const reply = await worker
            .request({ cmd: 'step', scenario: spec.name, step, round: r }, STEP_TIMEOUT_MS)
            .catch((error: Error) => ({ ok: false as const, error: error.message }));
          if (!reply.ok)
            throw new Error(`${measured ? `round ${r - warmup + 1}` : 'warm-up'}, ${step}: ${reply.error}`);
          const result = reply.result ?? {};
          const problem = spec.check(result, params, step);
          if (problem)
            throw new Error(
              `check failed (${measured ? `round ${r - warmup + 1}` : 'warm-up'}, ${step}): ${problem}`,
            );
          steps[step] = result;
          if (spec.name === 'fanout' && (step === 'subscribe' || step === 'unsubscribe')) {
            const watches = (await settledWatchCount(servers.clientConnect)) - (probes['watchesBefore'] ?? 0);
            probes[step === 'subscribe' ? 'watchesSubscribed' : 'watchesLeft'] = watches;
          }
        }
        if (measured) {
          const entry = record.peers[peer];
          if (entry?.ok) entry.rounds.push({ round: r - warmup, steps, probes });
        }
      } catch (error) {
        fail(peer, error instanceof Error ? error.message : String(error));
      }
    }
  }

  for (const peer of live) {
    const worker = workers.get(peer)!;
    if (worker.dead) {
      if (ok(peer)) fail(peer, worker.dead);
      continue;
    }
    const reply = await worker
      .request({ cmd: 'teardown', scenario: spec.name }, TEARDOWN_TIMEOUT_MS)
      .catch((error: Error) => ({ ok: false as const, error: error.message }));
    if (!reply.ok && ok(peer)) fail(peer, `teardown: ${reply.error}`);
  }
  for (const peer of options.peers) {
    const entry = record.peers[peer];
    if (entry?.ok) entry.summary = summarize(spec, entry.rounds);
  }
  record.cleanedNodes = await removeTree(admin, `${BENCH_ROOT}/${spec.name}`).catch(() => -1);
  if (spec.fixture) await removeTree(admin, `${FIXTURES}/${spec.fixture}`);
  record.durationS = Math.round((performance.now() - began) / 100) / 10;
  return record;
}

/** Sessions still on the server once every worker has exited (the admin's own left out): must be 0. */
async function sessionsLeft(connect: string, admin: TransportHandle): Promise<number> {
  const own = BigInt(`0x${admin.sessionId ?? '0'}`);
  const others = async (): Promise<number> =>
    (await liveSessions(connect)).filter((id) => BigInt(id) !== own).length;
  const deadline = performance.now() + 15_000;
  let left = await others();
  while (left > 0 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    left = await others();
  }
  return left;
}

const hints: Partial<Record<PeerName, string>> = {
  kazoo: `(kazoo 2.8 for ${PYTHON}: apt-get install python3-kazoo)`,
  curator: '(apt-get install libcurator-recipes-java default-jdk-headless)',
};

async function startWorkers(
  options: Options,
  curator: Compiled | undefined,
  curatorError: string | undefined,
  peerInfo: Partial<Record<PeerName, { command: string; info?: PeerInfo; error?: string }>>,
): Promise<{ workers: Map<PeerName, PeerProcess>; notStarted: Map<PeerName, string> }> {
  const workers = new Map<PeerName, PeerProcess>();
  const notStarted = new Map<PeerName, string>();
  for (const peer of options.peers) {
    if (peer === 'curator' && !curator) {
      notStarted.set(peer, `${curatorError ?? 'not compiled'} ${hints.curator}`);
      peerInfo[peer] = { command: 'javac CuratorPeer.java', error: notStarted.get(peer)! };
      continue;
    }
    const command = peerCommand(peer, curator);
    const worker = new PeerProcess(peer, command, options.verbose);
    const hello = await worker
      .request({ cmd: 'hello' }, HELLO_TIMEOUT_MS)
      .catch((error: Error) => ({ ok: false as const, error: error.message }));
    const printable = command.map((part) => (part.startsWith(repo) ? relative(repo, part) : part)).join(' ');
    if (!hello.ok) {
      const reason = `${hello.error} ${hints[peer] ?? ''}`.trim();
      notStarted.set(peer, reason);
      peerInfo[peer] = { command: printable, error: reason };
      log(`${peer} did not start: ${firstLine(reason)}`);
      await worker.close();
      continue;
    }
    peerInfo[peer] = {
      command: printable.replace(/-cp \S+/, '-cp <Curator jars>:<classes>'),
      info: hello.info ?? {},
    };
    workers.set(peer, worker);
  }
  return { workers, notStarted };
}

/** One line per scenario and topology: the headline figure of each peer, or why there is no comparison. */
function printSummary(topology: string, record: ScenarioRecord): void {
  const failed = Object.entries(record.peers).filter(([, p]) => !p.ok) as [PeerName, { error: string }][];
  if (failed.length > 0) {
    console.log(
      `${record.scenario} (${topology}): NO COMPARISON: ${failed.map(([peer, p]) => `${PEER_LABELS[peer]} failed: ${firstLine(p.error)}`).join('; ')}`,
    );
    return;
  }
  const parts: string[] = [];
  for (const [peer, entry] of Object.entries(record.peers) as [PeerName, PeerRecord][]) {
    if (!entry.ok || !entry.summary) continue;
    const s = entry.summary;
    parts.push(
      record.headline.kind === 'throughput'
        ? `${PEER_LABELS[peer]} ${s.throughput?.median.toFixed(0)}${record.headline.unit}`
        : `${PEER_LABELS[peer]} p50 ${s.samples?.median.toFixed(2)} ms p99 ${s.samples?.p99.toFixed(2)} ms`,
    );
  }
  console.log(`${record.scenario} (${topology}): ${parts.join(' | ')}`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const complete =
    !options.quick &&
    options.scenarios.length === SCENARIOS.length &&
    options.peers.length === PEERS.length &&
    options.topologies.length === 2 &&
    options.rounds === undefined &&
    options.warmup === undefined &&
    Object.keys(options.overrides).length === 0;
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const outDir = resolve(options.out ?? join(repo, 'bench/results', complete ? stamp : `partial/${stamp}`));
  const publish = options.publish || (complete && options.out === undefined);
  mkdirSync(outDir, { recursive: true });

  const peerInfo: Partial<Record<PeerName, { command: string; info?: PeerInfo; error?: string }>> = {};
  const run = {
    schema: 1,
    run: {
      startedAt: startedAt.toISOString(),
      finishedAt: '',
      durationS: 0,
      argv: process.argv.slice(2),
      complete,
      quick: options.quick,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      serverImage: process.env['RXZK_ZK_IMAGE'] ?? 'zookeeper:3.8',
      serverJvmFlags: SERVER_JVM_FLAGS,
      forceSync: options.fsync,
    },
    machine: await machine(),
    peers: peerInfo,
    topologies: [] as {
      name: Topology;
      clientConnect: string;
      servers: BenchServers['servers'];
      scenarios: ScenarioRecord[];
      sessionsLeft: number;
    }[],
  };

  let curator: Compiled | undefined;
  let curatorError: string | undefined;
  if (options.peers.includes('curator')) {
    log('compiling the Curator peer');
    curator = await compileCuratorPeer().catch((error: Error) => {
      curatorError = error.message;
      return undefined;
    });
  }
  try {
    for (const topology of options.topologies) {
      log(`starting ZooKeeper (${topology})`);
      const servers = await startServers(topology, options.fsync);
      try {
        const { workers, notStarted } = await startWorkers(options, curator, curatorError, peerInfo);
        const admin = await adminHandle(servers.clientConnect);
        const entry = {
          name: topology,
          clientConnect: servers.clientConnect,
          servers: servers.servers,
          scenarios: [] as ScenarioRecord[],
          sessionsLeft: -1,
        };
        run.topologies.push(entry);
        try {
          for (const name of options.scenarios) {
            const record = await runScenario(SPECS[name], options, servers, admin, workers, notStarted);
            entry.scenarios.push(record);
            printSummary(topology, record);
          }
        } finally {
          for (const worker of workers.values()) await worker.close();
          entry.sessionsLeft = await sessionsLeft(servers.clientConnect, admin);
          await admin.close();
        }
      } finally {
        await servers.close();
      }
    }
  } finally {
    curator?.remove();
  }

  const finishedAt = new Date();
  run.run.finishedAt = finishedAt.toISOString();
  run.run.durationS = Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000);
  (run.machine as Record<string, unknown>)['loadAverageAtEnd'] = os
    .loadavg()
    .map((x) => Math.round(x * 100) / 100);
  const json = join(outDir, 'run.json');
  // Compact, numbers to 0.1 µs (ms with 4 decimals): thousands of samples per scenario and peer.
  const rounded = (_key: string, value: unknown): unknown =>
    typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1e4) / 1e4 : value;
  writeFileSync(json, `${JSON.stringify(run, rounded)}\n`);
  log(`wrote ${relative(process.cwd(), json)}`);

  const md = publish ? join(repo, 'BENCHMARKS.md') : join(outDir, 'report.md');
  const report = await exec(process.execPath, [join(repo, 'scripts/bench-report.mjs'), json, '--md', md], {
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`scripts/bench-report.mjs failed: ${error.stderr ?? error.message}`);
  });
  process.stderr.write(report.stdout);

  const failures = run.topologies.flatMap((t) =>
    t.scenarios.flatMap((s) =>
      Object.values(s.peers)
        .filter((p) => !p.ok)
        .map(() => `${s.scenario}/${t.name}`),
    ),
  );
  if (failures.length > 0) {
    console.log(
      `\nNo comparison for ${[...new Set(failures)].join(', ')}: a peer failed (reasons above and in ${relative(process.cwd(), json)}).`,
    );
    process.exitCode = 1;
  }
  log(
    `done in ${run.run.durationS} s; report: ${relative(process.cwd(), md)} (${relative(process.cwd(), dirname(json))})`,
  );
}

// Interrupted (Ctrl-C, a test's timeout): exit through 'exit' so the harness removes its containers.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping`);
    process.exit(130);
  });
}

// A run that takes longer than this is broken (the full run takes well under an hour).
const watchdog = setTimeout(() => {
  console.error('bench: did not finish within 3 hours');
  process.exit(1);
}, 3 * 3600_000);
watchdog.unref();
await main();
