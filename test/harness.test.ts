import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  aliveConnections,
  connections,
  ephemeralsBySession,
  fourLetter,
  liveSessions,
  mntr,
  ruok,
  serverMode,
  watchCount,
  watchesByPath,
  watchesBySession,
} from './support/fourLetter.js';
import { freePort, freePorts } from './support/ports.js';
import { ClientFrameScanner, OpCode, startProxy, type ZkProxy } from './support/proxy.js';
import { startEnsemble, startZooKeeper, type ZkEnsemble, type ZkServer } from './support/zookeeper.js';

// Self-test of the real-ZooKeeper harness. It speaks the wire protocol by hand (below) so it
// depends on nothing under src/.

const START_TIMEOUT_MS = 90_000;

// ---- a minimal hand-rolled ZooKeeper client, just enough for the harness checks ----

const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(n);
  return b;
};
const ustring = (s: string): Buffer => {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([int32(bytes.length), bytes]);
};
const frame = (body: Buffer): Buffer => Buffer.concat([int32(body.length), body]);

function connectRequest(timeoutMs = 30_000): Buffer {
  // protocolVersion, lastZxidSeen, timeOut, sessionId, passwd (16 zero bytes), readOnly
  return frame(
    Buffer.concat([
      int32(0),
      int64(0n),
      int32(timeoutMs),
      int64(0n),
      int32(16),
      Buffer.alloc(16),
      Buffer.from([0]),
    ]),
  );
}

function requestFrame(xid: number, type: number, payload: Buffer): Buffer {
  return frame(Buffer.concat([int32(xid), int32(type), payload]));
}

const existsPayload = (path: string, watch: boolean): Buffer =>
  Buffer.concat([ustring(path), Buffer.from([watch ? 1 : 0])]);

// path, data, ACL [world:anyone ALL], flags (0 persistent, 1 ephemeral)
const createPayload = (path: string, ephemeral = false): Buffer =>
  Buffer.concat([
    ustring(path),
    int32(0),
    int32(1),
    int32(31),
    ustring('world'),
    ustring('anyone'),
    int32(ephemeral ? 1 : 0),
  ]);

interface Reply {
  xid: number;
  err: number;
}

const ZOK = 0;
const ZNONODE = -101;

class RawSession {
  private buffer = Buffer.alloc(0);
  private readonly waiting = new Map<number, (reply: Reply | Error) => void>();
  private nextXid = 1;
  closed: Promise<Error | undefined>;

  private constructor(
    readonly socket: net.Socket,
    readonly sessionId: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.closed = new Promise((resolve) => {
      let error: Error | undefined;
      socket.on('error', (err) => (error = err));
      socket.on('close', () => {
        for (const waiter of this.waiting.values()) waiter(new Error('connection closed before the reply'));
        this.waiting.clear();
        resolve(error);
      });
    });
  }

  static async open(port: number, timeoutMs = 5_000): Promise<RawSession> {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    const response = await readOneFrame(socket, connectRequest(), timeoutMs);
    // protocolVersion(4) timeOut(4) sessionId(8)
    const sessionId = `0x${response.readBigInt64BE(8).toString(16)}`;
    return new RawSession(socket, sessionId);
  }

  request(type: number, payload: Buffer, timeoutMs = 5_000): Promise<Reply> {
    const xid = this.nextXid++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no reply to xid ${xid} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.set(xid, (reply) => {
        clearTimeout(timer);
        if (reply instanceof Error) reject(reply);
        else resolve(reply);
      });
      this.socket.write(requestFrame(xid, type, payload));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const length = this.buffer.readInt32BE(0);
      if (this.buffer.length < 4 + length) return;
      const body = this.buffer.subarray(4, 4 + length);
      this.buffer = this.buffer.subarray(4 + length);
      // ReplyHeader: xid, zxid, err; watch events (xid -1) are not awaited here
      const reply = { xid: body.readInt32BE(0), err: body.readInt32BE(12) };
      this.waiting.get(reply.xid)?.(reply);
      this.waiting.delete(reply.xid);
    }
  }
}

/** Writes `data` and resolves the body of the first frame that comes back. */
function readOneFrame(socket: net.Socket, data: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`no connect response within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 4 || buffer.length < 4 + buffer.readInt32BE(0)) return;
      cleanup();
      if (buffer.length > 4 + buffer.readInt32BE(0))
        socket.unshift(buffer.subarray(4 + buffer.readInt32BE(0)));
      resolve(buffer.subarray(4, 4 + buffer.readInt32BE(0)));
    };
    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onClose = (): void => fail(new Error('connection closed before the connect response'));
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(data);
  });
}

/** Connects and resolves whether the connection was refused. */
function isRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Sends raw bytes and collects whatever arrives within `ms`. */
function sendAndCollect(port: number, data: string, ms: number): Promise<{ text: string; open: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    let open = true;
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('close', () => (open = false));
    socket.on('error', () => undefined);
    socket.once('connect', () => socket.write(data));
    setTimeout(() => {
      socket.destroy();
      resolve({ text, open });
    }, ms);
  });
}

async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---- tests ----

describe('ports', () => {
  it('hands out distinct loopback ports that can be bound', async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await freePort()).not.toBe(ports[0]);
  });
});

describe('ClientFrameScanner', () => {
  const connect = connectRequest();
  const ping = requestFrame(-2, OpCode.ping, Buffer.alloc(0));
  const exists = requestFrame(1, OpCode.exists, existsPayload('/a', false));
  const create = requestFrame(2, OpCode.create, createPayload('/b'));
  const after = requestFrame(3, OpCode.getData, existsPayload('/b', false));
  const stream = Buffer.concat([connect, ping, exists, create, after]);
  const cutOffset = connect.length + ping.length + exists.length + create.length;

  it('finds the end of the matching frame when everything arrives in one chunk', () => {
    const seen: number[] = [];
    const scanner = new ClientFrameScanner((h) => {
      seen.push(h.type);
      return h.type === OpCode.create;
    });
    expect(scanner.push(stream)).toBe(cutOffset);
    expect(seen).toEqual([OpCode.ping, OpCode.exists, OpCode.create]);
  });

  it('finds it when the stream arrives byte by byte', () => {
    const scanner = new ClientFrameScanner((h) => h.type === OpCode.create);
    let consumed = 0;
    let cutAt: number | undefined;
    for (let i = 0; i < stream.length && cutAt === undefined; i++) {
      const at = scanner.push(stream.subarray(i, i + 1));
      if (at !== undefined) cutAt = consumed + at;
      consumed++;
    }
    expect(cutAt).toBe(cutOffset);
  });

  it('never matches the ConnectRequest, even if its bytes look like the opcode', () => {
    // A ConnectRequest whose bytes 4..8 (timeOut) read as type 1 = create.
    const tricky = frame(Buffer.concat([int32(0), int32(0), int32(1), Buffer.alloc(25)]));
    const scanner = new ClientFrameScanner((h) => h.type === OpCode.create);
    expect(scanner.push(tricky)).toBeUndefined();
    expect(scanner.push(create.subarray(0, 7))).toBeUndefined();
    expect(scanner.push(Buffer.concat([create.subarray(7), after]))).toBe(create.length - 7);
  });
});

describe('single server', () => {
  let zk: ZkServer;
  let proxy: ZkProxy | undefined;

  beforeAll(async () => {
    const t0 = Date.now();
    zk = await startZooKeeper({ minSessionTimeout: 2_000, maxSessionTimeout: 10_000 });
    console.info(`single server up in ${Date.now() - t0} ms at ${zk.connectString}`);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await proxy?.close();
    await zk?.close();
  }, 60_000);

  it('answers ruok and srvr in standalone mode', async () => {
    expect(zk.connectString).toBe(`127.0.0.1:${zk.clientPort}`);
    expect(await fourLetter('127.0.0.1', zk.clientPort, 'ruok')).toBe('imok');
    expect(await serverMode(zk.clientPort)).toBe('standalone');
    expect(await zk.mode()).toBe('standalone');
    expect(zk.config).toContain('extendedTypesEnabled=true');
    expect(zk.config).toContain('minSessionTimeout=2000');
  });

  it('reports sessions, connections and watches through the four-letter words', async () => {
    const session = await RawSession.open(zk.clientPort);
    try {
      expect((await session.request(OpCode.create, createPayload('/eph', true))).err).toBe(ZOK);
      expect((await session.request(OpCode.exists, existsPayload('/watched', true))).err).toBe(ZNONODE);

      expect(await liveSessions(zk.connectString)).toContain(session.sessionId);
      const conns = await connections(zk.clientPort);
      expect(conns.find((c) => c.sessionId === session.sessionId)?.fields['to']).toBe('10000');
      expect(await aliveConnections(zk.clientPort)).toBeGreaterThanOrEqual(1);
      expect(Number((await mntr(zk.clientPort))['zk_watch_count'])).toBe(1);
      expect(await watchCount(zk.connectString)).toBe(1);
      expect((await watchesBySession(zk.clientPort)).get(session.sessionId)).toEqual(['/watched']);
      expect((await watchesByPath(zk.clientPort)).get('/watched')).toEqual([session.sessionId]);
      expect((await ephemeralsBySession(zk.clientPort)).get(session.sessionId)).toEqual(['/eph']);
    } finally {
      session.close();
    }
    await eventually('the session to drop its connection', 5_000, async () =>
      (await liveSessions(zk.clientPort)).length === 0 ? true : undefined,
    );
  });

  it('stops and starts again on the same port with its data', async () => {
    const session = await RawSession.open(zk.clientPort);
    expect((await session.request(OpCode.create, createPayload('/persisted'))).err).toBe(ZOK);
    session.close();

    await zk.stop();
    expect(zk.running).toBe(false);
    expect(await ruok(zk.clientPort, 1_000)).toBe(false);
    await zk.stop(); // no-op

    const t0 = Date.now();
    await zk.start();
    console.info(`single server restarted in ${Date.now() - t0} ms`);
    expect(await serverMode(zk.clientPort)).toBe('standalone');
    const again = await RawSession.open(zk.clientPort);
    try {
      expect((await again.request(OpCode.exists, existsPayload('/persisted', false))).err).toBe(ZOK);
    } finally {
      again.close();
    }
  }, 60_000);

  it('wipeData forgets every znode', async () => {
    await zk.wipeData();
    const session = await RawSession.open(zk.clientPort);
    try {
      expect((await session.request(OpCode.exists, existsPayload('/persisted', false))).err).toBe(ZNONODE);
    } finally {
      session.close();
    }
  }, 60_000);

  it('proxy: pass forwards, blackhole swallows, reset drops connections, refuse refuses', async () => {
    proxy = await startProxy(zk.connectString);
    expect(proxy.connectString).toBe(`127.0.0.1:${proxy.port}`);

    // pass: four-letter words go over the client port, so they work through the proxy
    expect(await fourLetter('127.0.0.1', proxy.port, 'ruok')).toBe('imok');
    expect(proxy.stats.accepted).toBe(1);

    // blackhole: a live session stops hearing from the server, but its socket stays open
    const session = await RawSession.open(proxy.port);
    await proxy.blackhole();
    await expect(session.request(OpCode.exists, existsPayload('/', false), 700)).rejects.toThrow(/no reply/);
    const swallowed = await sendAndCollect(proxy.port, 'ruok', 700);
    expect(swallowed).toEqual({ text: '', open: true });
    expect(proxy.stats.bytesDropped).toBeGreaterThan(0);

    // pass again: new connections work; the old session's request was lost for good
    await proxy.pass();
    expect(await fourLetter('127.0.0.1', proxy.port, 'ruok')).toBe('imok');

    // reset: every open connection is dropped, with a reset, and the proxy keeps accepting
    await proxy.reset();
    const closedWith = await session.closed;
    expect(closedWith?.message ?? 'closed').toMatch(/ECONNRESET|closed/);
    expect(await fourLetter('127.0.0.1', proxy.port, 'ruok')).toBe('imok');

    // refuse: nothing listens until pass()
    await proxy.refuse();
    expect(await isRefused(proxy.port)).toBe(true);
    await proxy.pass();
    expect(await fourLetter('127.0.0.1', proxy.port, 'ruok')).toBe('imok');
  });

  it('proxy: cutAfterRequest lets the request through and resets before the reply', async () => {
    proxy ??= await startProxy(zk.clientPort);
    const session = await RawSession.open(proxy.port);
    const toClientBefore = proxy.stats.bytesToClient;

    const fired = proxy.cutAfterRequest([OpCode.create, OpCode.create2]);
    // Not a create: passes untouched.
    expect((await session.request(OpCode.exists, existsPayload('/cut', false))).err).toBe(ZNONODE);
    const lost = session.request(OpCode.create, createPayload('/cut'), 3_000);
    const event = await fired;
    expect(event.opCode).toBe(OpCode.create);
    expect(event.upstream.port).toBe(zk.clientPort);
    await expect(lost).rejects.toThrow(/closed before the reply/);
    expect(await session.closed).toBeDefined(); // reset, not a clean close
    // Only the exists reply reached the client: length prefix + reply header, no body for NONODE.
    expect(proxy.stats.bytesToClient - toClientBefore).toBe(4 + 16);

    // The server did process the create.
    const check = await RawSession.open(proxy.port);
    try {
      expect((await check.request(OpCode.exists, existsPayload('/cut', false))).err).toBe(ZOK);
      // One-shot: a second create is not cut.
      expect((await check.request(OpCode.create, createPayload('/cut2'))).err).toBe(ZOK);
    } finally {
      check.close();
    }
  });

  it('close() is idempotent', async () => {
    const other = await startProxy(zk.clientPort);
    await other.close();
    await other.close();
    expect(await isRefused(other.port)).toBe(true);
  });
});

describe('ensemble', () => {
  let ensemble: ZkEnsemble;

  beforeAll(async () => {
    const t0 = Date.now();
    ensemble = await startEnsemble(3);
    console.info(`3-node ensemble up in ${Date.now() - t0} ms at ${ensemble.connectString}`);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await ensemble?.close();
    await ensemble?.close();
  }, 60_000);

  it('has one leader and two followers', async () => {
    expect(ensemble.servers).toHaveLength(3);
    expect(ensemble.connectString.split(',')).toHaveLength(3);
    const modes = await Promise.all(ensemble.servers.map((s) => serverMode(s.clientPort)));
    expect([...modes].sort()).toEqual(['follower', 'follower', 'leader']);
    const leader = await ensemble.leader();
    expect(await serverMode(leader.clientPort)).toBe('leader');
  });

  it('proxies every server of a connect string on its own listener', async () => {
    const proxy = await startProxy(ensemble.connectString);
    try {
      expect(proxy.listeners.map((l) => l.upstream.port)).toEqual(ensemble.servers.map((s) => s.clientPort));
      expect(proxy.connectString.split(',')).toHaveLength(3);
      const [first, second] = proxy.listeners;
      if (!first || !second) throw new Error('expected three listeners');
      await first.blackhole();
      expect(first.mode).toBe('blackhole');
      expect(await sendAndCollect(first.port, 'ruok', 300)).toEqual({ text: '', open: true });
      expect(await fourLetter('127.0.0.1', second.port, 'ruok')).toBe('imok');
    } finally {
      await proxy.close();
    }
  });

  it('elects a new leader after the leader is killed, and the old one rejoins as follower', async () => {
    const t0 = Date.now();
    const old = await ensemble.killLeader();
    expect(old.running).toBe(false);
    const next = await ensemble.leader(30_000);
    console.info(`new leader elected ${Date.now() - t0} ms after the kill`);
    expect(next.id).not.toBe(old.id);

    await old.start();
    expect(await old.mode()).toBe('follower');
    await ensemble.waitForQuorum(30_000);
  }, 90_000);

  it('pauses a follower (it answers nothing, the others keep a quorum) and resumes it where it stood', async () => {
    const leader = await ensemble.leader();
    const follower = ensemble.servers.find((s) => s !== leader)!;
    await follower.pause();
    try {
      expect(follower.paused).toBe(true);
      expect(follower.running).toBe(true);
      // The kernel still accepts the connection; the frozen JVM never answers.
      expect(await ruok(follower.clientPort, 500)).toBe(false);
      await ensemble.waitForQuorum(30_000);
      // The others serve writes meanwhile.
      const session = await RawSession.open(leader.clientPort);
      try {
        expect((await session.request(OpCode.create, createPayload('/while-paused'))).err).toBe(ZOK);
      } finally {
        session.close();
      }
    } finally {
      await follower.resume();
    }
    expect(follower.paused).toBe(false);
    await ensemble.waitForQuorum(30_000);
    // Caught up: it serves what was written while it was frozen.
    const back = await RawSession.open(follower.clientPort);
    try {
      expect((await back.request(OpCode.exists, existsPayload('/while-paused', false))).err).toBe(ZOK);
    } finally {
      back.close();
    }
  }, 90_000);
});
