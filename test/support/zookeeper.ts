import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type * as Testcontainers from 'testcontainers';
import type { StartedTestContainer } from 'testcontainers';
import { ruok, serverMode, type ServerMode } from './fourLetter.js';
import { freePort, freePorts, LOOPBACK } from './ports.js';

// testcontainers reads these when it first talks to Docker; the dynamic import below keeps
// them ahead of it even when a test file imports this module before setting anything.
process.env['TESTCONTAINERS_HOST_OVERRIDE'] ??= LOOPBACK;
process.env['TESTCONTAINERS_RYUK_DISABLED'] ??= 'true';

/** The official image by default; CI builds a compatible local one with scripts/zk-image.sh. */
export const DEFAULT_ZK_IMAGE = 'zookeeper:3.8';

const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 200;
const LOG_LINES_KEPT = 200;
const HARNESS_LABEL = 'rxzk.harness';
const INSTANCE_LABEL = 'rxzk.instance';

// Small heap and the client compiler: three JVMs share two cores in an ensemble test,
// and startup time matters more than peak throughput.
const DEFAULT_JVM_FLAGS = '-Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:-UsePerfData';

export interface ZkOptions {
  /** Docker image; default `$RXZK_ZK_IMAGE` or the official `zookeeper:3.8`. */
  image?: string;
  /** Default 2000 (ZooKeeper's default). Session timeouts are clamped to [2, 20] ticks unless set below. */
  tickTime?: number;
  minSessionTimeout?: number;
  maxSessionTimeout?: number;
  /** Extra or overriding zoo.cfg entries. */
  config?: Record<string, string | number | boolean>;
  /** Bound on one start (container up and server answering). Default 60 s. */
  startupTimeoutMs?: number;
  /** JVM flags passed as `JVMFLAGS` (both images honour it). */
  jvmFlags?: string;
  /** Echo server logs to stderr; default when `RXZK_ZK_LOGS=1`. */
  logToStderr?: boolean;
}

export interface StartOptions {
  /**
   * `serving` (default) waits until `srvr` reports a mode (standalone, leader or follower);
   * `running` only until `ruok` answers, for servers that cannot reach a quorum on purpose.
   */
  waitFor?: 'serving' | 'running';
}

export interface StopOptions {
  /** Give the JVM this long to exit on SIGTERM before SIGKILL. Default 0: killed at once, like a crash. */
  graceMs?: number;
}

export interface ZkServer {
  /** `myid` of the server (1 for a single server). */
  readonly id: number;
  readonly host: string;
  readonly clientPort: number;
  /** `127.0.0.1:clientPort`. */
  readonly connectString: string;
  /** Host directory bind-mounted at /data (myid and snapshots). */
  readonly dataDir: string;
  /** Host directory bind-mounted at /datalog (transaction logs). */
  readonly dataLogDir: string;
  /** The zoo.cfg the server runs with. */
  readonly config: string;
  /** Whether a container is currently up for this server (paused or not). */
  readonly running: boolean;
  /** Whether the server's container is paused (see pause()). */
  readonly paused: boolean;
  /** Starts the server again on the same port with the data it had; no-op while running. */
  start(options?: StartOptions): Promise<void>;
  /** Stops the server (container removed, data kept). No-op while stopped. */
  stop(options?: StopOptions): Promise<void>;
  /**
   * Freezes the server (`docker pause`: the cgroup freezer stops every thread of the JVM). Its sockets
   * stay open and the kernel still accepts connections and buffers bytes, but nothing answers: a
   * server stalled in a GC pause or on a dead disk, that the rest of the ensemble leaves behind.
   * No-op unless running and not paused.
   */
  pause(): Promise<void>;
  /** Thaws a paused server: it goes on from where it stood, with whatever the others did meanwhile. No-op unless paused. */
  resume(): Promise<void>;
  /** Stops, deletes all data but myid, starts again: the server forgets every znode and session. */
  wipeData(options?: StartOptions): Promise<void>;
  /** `srvr` mode; `undefined` if running but not serving or not running at all. */
  mode(): Promise<ServerMode | undefined>;
  /** The last lines the server logged (kept across restarts). */
  logs(): string;
  /** Removes the container and the data directories. Idempotent. */
  close(): Promise<void>;
}

export interface ZkEnsemble {
  readonly servers: readonly ZkServer[];
  /** Every server, comma-separated. */
  readonly connectString: string;
  /** The server whose `srvr` says `Mode: leader`, waiting (bounded) for an election to finish. */
  leader(timeoutMs?: number): Promise<ZkServer>;
  /** Stops the current leader (crash-like kill) and resolves it. */
  killLeader(): Promise<ZkServer>;
  /** Waits until every running server (a paused one cannot answer: left out) is leader or follower. */
  waitForQuorum(timeoutMs?: number): Promise<void>;
  /** Starts every stopped server again (together) and waits for a quorum; nothing when all run. */
  restartStopped(): Promise<void>;
  /** Stops every server, deletes all data but myid, starts them all again. */
  wipeData(): Promise<void>;
  /** Removes every container and data directory. Idempotent. */
  close(): Promise<void>;
}

let testcontainersModule: Promise<typeof Testcontainers> | undefined;
function testcontainers(): Promise<typeof Testcontainers> {
  testcontainersModule ??= import('testcontainers');
  return testcontainersModule;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it returns a value other than undefined, at most `timeoutMs`;
 * gives up at once when `hopeless` returns a reason.
 */
async function pollUntil<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  hopeless: () => string | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const reason = hopeless();
    if (reason !== undefined) throw new Error(`gave up waiting for ${what}: ${reason}`);
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Ryuk is off (it needs a bridge network with port mapping), so a test process that dies
// without close() would leak containers and data directories; remove them on exit.
const liveContainers = new Set<string>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    if (liveContainers.size > 0) {
      try {
        execFileSync('docker', ['rm', '-f', ...liveContainers], { stdio: 'ignore', timeout: 10_000 });
      } catch {
        // Best effort: no docker CLI, or the daemon is gone already.
      }
    }
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  });
}
function trackContainer(id: string): void {
  installExitHook();
  liveContainers.add(id);
}

/** Removes containers of one start attempt that testcontainers may have left behind on failure. */
async function removeByInstanceLabel(instance: string): Promise<void> {
  try {
    const { getContainerRuntimeClient } = await testcontainers();
    const client = await getContainerRuntimeClient();
    const found = await client.container.dockerode.listContainers({
      all: true,
      filters: { label: [`${INSTANCE_LABEL}=${instance}`] },
    });
    await Promise.all(
      found.map((c) => client.container.dockerode.getContainer(c.Id).remove({ force: true, v: true })),
    );
  } catch {
    // Nothing left to remove, or Docker is unreachable; the start error says more.
  }
}

function zooCfg(options: ZkOptions, clientPort: number, quorum: readonly QuorumMember[] | undefined): string {
  const entries: Record<string, string | number | boolean> = {
    tickTime: options.tickTime ?? 2000,
    initLimit: 10,
    syncLimit: 5,
    dataDir: '/data',
    dataLogDir: '/datalog',
    clientPort,
    clientPortAddress: LOOPBACK,
    // Every test client comes from 127.0.0.1; the default cap of 60 per IP would bite.
    maxClientCnxns: 0,
    'admin.enableServer': false,
    '4lw.commands.whitelist': '*',
    // TTL nodes need extended types; local sessions would hide ephemeral-owner semantics.
    extendedTypesEnabled: true,
    localSessionsEnabled: false,
    localSessionsUpgradingEnabled: false,
    // Containers share one kernel page cache, so fsync buys nothing but slow tests.
    forceSync: 'no',
    ...(options.minSessionTimeout !== undefined ? { minSessionTimeout: options.minSessionTimeout } : {}),
    ...(options.maxSessionTimeout !== undefined ? { maxSessionTimeout: options.maxSessionTimeout } : {}),
  };
  for (const member of quorum ?? []) {
    entries[`server.${member.id}`] = `${LOOPBACK}:${member.quorumPort}:${member.electionPort}`;
  }
  if (quorum) entries['quorumListenOnAllIPs'] = false;
  Object.assign(entries, options.config);
  return (
    Object.entries(entries)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join('\n') + '\n'
  );
}

interface QuorumMember {
  id: number;
  clientPort: number;
  quorumPort: number;
  electionPort: number;
}

class ContainerZkServer implements ZkServer {
  readonly host = LOOPBACK;
  readonly connectString: string;
  readonly dataDir: string;
  readonly dataLogDir: string;
  readonly config: string;
  private container: StartedTestContainer | undefined;
  private readonly logLines: string[] = [];
  private lifecycle: Promise<void> = Promise.resolve();
  private closed = false;
  private frozen = false;

  constructor(
    readonly id: number,
    readonly clientPort: number,
    private readonly rootDir: string,
    private readonly options: ZkOptions,
    quorum: readonly QuorumMember[] | undefined,
  ) {
    this.connectString = `${LOOPBACK}:${clientPort}`;
    this.dataDir = path.join(rootDir, 'data');
    this.dataLogDir = path.join(rootDir, 'datalog');
    this.config = zooCfg(options, clientPort, quorum);
  }

  get running(): boolean {
    return this.container !== undefined;
  }

  get paused(): boolean {
    return this.frozen;
  }

  private get startupTimeoutMs(): number {
    return this.options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  }

  // start/stop/wipe/close never interleave on one server, whatever the test awaits.
  private serialize(step: () => Promise<void>): Promise<void> {
    const next = this.lifecycle.then(step);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  start(options: StartOptions = {}): Promise<void> {
    return this.serialize(async () => {
      if (this.closed) throw new Error(`ZooKeeper server ${this.id} is closed`);
      if (this.container) return;
      await this.launch(options.waitFor ?? 'serving');
    });
  }

  stop(options: StopOptions = {}): Promise<void> {
    return this.serialize(() => this.halt(options));
  }

  pause(): Promise<void> {
    return this.serialize(async () => {
      if (!this.container || this.frozen) return;
      await this.freezer('pause');
      this.frozen = true;
    });
  }

  resume(): Promise<void> {
    return this.serialize(async () => {
      if (!this.container || !this.frozen) return;
      await this.freezer('unpause');
      this.frozen = false;
    });
  }

  wipeData(options: StartOptions = {}): Promise<void> {
    return this.serialize(async () => {
      if (this.closed) throw new Error(`ZooKeeper server ${this.id} is closed`);
      await this.halt({});
      await this.wipe();
      await this.launch(options.waitFor ?? 'serving');
    });
  }

  async mode(): Promise<ServerMode | undefined> {
    if (!this.container) return undefined;
    try {
      return await serverMode(this.clientPort);
    } catch {
      return undefined;
    }
  }

  logs(): string {
    return this.logLines.join('\n');
  }

  close(): Promise<void> {
    if (this.closed) return this.lifecycle;
    this.closed = true;
    return this.serialize(async () => {
      await this.halt({}).catch(() => undefined);
      await rm(this.rootDir, { recursive: true, force: true });
      liveDirs.delete(this.rootDir);
    });
  }

  private async launch(waitFor: 'serving' | 'running'): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    await mkdir(this.dataLogDir, { recursive: true });
    await writeFile(path.join(this.dataDir, 'myid'), `${this.id}\n`);

    const started = Date.now();
    const instance = randomUUID();
    // The followed log stream ends when the container exits: a server that died on startup
    // (bad config, port taken) fails the start at once instead of after the whole timeout.
    let exited = false;
    const { GenericContainer } = await testcontainers();
    const image = this.options.image ?? process.env['RXZK_ZK_IMAGE'] ?? DEFAULT_ZK_IMAGE;
    const definition = new GenericContainer(image)
      .withNetworkMode('host')
      .withCommand(['zkServer.sh', 'start-foreground'])
      .withCopyContentToContainer([{ content: this.config, target: '/conf/zoo.cfg' }])
      .withBindMounts([
        { source: this.dataDir, target: '/data' },
        { source: this.dataLogDir, target: '/datalog' },
      ])
      .withEnvironment({
        ZOO_MY_ID: String(this.id),
        JVMFLAGS: this.options.jvmFlags ?? DEFAULT_JVM_FLAGS,
      })
      .withLabels({ [HARNESS_LABEL]: 'zookeeper', [INSTANCE_LABEL]: instance })
      .withLogConsumer((stream) => this.collectLogs(stream, () => (exited = true)))
      .withStartupTimeout(this.startupTimeoutMs);

    let container: StartedTestContainer;
    try {
      container = await withTimeout(definition.start(), this.startupTimeoutMs, `starting ${image}`);
    } catch (err) {
      await removeByInstanceLabel(instance);
      throw this.startError(`could not start container from image '${image}'`, err);
    }
    trackContainer(container.getId());
    this.container = container;

    const remaining = (): number => Math.max(1_000, this.startupTimeoutMs - (Date.now() - started));
    const hopeless = (): string | undefined => (exited ? 'the container exited' : undefined);
    try {
      await pollUntil(
        `ZooKeeper ${this.connectString} to answer ruok`,
        remaining(),
        async () => ((await ruok(this.clientPort, 2_000)) ? true : undefined),
        hopeless,
      );
      if (waitFor === 'serving') {
        await pollUntil(
          `ZooKeeper ${this.connectString} to serve (srvr Mode)`,
          remaining(),
          () => serverMode(this.clientPort, 2_000),
          hopeless,
        );
      }
    } catch (err) {
      await this.halt({}).catch(() => undefined);
      throw this.startError(`ZooKeeper server ${this.id} on ${this.connectString} did not come up`, err);
    }
  }

  private async freezer(action: 'pause' | 'unpause'): Promise<void> {
    const id = this.container?.getId();
    if (!id) return;
    const { getContainerRuntimeClient } = await testcontainers();
    const target = (await getContainerRuntimeClient()).container.dockerode.getContainer(id);
    await withTimeout(target[action](), 30_000, `${action} of ZooKeeper server ${this.id}`);
  }

  private async halt(options: StopOptions): Promise<void> {
    const container = this.container;
    if (!container) return;
    // A frozen JVM cannot take its SIGTERM: thaw it first (then stop as asked).
    if (this.frozen) {
      await this.freezer('unpause').catch(() => undefined);
      this.frozen = false;
    }
    this.container = undefined;
    try {
      await withTimeout(
        container.stop({ timeout: options.graceMs ?? 0, remove: true, removeVolumes: true }),
        (options.graceMs ?? 0) + 30_000,
        `stopping ZooKeeper server ${this.id}`,
      );
    } finally {
      liveContainers.delete(container.getId());
    }
  }

  private async wipe(): Promise<void> {
    for (const dir of [this.dataDir, this.dataLogDir]) {
      const entries = await readdir(dir).catch(() => [] as string[]);
      await Promise.all(
        entries
          .filter((name) => !(dir === this.dataDir && name === 'myid'))
          .map((name) => rm(path.join(dir, name), { recursive: true, force: true })),
      );
    }
  }

  private collectLogs(stream: Readable, onEnd: () => void): void {
    const echo = this.options.logToStderr ?? process.env['RXZK_ZK_LOGS'] === '1';
    let partial = '';
    stream.on('data', (chunk: string | Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        this.logLines.push(line);
        if (echo) process.stderr.write(`[zk${this.id}] ${line}\n`);
      }
      if (this.logLines.length > LOG_LINES_KEPT)
        this.logLines.splice(0, this.logLines.length - LOG_LINES_KEPT);
    });
    stream.on('error', () => undefined);
    stream.on('end', () => {
      if (partial) this.logLines.push(partial);
      onEnd();
    });
  }

  private startError(message: string, cause: unknown): Error {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const tail = this.logLines.slice(-30).join('\n');
    return new Error(`${message}: ${reason}${tail ? `\n--- last server log lines ---\n${tail}` : ''}`, {
      cause,
    });
  }
}

async function tempRoot(label: string): Promise<string> {
  installExitHook();
  const dir = await mkdtemp(path.join(os.tmpdir(), `rxzk-${label}-`));
  liveDirs.add(dir);
  return dir;
}

/** Starts one standalone ZooKeeper server on a free loopback port and waits until it serves. */
export async function startZooKeeper(options: ZkOptions = {}): Promise<ZkServer> {
  const server = new ContainerZkServer(1, await freePort(), await tempRoot('zk'), options, undefined);
  try {
    await server.start();
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}

class ContainerZkEnsemble implements ZkEnsemble {
  readonly connectString: string;

  constructor(
    readonly servers: readonly ContainerZkServer[],
    private readonly startupTimeoutMs: number,
  ) {
    this.connectString = servers.map((s) => s.connectString).join(',');
  }

  async leader(timeoutMs = this.startupTimeoutMs): Promise<ZkServer> {
    return pollUntil('a leader to be elected', timeoutMs, async () => {
      const modes = await Promise.all(this.servers.map(async (s) => ({ s, mode: await s.mode() })));
      return modes.find((m) => m.mode === 'leader')?.s;
    });
  }

  async killLeader(): Promise<ZkServer> {
    const leader = await this.leader();
    await leader.stop();
    return leader;
  }

  async waitForQuorum(timeoutMs = this.startupTimeoutMs): Promise<void> {
    await pollUntil('every running server to be leader or follower', timeoutMs, async () => {
      const running = this.servers.filter((s) => s.running && !s.paused);
      const modes = await Promise.all(running.map((s) => s.mode()));
      const settled = modes.every((m) => m === 'leader' || m === 'follower');
      return settled && modes.filter((m) => m === 'leader').length === 1 ? true : undefined;
    });
  }

  async restartStopped(): Promise<void> {
    const stopped = this.servers.filter((s) => !s.running);
    if (stopped.length === 0) return;
    await Promise.all(stopped.map((s) => s.start({ waitFor: 'running' })));
    await this.waitForQuorum();
  }

  async wipeData(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
    // Start together: no single server can serve before a quorum is up.
    await Promise.all(this.servers.map((s) => s.wipeData({ waitFor: 'running' })));
    await this.waitForQuorum();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.servers.map((s) => s.close()));
  }
}

/** Starts an `n`-server ensemble on free loopback ports and waits until it has a leader and followers. */
export async function startEnsemble(n = 3, options: ZkOptions = {}): Promise<ZkEnsemble> {
  if (!Number.isInteger(n) || n < 1 || n > 254) throw new Error(`ensemble size must be 1..254, got ${n}`);
  const ports = await freePorts(3 * n);
  const members: QuorumMember[] = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    clientPort: ports[3 * i] ?? 0,
    quorumPort: ports[3 * i + 1] ?? 0,
    electionPort: ports[3 * i + 2] ?? 0,
  }));
  const servers: ContainerZkServer[] = [];
  for (const member of members) {
    servers.push(
      new ContainerZkServer(member.id, member.clientPort, await tempRoot(`zk${member.id}`), options, members),
    );
  }
  const ensemble = new ContainerZkEnsemble(servers, options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS);
  try {
    await Promise.all(servers.map((s) => s.start({ waitFor: 'running' })));
    await ensemble.waitForQuorum();
  } catch (err) {
    await ensemble.close();
    throw err;
  }
  return ensemble;
}
