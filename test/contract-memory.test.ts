/**
 * The contract suite against the in-memory engine. Where it and test/contract-real.test.ts disagree,
 * the engine is wrong. One engine per file, a unique root per test, and after each test the same leak
 * checks as the real fixture: no client, handle, session or watch left.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { connect, type ZkClient } from '../src/index.js';
import { openClientCount, openHandleCount } from '../src/testing/index.js';
import { MemoryZooKeeper } from '../src/transport/memory/index.js';
import { aclContract } from './contract/acl.contract.js';
import { namingContract } from './contract/naming.contract.js';
import { operationsContract } from './contract/operations.contract.js';
import { reapingContract } from './contract/reaping.contract.js';
import { recursiveWatchesContract } from './contract/recursive-watches.contract.js';
import { sessionsContract } from './contract/sessions.contract.js';
import { statContract } from './contract/stat.contract.js';
import { stateOf, type ContractTarget } from './contract/target.js';
import { watchesContract } from './contract/watches.contract.js';
import { eventually, removeTree } from './support/fixture.js';

/** The engine's container/TTL reaper interval, as the real run sets it on its server. */
const REAP_INTERVAL_MS = 1_000;
const CONNECT_STRING = 'memory:1';

let zk: MemoryZooKeeper | undefined;
let root = '';
const clients: ZkClient[] = [];

function engine(): MemoryZooKeeper {
  if (!zk) throw new Error('no engine yet (use it inside a test)');
  return zk;
}

function open(chroot = '', options: Parameters<typeof connect>[1] = {}): ZkClient {
  return connect(`${CONNECT_STRING}${chroot}`, {
    sessionTimeout: 10_000,
    connectionTimeout: 20_000,
    ...options,
    transport: engine().transport,
  });
}

function sessionOf(client: ZkClient): string {
  const id = client.sessionId;
  if (id === undefined) throw new Error('the client has no session');
  return id;
}

const target: ContractTarget = {
  name: 'memory',
  get root() {
    return root;
  },
  async client(options = {}) {
    const { chroot = '', ...connectOptions } = options;
    const client = open(chroot, connectOptions);
    clients.push(client);
    await client.ready();
    return client;
  },
  async expire(client) {
    const sessionId = sessionOf(client);
    const lost = stateOf(client, (s) => s.type === 'lost' && s.sessionId === sessionId);
    engine().expire(sessionId);
    await lost;
  },
  async disconnect(client) {
    engine().suspend(sessionOf(client));
    await stateOf(client, (s) => s.type === 'suspended');
  },
  async reconnect(client) {
    const state = client.state;
    if (state.type !== 'suspended') throw new Error(`reconnect: the client is ${state.type}, not suspended`);
    engine().restore(state.sessionId);
    await stateOf(client, (s) => s.type === 'reconnected' || s.type === 'connected');
  },
  async watchCount() {
    return engine().watchCount();
  },
};

beforeAll(() => {
  zk = new MemoryZooKeeper({ tickTime: 500, reapIntervalMs: REAP_INTERVAL_MS });
});

afterAll(() => {
  zk?.close();
  zk = undefined;
});

beforeEach(async () => {
  root = `/rxzk-test-${randomUUID().slice(0, 8)}`;
  const admin = open();
  try {
    await admin.create(root);
  } finally {
    await admin.close();
  }
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  const admin = open();
  try {
    await removeTree(admin, root);
  } finally {
    await admin.close();
  }
  expect(openClientCount(), 'clients left open').toBe(0);
  expect(openHandleCount(), 'transport handles left open').toBe(0);
  await eventually(() => {
    expect(engine().sessions(), 'engine sessions left behind').toEqual([]);
    expect(engine().watchCount(), 'engine watches left behind').toBe(0);
  }, 15_000);
});

const t = () => target;
operationsContract(t);
statContract(t);
namingContract(t);
watchesContract(t);
recursiveWatchesContract(t);
sessionsContract(t);
aclContract(t);
reapingContract(t, REAP_INTERVAL_MS);
