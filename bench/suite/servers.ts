/**
 * The benchmark's ZooKeeper servers, started through the test harness (test/support/zookeeper.ts) with
 * production-like JVM flags instead of the harness's start-up-tuned ones, and the orchestrator's own
 * raw session: fixture nodes (the tree, the fan-out paths), cleanup, and the server's watch count.
 */
import { fourLetter, watchCount } from '../../test/support/fourLetter.js';
import { startEnsemble, startZooKeeper, type ZkServer } from '../../test/support/zookeeper.js';
import type { TransportHandle } from '../../src/index.js';
import { rxzk } from './library.js';

/**
 * Production-like: a fixed 1 GiB heap touched up front, G1 with a short pause goal, the full JIT
 * (the harness uses -XX:TieredStopAtLevel=1, serial GC and 256 MB for quick test start-up).
 */
export const SERVER_JVM_FLAGS =
  process.env['RXZK_BENCH_SERVER_JVM'] ??
  '-Xms1g -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=50 -XX:+AlwaysPreTouch -XX:+ParallelRefProcEnabled';

export type Topology = 'single' | 'ensemble';

export interface BenchServers {
  readonly topology: Topology;
  /** Where every peer's sessions connect: the single server, or one follower of the ensemble. */
  readonly clientConnect: string;
  readonly servers: readonly { id: number; role: string; version: string; config: string }[];
  close(): Promise<void>;
}

/** `srvr`'s first line: the server's version. */
async function serverVersion(port: number): Promise<string> {
  const text = await fourLetter('127.0.0.1', port, 'srvr');
  return /^Zookeeper version: (.*)$/m.exec(text)?.[1]?.trim() ?? 'unknown';
}

export async function startServers(topology: Topology, fsync: boolean): Promise<BenchServers> {
  const options = {
    jvmFlags: SERVER_JVM_FLAGS,
    config: { forceSync: fsync ? 'yes' : 'no' },
    startupTimeoutMs: 180_000,
  };
  const describe = async (server: ZkServer): Promise<BenchServers['servers'][number]> => ({
    id: server.id,
    role: (await server.mode()) ?? 'unknown',
    version: await serverVersion(server.clientPort),
    config: server.config,
  });
  if (topology === 'single') {
    const server = await startZooKeeper(options);
    return {
      topology,
      clientConnect: server.connectString,
      servers: [await describe(server)],
      close: () => server.close(),
    };
  }
  const ensemble = await startEnsemble(3, options);
  const leader = await ensemble.leader();
  const follower = ensemble.servers.find((s) => s !== leader)!;
  return {
    topology,
    clientConnect: follower.connectString,
    servers: await Promise.all(ensemble.servers.map(describe)),
    close: () => ensemble.close(),
  };
}

/** The orchestrator's own raw session (never timed). */
export async function adminHandle(connect: string): Promise<TransportHandle> {
  return new Promise((resolve, reject) => {
    const handle = rxzk
      .nativeTransport()
      .open({ connectString: connect, sessionTimeout: 30_000, auth: [] }, (event) => {
        if (event.type === 'connected') resolve(handle);
        else if (event.type !== 'disconnected') reject(new Error(`admin session ${event.type}`));
      });
  });
}

const empty = new Uint8Array(0);
const IN_FLIGHT = 500;

/** Runs `tasks` with at most IN_FLIGHT of them pending at once. */
async function pipelined(tasks: readonly (() => Promise<unknown>)[]): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, tasks.length) }, lane));
}

async function createAll(h: TransportHandle, paths: readonly string[], data: (path: string) => Uint8Array) {
  await pipelined(
    paths.map((path) => async () => {
      await h.create({ path, data: data(path), mode: 'persistent' }).catch((error: unknown) => {
        if (!(error instanceof rxzk.ZkError && error.code === rxzk.Code.NodeExists)) throw error;
      });
    }),
  );
}

/** Creates `path` and its ancestors. */
export async function ensurePath(h: TransportHandle, path: string): Promise<void> {
  const parts = path.split('/').slice(1);
  for (let i = 1; i <= parts.length; i++)
    await createAll(h, [`/${parts.slice(0, i).join('/')}`], () => empty);
}

/** The tree fixture: `root`, `children` under it, `grandchildren` under each; 32 bytes on every node. */
export async function createTree(
  h: TransportHandle,
  root: string,
  children: number,
  grandchildren: number,
): Promise<void> {
  await ensurePath(h, root);
  const level1 = Array.from({ length: children }, (_, i) => `${root}/c${i}`);
  const payload = (path: string): Uint8Array => Buffer.from(path.padEnd(32, '.').slice(-32));
  await createAll(h, level1, payload);
  await createAll(
    h,
    level1.flatMap((parent) => Array.from({ length: grandchildren }, (_, j) => `${parent}/g${j}`)),
    payload,
  );
}

/** The fan-out fixture: `paths` nodes `root/p<i>`. */
export async function createFanout(h: TransportHandle, root: string, paths: number): Promise<void> {
  await ensurePath(h, root);
  await createAll(
    h,
    Array.from({ length: paths }, (_, i) => `${root}/p${i}`),
    () => Buffer.from('x'),
  );
}

/** Deletes `path` and everything under it; returns how many nodes were still there. */
export async function removeTree(h: TransportHandle, path: string): Promise<number> {
  const levels: string[][] = [];
  let frontier = [path];
  while (frontier.length > 0) {
    levels.push(frontier);
    const next: string[] = [];
    await pipelined(
      frontier.map((p) => async () => {
        const found = await h.children(p).catch((error: unknown) => {
          if (error instanceof rxzk.ZkError && error.code === rxzk.Code.NoNode) return { children: [] };
          throw error;
        });
        for (const child of found.children) next.push(`${p}/${child}`);
      }),
    );
    frontier = next;
  }
  let removed = 0;
  for (const level of levels.reverse()) {
    await pipelined(
      level.map((p) => async () => {
        await h.delete(p, -1).then(
          () => removed++,
          (error: unknown) => {
            if (!(error instanceof rxzk.ZkError && error.code === rxzk.Code.NoNode)) throw error;
          },
        );
      }),
    );
  }
  return removed;
}

/** The server's watch count (mntr zk_watch_count), once two readings 200 ms apart agree (bounded). */
export async function settledWatchCount(connect: string): Promise<number> {
  let last = await watchCount(connect);
  for (let i = 0; i < 25; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const current = await watchCount(connect);
    if (current === last) return current;
    last = current;
  }
  return last;
}
