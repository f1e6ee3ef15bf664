/**
 * Fault matrix, row 11 (issue 7): bad input everywhere.
 *
 * Every public function and client method that takes arguments is called with bad values for each
 * argument in turn (paths, data sizes, versions, options, callbacks, and the wrong types a JavaScript
 * caller can pass), the other arguments valid. Each call must fail with an InvalidArgumentError (or a
 * subclass) naming the argument, in the form the function documents: Observable factories, connect()
 * and acquire()/withLock() throw synchronously; the client's operations and the promise recipes reject.
 *
 * The fuzzing client talks to ZooKeeper through the loopback proxy, which counts its requests by
 * opcode: during the fuzz it must send nothing but pings, and the server's own count for its connection
 * (`cons`: recved) must agree. Meanwhile a data$ stream and a pending acquire() run on that client: after
 * the fuzz the stream still shows a change, the acquire resolves when the lock is released, and the
 * session never moved. The table is checked against the exports of src/index.ts, so a new public
 * function fails this file until it is fuzzed (or allow-listed with a reason).
 */
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import {
  acquire,
  barrier,
  children$,
  config$,
  configUpdates$,
  connect,
  count$,
  data$,
  DataTooLargeError,
  decode,
  doubleBarrier,
  enqueue,
  increment,
  InvalidArgumentError,
  InvalidPathError,
  isValidTransition,
  join,
  leader$,
  leadership,
  lock,
  members$,
  nativeTransport,
  queue,
  readLock,
  semaphore,
  stat$,
  tree$,
  treeEvents$,
  trySet,
  uniqueName,
  updateConfig,
  validatePath,
  withLock,
  writeLock,
  ZkClient,
  type LockHandle,
} from '../../src/index.js';
import { openClientCount } from '../../src/testing/index.js';
import { eventually, sleep, zkSuite } from '../support/fixture.js';
import { connections, fourLetter } from '../support/fourLetter.js';
import { OpCode, startProxy, type ZkProxy } from '../support/proxy.js';
import { recordFault } from './record.js';

const zk = zkSuite();

// ---------------------------------------------------------------------------------------------------
// Bad values, by kind of argument. No randomness: every value is listed, so a failure names its call.

/** The wrong types a JavaScript caller can pass where a string is wanted. */
const NOT_STRINGS: readonly unknown[] = [
  undefined,
  null,
  true,
  42,
  NaN,
  10n,
  Symbol('s'),
  {},
  [],
  () => '/a',
  new Date(0),
  Object.create(null) as object, // String() throws on it
];

/**
 * Paths ZooKeeper refuses (PathUtils), paths no request can carry (over MAX_PATH_BYTES: the server
 * would drop the connection, and a read would be retried forever), and non-strings. Not here: a
 * 2,000-character path, which ZooKeeper accepts (no length rule besides the request size).
 */
const PATHS: readonly unknown[] = [
  '',
  ' /a',
  'a',
  'a/b',
  '/a/',
  '//',
  '/a//b',
  '/.',
  '/..',
  '/a/./b',
  '/a/../b',
  '/zookeeper/..',
  '/a\u0000b',
  '/a\u0001',
  '/a\u007f',
  '/a\ud800b',
  '/\udc00',
  '/\ue000',
  '/\uffff',
  `/${'a'.repeat(1_048_576)}`,
  `/${'é'.repeat(524_288)}`, // fewer characters than bytes
  ...NOT_STRINGS,
];
/** For a path with a default (`sync()`): undefined is not bad there. */
const OPTIONAL_PATHS = PATHS.filter((p) => p !== undefined);

/** 1 MiB and more: over MAX_DATA_BYTES (jute.maxbuffer, 1,048,575) for any request. */
const HUGE_DATA: readonly unknown[] = [
  Buffer.alloc(1_048_576),
  'é'.repeat(524_288), // 1 MiB once encoded as UTF-8
  new Uint8Array(3 * 1_048_576),
];
/** Fits MAX_DATA_BYTES alone, not with the request's path and header around it. */
const NEAR_LIMIT_DATA: readonly unknown[] = [Buffer.alloc(1_048_575 - 8)];
const DATA_TYPES: readonly unknown[] = [
  true,
  42,
  10n,
  Symbol('d'),
  {},
  [1, 2],
  () => 'x',
  new Date(0),
  new ArrayBuffer(4),
  new Uint16Array(2),
  new DataView(new ArrayBuffer(2)),
];

/** Versions have a default (-1: any), so undefined is fine; null is not a version. */
const VERSIONS: readonly unknown[] = [
  -2,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  '1',
  2 ** 31,
  null,
  true,
  10n,
  {},
  [],
];

/** Where an options object goes. Absent (undefined) is fine when it is optional. */
const NOT_OBJECTS: readonly unknown[] = [null, 42, 'options', true, 10n, Symbol('o')];
/** What a caller may pass where a client is wanted: nothing, the wrong thing, a look-alike. */
const NOT_CLIENTS: readonly unknown[] = [
  undefined,
  null,
  42,
  '127.0.0.1:2181',
  {},
  { state$: {}, create: () => undefined },
  () => undefined,
];
const REQUIRED_OBJECT: readonly unknown[] = [undefined, ...NOT_OBJECTS];

/** Optional option fields: undefined and null mean "the default". */
const TIMEOUTS: readonly unknown[] = [-1, NaN, Infinity, -Infinity, '5000', true, 10n, {}];
const POSITIVE_INTS: readonly unknown[] = [0, -1, 1.5, NaN, Infinity, '2', true, 10n, {}];
const REQUIRED_POSITIVE_INTS: readonly unknown[] = [undefined, null, ...POSITIVE_INTS];
const POLICIES: readonly unknown[] = ['yolo', '', 'SAFE', 42, true, {}];
const OPTIONAL_CALLBACKS: readonly unknown[] = [42, 'f', {}, true, 10n];
const CALLBACKS: readonly unknown[] = [undefined, null, ...OPTIONAL_CALLBACKS];
const IDS: readonly unknown[] = ['', 'a\u0000b', undefined, null, 42, {}, true, 10n];
const INT32S: readonly unknown[] = [1.5, NaN, Infinity, 2 ** 31, -(2 ** 31) - 1, '1', true, 10n, {}];
const STATE_NAMES: readonly unknown[] = [
  'bogus',
  'Connected',
  '',
  'toString',
  '__proto__',
  undefined,
  null,
  42,
  {},
];

// ---------------------------------------------------------------------------------------------------
// The fuzz table: one entry per public function (and client method), each a list of bad calls.

/** How a function reports bad input, as it documents. */
type Form = 'throw' | 'reject';

type ErrorClass = typeof InvalidArgumentError;

interface Variation {
  /** The argument the error must name. */
  readonly argument: string;
  readonly value: unknown;
  readonly error: ErrorClass;
  readonly call: () => unknown;
}

interface Context {
  /** The fuzzing client (through the proxy). */
  readonly c: ZkClient;
  /** A valid path under the test's root (never created). */
  readonly p: string;
  /** The proxy's connect string: a client connect() wrongly let through would show there. */
  readonly connectString: string;
}

interface Entry {
  readonly form: Form;
  readonly cases: (ctx: Context) => Variation[];
}

/** One bad call per value of `values` for `argument`. */
function vary(
  argument: string,
  values: readonly unknown[],
  call: (value: never) => unknown,
  error: ErrorClass = InvalidArgumentError,
): Variation[] {
  return values.map((value) => ({ argument, value, error, call: () => call(value as never) }));
}

/** `path`: every bad path, InvalidPathError. */
const paths = (call: (value: never) => unknown, values = PATHS): Variation[] =>
  vary('path', values, call, InvalidPathError);

/**
 * A data argument: wrong types, and too much data (DataTooLargeError). `nearLimit`: also data that fits
 * MAX_DATA_BYTES alone but not with its request's path and header.
 */
const data = (argument: string, call: (value: never) => unknown, nearLimit = false): Variation[] => [
  ...vary(argument, DATA_TYPES, call),
  ...vary(argument, HUGE_DATA, call, DataTooLargeError),
  ...(nearLimit ? vary(argument, NEAR_LIMIT_DATA, call, DataTooLargeError) : []),
];

/**
 * A recipe's `options.acl` (every recipe that creates nodes takes one): `options` is the rest of a valid
 * options object. undefined is the default (open), so not bad.
 */
const aclOptions = (call: (options: never) => unknown, options: object = {}): Variation[] => {
  const entry = (fields: object) => [{ perms: 31, scheme: 'world', id: 'anyone', ...fields }];
  const withAcl = (acl: unknown) => call({ ...options, acl } as never);
  return [
    ...vary('options.acl', [null, [], 42, 'world:anyone', {}, true], withAcl),
    ...vary('options.acl[0]', [null, 42, 'world:anyone'], (v) => withAcl([v])),
    ...vary('options.acl[0].perms', [undefined, -1, 32, 1.5, NaN, '31'], (v) => withAcl(entry({ perms: v }))),
    ...vary('options.acl[0].scheme', [undefined, '', 42], (v) => withAcl(entry({ scheme: v }))),
    ...vary('options.acl[0].id', [undefined, 42, null], (v) => withAcl(entry({ id: v }))),
  ];
};

/** Options shared by lock(), readLock(), writeLock(), acquire() and withLock(). */
const ownershipOptions = (call: (options: never) => unknown): Variation[] => [
  ...vary('options', NOT_OBJECTS, call),
  ...vary('options.policy', POLICIES, (v) => call({ policy: v } as never)),
  ...data('options.data', (v) => call({ data: v } as never), true),
  ...aclOptions(call),
];

/** acquire() and withLock() add a timeout and a lock type. */
const holdOptions = (call: (options: never) => unknown): Variation[] => [
  ...ownershipOptions(call),
  ...vary('options.timeout', TIMEOUTS, (v) => call({ timeout: v } as never)),
  ...vary('options.type', ['shared', '', 'EXCLUSIVE', 42, true, {}], (v) => call({ type: v } as never)),
];

/** get(), exists() and children(): an options object with an optional watcher. */
const watchOptions = (call: (options: never) => unknown): Variation[] => [
  ...vary('options', [...NOT_OBJECTS, () => undefined], call),
  ...vary('options.watch', OPTIONAL_CALLBACKS, (v) => call({ watch: v } as never)),
];

/** client.create and client.create2 take the same arguments. */
const createCases = (
  create: (path: never, data?: never, options?: never) => Promise<unknown>,
  p: string,
): Variation[] => {
  const c = { create };
  const acl = (entry: object) => [{ perms: 31, scheme: 'world', id: 'anyone', ...entry }];
  return [
    ...paths((v) => c.create(v)),
    // A sequential create appends the counter: ZooKeeper checks `path + '1'`, so '/a/' or '/..' are fine.
    ...paths(
      (v) => c.create(v, '' as never, { mode: 'persistent-sequential' } as never),
      PATHS.filter((x) => !['/a/', '/.', '/..', '/zookeeper/..'].includes(x as string)),
    ),
    ...data('data', (v) => c.create(p as never, v), true),
    ...vary('options', [...NOT_OBJECTS, () => undefined], (v) => c.create(p as never, '' as never, v)),
    ...vary('options.mode', ['bogus', 'PERSISTENT', 'ttl', 42, true, {}], (v) =>
      c.create(p as never, '' as never, { mode: v } as never),
    ),
    ...vary('options.ttl', [10, 0, -1], (v) => c.create(p as never, '' as never, { ttl: v } as never)),
    ...vary('options.ttl', [undefined, 0, -1, 1.5, NaN, Infinity, 2 ** 40, '10', true], (v) =>
      c.create(p as never, '' as never, { mode: 'persistent-ttl', ttl: v } as never),
    ),
    ...vary('options.createParents', ['yes', 'containers', 1, 0, {}], (v) =>
      c.create(p as never, '' as never, { createParents: v } as never),
    ),
    ...vary('options.protect', ['no', 1, 0, {}], (v) =>
      c.create(p as never, '' as never, { protect: v } as never),
    ),
    ...vary('options.onLostReply', ['again', 'REJECT', true, 1, {}], (v) =>
      c.create(p as never, '' as never, { onLostReply: v } as never),
    ),
    ...vary('options.acl', [null, [], 42, 'world:anyone', {}, true], (v) =>
      c.create(p as never, '' as never, { acl: v } as never),
    ),
    ...vary('options.acl[0]', [null, 42, 'world:anyone'], (v) =>
      c.create(p as never, '' as never, { acl: [v] } as never),
    ),
    ...vary('options.acl[0].perms', [undefined, -1, 32, 1.5, NaN, '31', true], (v) =>
      c.create(p as never, '' as never, { acl: acl({ perms: v }) } as never),
    ),
    ...vary('options.acl[0].scheme', [undefined, '', 42, null], (v) =>
      c.create(p as never, '' as never, { acl: acl({ scheme: v }) } as never),
    ),
    ...vary('options.acl[0].id', [undefined, 42, null, {}], (v) =>
      c.create(p as never, '' as never, { acl: acl({ id: v }) } as never),
    ),
    // Data that fits with the open ACL, but not with a long one: the ACL counts in the request size.
    ...vary(
      'data',
      [Buffer.alloc(1_048_575 - 200)],
      (v) =>
        c.create(p as never, v, {
          acl: Array.from({ length: 20 }, (_, i) => ({
            perms: 31,
            scheme: 'digest',
            id: `user${i}:${'x'.repeat(28)}`,
          })),
        } as never),
      DataTooLargeError,
    ),
  ];
};

const never = new Promise<never>(() => undefined);
const parse = (text: string): unknown => JSON.parse(text);

// KNOWN: no function checks its `client` argument; a non-client fails with a TypeError (at the call,
// or on subscribe for most streams). Left out of the table.
const table: Record<string, Entry> = {
  // Session
  connect: {
    form: 'throw',
    cases: ({ connectString: cs }) => [
      ...vary(
        'connectString',
        [
          ...NOT_STRINGS,
          '',
          '   ',
          'host:99999',
          'host:0',
          'host:port',
          'a:1,,b:2',
          '[::1',
          '127.0.0.1:2181/bad/',
          '127.0.0.1:2181/a//b',
          'memory://bad name',
          'memory:///a/',
        ],
        (v) => connect(v),
      ),
      ...vary('options', NOT_OBJECTS, (v) => connect(cs, v)),
      ...vary('options.sessionTimeout', POSITIVE_INTS, (v) => connect(cs, { sessionTimeout: v })),
      ...vary('options.connectionTimeout', POSITIVE_INTS, (v) => connect(cs, { connectionTimeout: v })),
      ...vary('options.auth', [42, 'digest:u:p', {}, true], (v) => connect(cs, { auth: v })),
      ...vary('options.auth[0]', [null, 42, 'digest'], (v) => connect(cs, { auth: [v] })),
      ...vary('options.auth[0].scheme', [undefined, null, '', 42], (v) =>
        connect(cs, { auth: [{ scheme: v, credentials: 'u:p' }] }),
      ),
      ...vary('options.auth[0].credentials', [undefined, null, 42, {}], (v) =>
        connect(cs, { auth: [{ scheme: 'digest', credentials: v }] }),
      ),
      ...vary('options.retry', [42, 'fast', true], (v) => connect(cs, { retry: v })),
      ...vary('options.retry.maxRetries', [-1, 1.5, NaN, Infinity, '3', true], (v) =>
        connect(cs, { retry: { maxRetries: v } }),
      ),
      ...vary('options.retry.baseDelay', [-1, NaN, Infinity, '100', true], (v) =>
        connect(cs, { retry: { baseDelay: v } }),
      ),
      ...vary('options.retry.maxDelay', [-1, NaN, Infinity, '5000', 50], (v) =>
        connect(cs, { retry: { maxDelay: v } }),
      ),
      ...vary('options.retry.jitter', [-0.1, 1.5, NaN, '0.5', true], (v) =>
        connect(cs, { retry: { jitter: v } }),
      ),
      ...vary('options.reconnect', ['yes', 1, 0, {}], (v) => connect(cs, { reconnect: v })),
      ...vary('options.logger', [42, 'console', true], (v) => connect(cs, { logger: v })),
      ...vary('options.logger.warn', [42, 'x', {}], (v) => connect(cs, { logger: { warn: v } })),
      ...vary('options.scheduler', [42, 'async', {}, { now: () => 0 }], (v) => connect(cs, { scheduler: v })),
      ...vary('options.transport', [42, 'native', {}, { open: 42 }], (v) => connect(cs, { transport: v })),
      ...vary('options.nativeLogLevel', ['loud', 'ERROR', 42, true], (v) =>
        connect(cs, { nativeLogLevel: v }),
      ),
    ],
  },
  isValidTransition: {
    form: 'throw',
    cases: () => [
      ...vary('from', STATE_NAMES, (v) => isValidTransition(v, 'closed')),
      ...vary('to', STATE_NAMES, (v) => isValidTransition('connecting', v)),
    ],
  },
  validatePath: { form: 'throw', cases: () => paths((v) => validatePath(v)) },
  nativeTransport: {
    form: 'throw',
    cases: () => [
      ...vary('options', NOT_OBJECTS, (v) => nativeTransport(v)),
      ...vary('options.nativeLogLevel', ['loud', 'ERROR', 42, true, {}], (v) =>
        nativeTransport({ nativeLogLevel: v }),
      ),
    ],
  },

  // Client operations
  'client.create': { form: 'reject', cases: ({ c, p }) => createCases(c.create.bind(c), p) },
  'client.create2': { form: 'reject', cases: ({ c, p }) => createCases(c.create2.bind(c), p) },
  'client.get': {
    form: 'reject',
    cases: ({ c, p }) => [...paths((v) => c.get(v)), ...watchOptions((v) => c.get(p, v))],
  },
  'client.exists': {
    form: 'reject',
    cases: ({ c, p }) => [...paths((v) => c.exists(v)), ...watchOptions((v) => c.exists(p, v))],
  },
  'client.children': {
    form: 'reject',
    cases: ({ c, p }) => [...paths((v) => c.children(v)), ...watchOptions((v) => c.children(p, v))],
  },
  'client.set': {
    form: 'reject',
    cases: ({ c, p }) => [
      ...paths((v) => c.set(v, 'x')),
      ...data('data', (v) => c.set(p, v), true),
      ...vary('version', VERSIONS, (v) => c.set(p, 'x', v)),
    ],
  },
  'client.delete': {
    form: 'reject',
    cases: ({ c, p }) => [...paths((v) => c.delete(v)), ...vary('version', VERSIONS, (v) => c.delete(p, v))],
  },
  'client.sync': { form: 'reject', cases: ({ c }) => paths((v) => c.sync(v), OPTIONAL_PATHS) },
  'client.getACL': { form: 'reject', cases: ({ c }) => paths((v) => c.getACL(v)) },
  'client.setACL': {
    form: 'reject',
    cases: ({ c, p }) => {
      const acl = (entry: object) => [{ perms: 31, scheme: 'world', id: 'anyone', ...entry }];
      return [
        ...paths((v) => c.setACL(v, api.OPEN_ACL_UNSAFE)),
        ...vary('acl', [undefined, null, [], 42, 'world:anyone', {}, true], (v) => c.setACL(p, v)),
        ...vary('acl[0]', [null, 42, 'world:anyone'], (v) => c.setACL(p, [v])),
        ...vary('acl[0].perms', [undefined, -1, 32, 1.5, NaN, '31', true], (v) =>
          c.setACL(p, acl({ perms: v })),
        ),
        ...vary('acl[0].scheme', [undefined, '', 42, null], (v) => c.setACL(p, acl({ scheme: v }))),
        ...vary('acl[0].id', [undefined, 42, null, {}], (v) => c.setACL(p, acl({ id: v }))),
        // Valid entries, too many for one request: the server would drop the connection.
        ...vary(
          'acl',
          [
            Array.from({ length: 30_000 }, (_, i) => ({
              perms: 31,
              scheme: 'digest',
              id: `u${i}:${'x'.repeat(28)}`,
            })),
          ],
          (v) => c.setACL(p, v),
        ),
        ...vary('version', VERSIONS, (v) => c.setACL(p, api.OPEN_ACL_UNSAFE, v)),
      ];
    },
  },
  'client.addAuth': {
    form: 'reject',
    cases: ({ c }) => [
      ...vary('scheme', [undefined, null, '', 42, {}], (v) => c.addAuth(v, 'u:p')),
      ...vary('credentials', [undefined, null, 42, {}], (v) => c.addAuth('digest', v)),
    ],
  },
  'client.unwatch': {
    form: 'throw',
    cases: ({ c }) => vary('watcher', [undefined, null, 42, 'watcher', {}], (v) => c.unwatch(v)),
  },

  // Znode streams
  data$: { form: 'throw', cases: ({ c }) => paths((v) => data$(c, v)) },
  children$: { form: 'throw', cases: ({ c }) => paths((v) => children$(c, v)) },
  stat$: { form: 'throw', cases: ({ c }) => paths((v) => stat$(c, v)) },
  tree$: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => tree$(c, v)),
      ...vary('options', NOT_OBJECTS, (v) => tree$(c, p, v)),
      ...vary('options.depth', [-1, NaN, -Infinity, 1.5, '1', true, 10n, {}], (v) =>
        tree$(c, p, { depth: v }),
      ),
    ],
  },
  treeEvents$: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => treeEvents$(c, v)),
      ...vary('options', NOT_OBJECTS, (v) => treeEvents$(c, p, v)),
      ...vary('options.depth', [-1, NaN, -Infinity, 1.5, '1', true, 10n, {}], (v) =>
        treeEvents$(c, p, { depth: v }),
      ),
    ],
  },
  decode: { form: 'throw', cases: () => vary('decoder', CALLBACKS, (v) => decode(v)) },

  // Recipes
  leadership: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => leadership(c, v, { id: 'a' })),
      ...vary('options', REQUIRED_OBJECT, (v) => leadership(c, p, v)),
      ...vary('options.id', IDS, (v) => leadership(c, p, { id: v })),
      ...vary('options.policy', POLICIES, (v) => leadership(c, p, { id: 'a', policy: v })),
      ...data('options.data', (v) => leadership(c, p, { id: 'a', data: v }), true),
      ...aclOptions((v) => leadership(c, p, v), { id: 'a' }),
    ],
  },
  leader$: { form: 'throw', cases: ({ c }) => paths((v) => leader$(c, v)) },
  join: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => join(c, v, 'a')),
      ...vary('id', [...IDS, 'a/b', '/a', '.', '..', 'a\ud800'], (v) => join(c, p, v)),
      ...data('data', (v) => join(c, p, 'a', v), true),
      ...vary('options', NOT_OBJECTS, (v) => join(c, p, 'a', '', v)),
      ...aclOptions((v) => join(c, p, 'a', '', v)),
    ],
  },
  members$: { form: 'throw', cases: ({ c }) => paths((v) => members$(c, v)) },
  config$: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => config$(c, v, parse)),
      ...vary('decoder', CALLBACKS, (v) => config$(c, p, v)),
      ...vary('options', NOT_OBJECTS, (v) => config$(c, p, parse, v)),
      ...vary('options.onInvalid', OPTIONAL_CALLBACKS, (v) => config$(c, p, parse, { onInvalid: v })),
    ],
  },
  configUpdates$: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => configUpdates$(c, v, parse)),
      ...vary('decoder', CALLBACKS, (v) => configUpdates$(c, p, v)),
    ],
  },
  updateConfig: {
    form: 'reject',
    cases: ({ c, p }) => {
      const codec = { decode: JSON.parse, encode: JSON.stringify };
      return [
        ...paths((v) => updateConfig(c, v, () => 1, codec)),
        ...vary('update', CALLBACKS, (v) => updateConfig(c, p, v, codec)),
        ...vary('options', REQUIRED_OBJECT, (v) => updateConfig(c, p, () => 1, v)),
        ...vary('options.decode', CALLBACKS, (v) => updateConfig(c, p, () => 1, { ...codec, decode: v })),
        ...vary('options.encode', CALLBACKS, (v) => updateConfig(c, p, () => 1, { ...codec, encode: v })),
        ...vary('options.attempts', POSITIVE_INTS, (v) =>
          updateConfig(c, p, () => 1, { ...codec, attempts: v }),
        ),
        ...aclOptions((v) => updateConfig(c, p, () => 1, v), codec),
      ];
    },
  },
  count$: { form: 'throw', cases: ({ c }) => paths((v) => count$(c, v)) },
  trySet: {
    form: 'reject',
    cases: ({ c, p }) => [
      ...paths((v) => trySet(c, v, 1, null)),
      ...vary('value', [undefined, null, ...INT32S], (v) => trySet(c, p, v, null)),
      ...vary('expected', [undefined, 42, 'x', true, 10n], (v) => trySet(c, p, 1, v)),
      ...vary('expected.version', [undefined, -1, ...VERSIONS], (v) => trySet(c, p, 1, { version: v })),
      ...vary('options', NOT_OBJECTS, (v) => trySet(c, p, 1, null, v)),
      ...aclOptions((v) => trySet(c, p, 1, null, v)),
    ],
  },
  increment: {
    form: 'reject',
    cases: ({ c, p }) => [
      ...paths((v) => increment(c, v)),
      ...vary('delta', INT32S, (v) => increment(c, p, v)),
      ...vary('options', NOT_OBJECTS, (v) => increment(c, p, 1, v)),
      ...aclOptions((v) => increment(c, p, 1, v)),
    ],
  },
  uniqueName: {
    form: 'reject',
    cases: ({ c, p }) => [
      ...paths((v) => uniqueName(c, v)),
      ...vary('prefix', ['', 'a/b', '/', 'a\u0000', 'a\ud800', 42, {}, true, 10n], (v) =>
        uniqueName(c, p, v),
      ),
      ...vary('options', NOT_OBJECTS, (v) => uniqueName(c, p, 'n-', v)),
      ...aclOptions((v) => uniqueName(c, p, 'n-', v)),
    ],
  },

  // Coordination
  lock: {
    form: 'throw',
    cases: ({ c, p }) => [...paths((v) => lock(c, v)), ...ownershipOptions((v) => lock(c, p, v))],
  },
  readLock: {
    form: 'throw',
    cases: ({ c, p }) => [...paths((v) => readLock(c, v)), ...ownershipOptions((v) => readLock(c, p, v))],
  },
  writeLock: {
    form: 'throw',
    cases: ({ c, p }) => [...paths((v) => writeLock(c, v)), ...ownershipOptions((v) => writeLock(c, p, v))],
  },
  acquire: {
    // "InvalidArgumentError (synchronously) for bad input" (its doc comment).
    form: 'throw',
    cases: ({ c, p }) => [...paths((v) => acquire(c, v)), ...holdOptions((v) => acquire(c, p, v))],
  },
  withLock: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => withLock(c, v, () => 1)),
      ...vary('fn', CALLBACKS, (v) => withLock(c, p, v)),
      ...holdOptions((v) => withLock(c, p, () => 1, v)),
    ],
  },
  semaphore: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => semaphore(c, v, { leases: 1 })),
      ...vary('options', REQUIRED_OBJECT, (v) => semaphore(c, p, v)),
      ...vary('options.leases', [...REQUIRED_POSITIVE_INTS, 2 ** 53], (v) => semaphore(c, p, { leases: v })),
      ...vary('options.policy', POLICIES, (v) => semaphore(c, p, { leases: 1, policy: v })),
      ...data('options.data', (v) => semaphore(c, p, { leases: 1, data: v }), true),
      ...aclOptions((v) => semaphore(c, p, v), { leases: 1 }),
    ],
  },
  enqueue: {
    form: 'reject',
    cases: ({ c, p }) => [
      ...paths((v) => enqueue(c, v, 'x')),
      ...data('data', (v) => enqueue(c, p, v), true),
      ...vary('options', NOT_OBJECTS, (v) => enqueue(c, p, 'x', v)),
      ...vary('options.onLostReply', ['again', null, 0], (v) =>
        enqueue(c, p, 'x', { onLostReply: v } as never),
      ),
      ...aclOptions((v) => enqueue(c, p, 'x', v)),
    ],
  },
  queue: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => queue(c, v, { mode: 'at-most-once' })),
      ...vary('options', REQUIRED_OBJECT, (v) => queue(c, p, v)),
      ...vary('options.mode', [undefined, null, 'exactly-once', 'at-least-once ', '', 42, true], (v) =>
        queue(c, p, { mode: v }),
      ),
      ...vary('options.decode', [null, ...OPTIONAL_CALLBACKS], (v) =>
        queue(c, p, { mode: 'at-most-once', decode: v }),
      ),
      ...vary('options.concurrency', POSITIVE_INTS, (v) =>
        queue(c, p, { mode: 'at-least-once', concurrency: v }),
      ),
      ...aclOptions((v) => queue(c, p, v), { mode: 'at-least-once' }),
    ],
  },
  barrier: { form: 'throw', cases: ({ c }) => paths((v) => barrier(c, v)) },
  doubleBarrier: {
    form: 'throw',
    cases: ({ c, p }) => [
      ...paths((v) => doubleBarrier(c, v, { members: 2, leave: never })),
      ...vary('options', REQUIRED_OBJECT, (v) => doubleBarrier(c, p, v)),
      ...vary('options.members', REQUIRED_POSITIVE_INTS, (v) =>
        doubleBarrier(c, p, { members: v, leave: never }),
      ),
      // A string is an ObservableInput (of its characters): not bad.
      ...vary('options.leave', [undefined, null, 42, true, {}, 10n], (v) =>
        doubleBarrier(c, p, { members: 2, leave: v }),
      ),
      ...aclOptions((v) => doubleBarrier(c, p, v), { members: 2, leave: never }),
    ],
  },
};

/**
 * Every exported function that takes a client, called with valid arguments but for the client: each
 * must refuse a bad one naming 'client', in its own form (from the table above). A function that takes
 * a client and is not listed fails the coverage test.
 */
const CLIENT_CALLS: Record<string, (client: never, p: string) => unknown> = {
  data$: (c, p) => data$(c, p),
  children$: (c, p) => children$(c, p),
  stat$: (c, p) => stat$(c, p),
  tree$: (c, p) => tree$(c, p),
  treeEvents$: (c, p) => treeEvents$(c, p),
  leadership: (c, p) => leadership(c, p, { id: 'a' }),
  leader$: (c, p) => leader$(c, p),
  join: (c, p) => join(c, p, 'a'),
  members$: (c, p) => members$(c, p),
  config$: (c, p) => config$(c, p, parse),
  configUpdates$: (c, p) => configUpdates$(c, p, parse),
  updateConfig: (c, p) => updateConfig(c, p, () => 1, { decode: JSON.parse, encode: JSON.stringify }),
  count$: (c, p) => count$(c, p),
  trySet: (c, p) => trySet(c, p, 1, null),
  increment: (c, p) => increment(c, p),
  uniqueName: (c, p) => uniqueName(c, p, 'n-'),
  acquire: (c, p) => acquire(c, p),
  withLock: (c, p) => withLock(c, p, () => 1),
  lock: (c, p) => lock(c, p),
  readLock: (c, p) => readLock(c, p),
  writeLock: (c, p) => writeLock(c, p),
  semaphore: (c, p) => semaphore(c, p, { leases: 1 }),
  enqueue: (c, p) => enqueue(c, p, 'x'),
  queue: (c, p) => queue(c, p, { mode: 'at-most-once' }),
  barrier: (c, p) => barrier(c, p),
  doubleBarrier: (c, p) => doubleBarrier(c, p, { members: 2, leave: never }),
};
/** Fuzzed functions that take no client. */
const NO_CLIENT = new Set(['connect', 'isValidTransition', 'validatePath', 'nativeTransport', 'decode']);

/**
 * Exported functions that are not fuzzed, and why. Classes are here: errors are what bad input produces,
 * and ZkClient's constructor is internal (connect() builds it; its methods are fuzzed as `client.*`).
 */
const NOT_FUZZED: Record<string, string> = {
  ZkClient: 'class: the constructor is @internal (use connect()); its methods are fuzzed as client.*',
  pathProblem: 'reports the rule a path breaks as its return value, by design (validatePath throws)',
  errorFromCode: 'builds the error for a server result code: a table lookup, not an operation',
  isRetryable: 'a predicate over any value (false for anything that is not a retryable ZkError)',
};
const isErrorClass = (value: unknown): boolean =>
  typeof value === 'function' && (value === Error || value.prototype instanceof Error);

/** Client methods that are not fuzzed: no arguments, internal, or private (TypeScript only). */
const CLIENT_NOT_FUZZED: Record<string, string> = {
  ready: 'no arguments',
  close: 'no arguments',
  currentHandle: '@internal, no arguments',
  streamRead: '@internal: the streams call it with a validated path',
  watched: 'private',
  slowStreamRead: 'private',
  read: 'private',
  retryRead: 'private',
  write: 'private',
  backoff: 'private',
  track: 'private',
  createPlan: 'private: create() and create2() validate through it (fuzzed there)',
  createOverhead: '@internal: recipes call it with arguments they validated',
  watchRecursive: '@internal: tree$ calls it with a validated path and its own listener',
  unwatchRecursive: '@internal: tree$ calls it with what it passed to watchRecursive',
  recursiveEvent: 'private',
  plainRead: '@internal: the streams call it with a validated path',
};

// ---------------------------------------------------------------------------------------------------
// Running a bad call.

/** A short, printable label for a value (control and private-use characters escaped). */
function show(value: unknown): string {
  const text = label(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function label(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 24 ? `${value.slice(0, 8)}...(${value.length} chars)` : value;
    return JSON.stringify(shown).replace(
      /[\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return 'a function';
  if (Buffer.isBuffer(value)) return `Buffer(${value.length})`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${value.byteLength} bytes)`;
  if (value instanceof ArrayBuffer) return `ArrayBuffer(${value.byteLength})`;
  if (value instanceof Date) return 'a Date';
  if (value instanceof Promise) return 'a Promise';
  if (Array.isArray(value)) return `[${value.map(label).join(', ')}]`;
  if (typeof value === 'object' && value !== null) {
    if (Object.getPrototypeOf(value) === null) return 'Object.create(null)';
    const fields = Object.entries(value).map(([k, v]) => `${k}: ${label(v)}`);
    return fields.length === 0 ? '{}' : `{ ${fields.join(', ')} }`;
  }
  return String(value);
}

function showError(error: unknown): string {
  if (error instanceof InvalidArgumentError) return `${error.name} naming '${error.argument}'`;
  return error instanceof Error ? `${error.name}: ${error.message}` : `a non-Error ${show(error)}`;
}

/** Why `error` is not the one expected, or undefined. */
function wrongError(error: unknown, variation: Variation): string | undefined {
  if (!(error instanceof variation.error) || !(error instanceof InvalidArgumentError)) {
    return `failed with ${showError(error)}, want ${variation.error.name}`;
  }
  if (error.argument !== variation.argument) return `named '${error.argument}'`;
  return undefined;
}

const PENDING = 'pending' as const;

/** Makes the call; returns what is wrong with how it failed, or undefined when it failed as documented. */
async function check(form: Form, variation: Variation): Promise<string | undefined> {
  let returned: unknown;
  try {
    returned = variation.call();
  } catch (error) {
    if (form === 'reject') return `threw synchronously (${showError(error)}) instead of rejecting`;
    return wrongError(error, variation);
  }
  if (returned instanceof ZkClient) {
    await returned.close();
    return 'connected (returned a client)';
  }
  if (!(returned instanceof Promise)) {
    return form === 'throw' ? `returned ${show(returned)} instead of throwing` : `returned ${show(returned)}`;
  }
  const outcome = await Promise.race([
    returned.then(
      (value: unknown) => ({ value }),
      (error: unknown) => ({ error }),
    ),
    sleep(1_000).then(() => PENDING),
  ]);
  if (outcome === PENDING) {
    returned.catch(() => undefined); // rejected with ClosedError when the client closes
    return form === 'throw' ? 'returned a pending promise instead of throwing' : 'still pending after 1 s';
  }
  if ('value' in outcome) return `resolved to ${show(outcome.value)}`;
  if (form === 'throw') return `rejected (${showError(outcome.error)}) instead of throwing`;
  return wrongError(outcome.error, variation);
}

// ---------------------------------------------------------------------------------------------------
// Counting what reaches the server.

const opNames = new Map<number, string>(Object.entries(OpCode).map(([name, code]) => [code, name]));

/** Requests by opcode name counted since `before`, pings left out. */
function sentSince(proxy: ZkProxy, before: Map<number, number>): Record<string, number> {
  const sent: Record<string, number> = {};
  for (const [type, n] of proxy.requestsByType()) {
    const delta = n - (before.get(type) ?? 0);
    if (delta > 0 && type !== OpCode.ping) sent[opNames.get(type) ?? String(type)] = delta;
  }
  return sent;
}

const pingsIn = (byType: Map<number, number>): number => byType.get(OpCode.ping) ?? 0;
const totalIn = (byType: Map<number, number>): number => [...byType.values()].reduce((a, b) => a + b, 0);

/** Waits until the proxy has seen no request but pings for `quietMs`. */
async function quiet(proxy: ZkProxy, quietMs = 300): Promise<void> {
  const nonPing = () => totalIn(proxy.requestsByType()) - pingsIn(proxy.requestsByType());
  for (let last = nonPing(); ;) {
    await sleep(quietMs);
    const now = nonPing();
    if (now === last) return;
    last = now;
  }
}

/** What the server counts as received on the connection of `sessionId` (`cons`: recved). */
async function serverReceived(sessionId: string): Promise<number> {
  const mine = (await connections(zk.server.connectString)).find((c) => c.sessionId === `0x${sessionId}`);
  const recved = mine?.fields['recved'];
  if (recved === undefined) throw new Error(`no connection of session 0x${sessionId} on the server`);
  return Number(recved);
}

// ---------------------------------------------------------------------------------------------------

describe('row 11: bad input everywhere', () => {
  it('the fuzz table covers every exported function and every client method', async () => {
    const exported = Object.entries(await import('../../src/index.js'))
      .filter(([, value]) => typeof value === 'function')
      .map(([name]) => name);
    const fuzzed = Object.keys(table).filter((name) => !name.startsWith('client.'));
    const uncovered = exported.filter((name) => !fuzzed.includes(name) && !(name in NOT_FUZZED));
    expect(
      uncovered.filter((name) => !isErrorClass(api[name as keyof typeof api])),
      'not fuzzed',
    ).toEqual([]);
    expect(
      fuzzed.filter((name) => !exported.includes(name)),
      'fuzzed but not exported',
    ).toEqual([]);
    expect(
      Object.keys(NOT_FUZZED).filter((name) => !exported.includes(name) || fuzzed.includes(name)),
      'stale allow-list',
    ).toEqual([]);
    expect(
      fuzzed.filter((name) => !(name in CLIENT_CALLS) && !NO_CLIENT.has(name)),
      'fuzzed without a bad-client case',
    ).toEqual([]);

    const proto = ZkClient.prototype as unknown as Record<string, unknown>;
    const methods = Object.getOwnPropertyNames(proto).filter(
      (name) =>
        name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, name)?.value === 'function',
    );
    const fuzzedMethods = Object.keys(table)
      .filter((name) => name.startsWith('client.'))
      .map((name) => name.slice('client.'.length));
    expect(
      methods.filter((m) => !fuzzedMethods.includes(m) && !(m in CLIENT_NOT_FUZZED)),
      'client methods not fuzzed',
    ).toEqual([]);
    expect(
      [...fuzzedMethods, ...Object.keys(CLIENT_NOT_FUZZED)].filter((m) => !methods.includes(m)),
      'fuzzed client methods that do not exist',
    ).toEqual([]);
  });

  it('every bad call fails with a typed error naming the argument; nothing is sent, nothing disturbed', async () => {
    const proxy = await startProxy(zk.server.connectString);
    const holder = zk.client();
    // Pings every third of the session timeout: a long one keeps them out of the fuzz's way.
    const c = zk.client({ connectString: proxy.connectString, sessionTimeout: 30_000 });
    let pending: Promise<LockHandle> | undefined;
    try {
      // A live stream and a pending operation on the fuzzing client, both started before the fuzz.
      const node = `${zk.root}/live`;
      const lockPath = `${zk.root}/lock`;
      await holder.create(node, 'before');
      const held = await acquire(holder, lockPath);
      await c.ready();
      const sessionId = c.sessionId!;
      const states: string[] = [];
      const stateSubscription = c.state$.subscribe((s) => states.push(s.type));
      const seen: (string | null)[] = [];
      const live = data$(c, node).subscribe({
        next: (v) => seen.push(v === null ? null : v.data.toString()),
        error: (e: unknown) => seen.push(`error: ${showError(e)}`),
      });
      let pendingState = 'pending';
      pending = acquire(c, lockPath).then(
        (handle) => ((pendingState = 'acquired'), handle),
        (error: unknown) => {
          pendingState = `rejected: ${showError(error)}`;
          throw error;
        },
      );
      await eventually(async () => {
        expect(seen).toEqual(['before']);
        expect((await holder.children(lockPath)).children).toHaveLength(2);
      });
      await quiet(proxy);
      const clientsBefore = openClientCount();
      const acceptedBefore = proxy.stats.accepted;
      const before = proxy.requestsByType();
      const serverBefore = await serverReceived(sessionId);
      const started = performance.now();

      // The fuzz: one call at a time, each checked, and what it sent attributed to it.
      const ctx: Context = { c, p: `${zk.root}/fuzz`, connectString: proxy.connectString };
      const failures: string[] = [];
      let calls = 0;
      for (const [name, entry] of Object.entries(table)) {
        const withClient = CLIENT_CALLS[name];
        const clientCases = withClient ? vary('client', NOT_CLIENTS, (v) => withClient(v, ctx.p)) : [];
        for (const variation of [...clientCases, ...entry.cases(ctx)]) {
          calls++;
          const mark = proxy.requestsByType();
          const problem = await check(entry.form, variation);
          await new Promise((resolve) => setImmediate(resolve));
          const sent = sentSince(proxy, mark);
          const what = `${name}(${variation.argument} = ${show(variation.value)})`;
          if (problem) failures.push(`${what}: ${problem}`);
          if (Object.keys(sent).length > 0) failures.push(`${what}: sent ${JSON.stringify(sent)}`);
        }
      }
      const elapsed = performance.now() - started;
      await sleep(300); // anything a bad call queued in the C client would be on the wire by now
      const sent = sentSince(proxy, before);
      const after = proxy.requestsByType();
      const pings = pingsIn(after) - pingsIn(before);

      expect(failures, `${failures.length} of ${calls} bad calls`).toEqual([]);
      expect(sent, 'requests other than pings during the fuzz').toEqual({});
      expect(openClientCount(), 'clients opened by connect() with bad input').toBe(clientsBefore);
      expect(proxy.stats.accepted, 'connections made during the fuzz').toBe(acceptedBefore);
      // The server's own count for the connection agrees: what it received since is the pings.
      const serverDelta = await eventually(async () => {
        const delta = (await serverReceived(sessionId)) - serverBefore;
        expect(delta).toBe(totalIn(proxy.requestsByType()) - totalIn(before));
        return delta;
      });

      // The counters see a real request: one exists(), one more received by the server.
      const controlBefore = proxy.requestsByType();
      const serverControlBefore = await serverReceived(sessionId);
      await c.exists(node);
      await eventually(async () =>
        expect((await serverReceived(sessionId)) - serverControlBefore).toBe(
          totalIn(proxy.requestsByType()) - totalIn(controlBefore),
        ),
      );
      expect(sentSince(proxy, controlBefore)).toEqual({ exists: 1 });

      // Nothing else on the client was disturbed: the stream shows a change made now, the pending
      // acquire() gets the lock once it is released, and the session never moved.
      expect(pendingState).toBe('pending');
      await holder.set(node, 'after');
      await eventually(() => expect(seen).toEqual(['before', 'after']));
      await held.release();
      const handle = await pending;
      expect(handle.token).toBeGreaterThan(held.token);
      await handle.release();
      expect(states).toEqual(['connected']);
      expect(c.sessionId).toBe(sessionId);
      live.unsubscribe();
      stateSubscription.unsubscribe();

      const functions = Object.keys(table).filter((n) => !n.startsWith('client.')).length;
      const methods = Object.keys(table).length - functions;
      const srvr = await fourLetter(zk.server.host, zk.server.clientPort, 'srvr');
      console.info(
        `row 11: ${calls} bad calls over ${functions} functions and ${methods} client methods in ${elapsed.toFixed(0)} ms: ` +
          `0 requests sent besides ${pings} pings (server recved +${serverDelta})`,
      );
      recordFault({
        row: 11,
        scenario: 'Bad input everywhere',
        checked:
          `${calls} calls with bad arguments to ${functions} exported functions and ${methods} client methods ` +
          '(clients, paths, data over 1 MiB and over the request limit, versions, options, ACLs, callbacks, wrong JavaScript types): ' +
          'each failed with an InvalidArgumentError naming the argument, in the documented form (throw or reject); ' +
          'requests counted by opcode at a loopback proxy and by the server (cons recved; both see a control ' +
          'exists() as +1); a data$ stream and a ' +
          'pending acquire() on the same client were undisturbed; every exported function is in the table or ' +
          'allow-listed.',
        figure: `0 requests sent for ${calls} bad calls (${pings} pings; server recved +${serverDelta}); 0 misreported`,
        server: /^Zookeeper version: ([\d.]+)/m.exec(srvr)?.[1],
      });
    } finally {
      pending?.catch(() => undefined); // rejected with ClosedError if the test failed before it settled
      // Close before the proxy goes: a session whose close cannot reach the server lingers on it.
      await c.close();
      await holder.close();
      await proxy.close();
    }
  });
});
