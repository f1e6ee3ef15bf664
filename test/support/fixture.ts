/**
 * Per-file real-ZooKeeper fixture: one server (or ensemble) per test file, a unique root path per test,
 * and after each test proof that nothing leaked: every client closed, no transport handle open, no
 * server session or watch left behind, the test's paths removed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { connect, type ConnectOptions, type ZkClient } from '../../src/index.js';
import { openClientCount, openHandleCount } from '../../src/testing/index.js';
import { liveSessions, watchCount } from './fourLetter.js';
import {
  startEnsemble,
  startZooKeeper,
  type ZkEnsemble,
  type ZkOptions,
  type ZkServer,
} from './zookeeper.js';

export interface Suite {
  /** The single server, or the first server of the ensemble. */
  readonly server: ZkServer;
  readonly ensemble: ZkEnsemble | undefined;
  /** Connect string of every server. */
  readonly connectString: string;
  /** A unique path for the current test, created before it runs and removed after. */
  readonly root: string;
  /** A client that the fixture closes after the test (closing it earlier is fine). */
  client(options?: ConnectOptions & { connectString?: string }): ZkClient;
}

export interface SuiteOptions extends ZkOptions {
  /** Start an ensemble of this many servers instead of a single server. */
  readonly ensemble?: number;
}

/** Polls until `check` stops throwing, at most `timeoutMs`; rethrows the last failure. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(everyMs);
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Removes a subtree, children first; a node already gone is fine. */
export async function removeTree(client: ZkClient, path: string): Promise<void> {
  const children = await client.children(path).then(
    (r) => r.children,
    () => [] as string[],
  );
  for (const child of children) await removeTree(client, `${path}/${child}`);
  await client.delete(path).catch((error: { name?: string }) => {
    if (error.name !== 'NoNodeError') throw error;
  });
}

export function zkSuite(options: SuiteOptions = {}): Suite {
  let ensemble: ZkEnsemble | undefined;
  let server: ZkServer | undefined;
  let root = '';
  const clients: ZkClient[] = [];

  beforeAll(async () => {
    if (options.ensemble) {
      ensemble = await startEnsemble(options.ensemble, options);
      server = ensemble.servers[0];
    } else {
      server = await startZooKeeper(options);
    }
  });

  afterAll(async () => {
    await (ensemble ?? server)?.close();
  });

  const suite: Suite = {
    get server() {
      if (!server) throw new Error('the suite has no server yet (use it inside a test)');
      return server;
    },
    get ensemble() {
      return ensemble;
    },
    get connectString() {
      return ensemble?.connectString ?? suite.server.connectString;
    },
    get root() {
      return root;
    },
    client(clientOptions = {}) {
      const client = connect(clientOptions.connectString ?? suite.connectString, {
        sessionTimeout: 10_000,
        connectionTimeout: 20_000,
        ...clientOptions,
      });
      clients.push(client);
      return client;
    },
  };

  beforeEach(async () => {
    root = `/rxzk-test-${randomUUID().slice(0, 8)}`;
    const admin = connect(suite.connectString, { connectionTimeout: 20_000 });
    try {
      await admin.create(root);
    } finally {
      await admin.close();
    }
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    const admin = connect(suite.connectString, { connectionTimeout: 30_000 });
    try {
      await removeTree(admin, root);
    } finally {
      await admin.close();
    }
    expect(openClientCount(), 'clients left open').toBe(0);
    expect(openHandleCount(), 'transport handles left open').toBe(0);
    // Sessions close asynchronously on the server: wait (bounded) until none and no watch is left.
    await eventually(async () => {
      expect(await liveSessions(suite.connectString), 'server sessions left behind').toEqual([]);
      expect(await watchCount(suite.connectString), 'server watches left behind').toBe(0);
    }, 15_000);
  });

  return suite;
}
