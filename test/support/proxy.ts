import net from 'node:net';
import { parseTarget, type HostPort, type ZkTarget } from './fourLetter.js';
import { freePort, LOOPBACK } from './ports.js';

/**
 * A loopback TCP proxy between a ZooKeeper client and its servers that a test can turn into
 * a network fault: a partition (blackhole), dropped connections (reset), a dead port (refuse),
 * or a connection lost right after the server received a given request (cutAfterRequest).
 */

/** Request types of the ZooKeeper client protocol (`OpCode` in ZooDefs). */
export const OpCode = {
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
} as const;

export type ProxyMode = 'pass' | 'blackhole' | 'refuse';

export interface ProxyStats {
  /** Client connections accepted since start. */
  accepted: number;
  /** Client connections currently open. */
  active: number;
  /** Bytes forwarded client to server. */
  bytesToServer: number;
  /** Bytes forwarded server to client. */
  bytesToClient: number;
  /** Bytes swallowed by blackhole mode or after a cut, both directions. */
  bytesDropped: number;
  /**
   * Client requests seen, forwarded or not (a partition swallows them, but the client sent them): every
   * framed request, the ConnectRequest of each connection included. By type: `requestsByType()`.
   */
  requests: number;
}

export interface CutEvent {
  /** Request type that fired the trigger. */
  opCode: number;
  xid: number;
  /** The upstream the request was forwarded to. */
  upstream: HostPort;
}

export interface ProxyControls {
  /** Forward normally (and accept again after refuse). Connections whose peer went away meanwhile are closed. */
  pass(): Promise<void>;
  /** Keep every connection (and accept new ones) but drop all bytes both ways, like a partition. */
  blackhole(): Promise<void>;
  /** Reset every current connection (RST to both ends); keeps accepting in the current mode. */
  reset(): Promise<void>;
  /** Stop listening: new connections are refused until pass(). Open connections are left alone. */
  refuse(): Promise<void>;
}

export interface ProxyListener extends ProxyControls {
  readonly port: number;
  readonly upstream: HostPort;
  /** `127.0.0.1:port` of this listener. */
  readonly connectString: string;
  readonly mode: ProxyMode;
  readonly stats: Readonly<ProxyStats>;
  /** `stats.requests` by request type (`OpCode`; a ConnectRequest counts as `OpCode.createSession`). A copy. */
  requestsByType(): Map<number, number>;
}

export interface ZkProxy extends ProxyControls {
  /** One listener per upstream, in the order of the target. */
  readonly listeners: readonly ProxyListener[];
  /** The first listener's port. */
  readonly port: number;
  /** Every listener, comma-separated: hand this to the client instead of the servers'. */
  readonly connectString: string;
  /** Summed over all listeners. */
  readonly stats: Readonly<ProxyStats>;
  /** Client requests by type (`OpCode`), summed over all listeners. A copy. */
  requestsByType(): Map<number, number>;
  /**
   * Arms a one-shot trigger: the next client request whose type is in `opCodes` (on any listener)
   * is forwarded to the server, then the client's connection is reset before any reply can reach
   * it. Resolves when it fired; rejects after `timeoutMs` (default 60 s) if it never did.
   * Arming again replaces the previous trigger.
   */
  cutAfterRequest(opCodes: readonly number[], timeoutMs?: number): Promise<CutEvent>;
  /** Destroys every connection and listener. Idempotent. */
  close(): Promise<void>;
}

export interface FrameHeader {
  xid: number;
  type: number;
}

/**
 * Follows the client-to-server byte stream of one connection frame by frame (4-byte big-endian
 * length, then body) across arbitrary chunking. The first frame is the ConnectRequest, which has
 * no request header; every later frame starts with xid and type.
 */
export class ClientFrameScanner {
  private readonly lengthBytes = Buffer.alloc(4);
  private lengthHave = 0;
  private readonly headerBytes = Buffer.alloc(8);
  private bodyLength = 0;
  private bodyHave = 0;
  private framesDone = 0;
  private headerChecked = false;
  private cutPending = false;
  private lost = false;

  /**
   * `shouldCut` is asked about every request after the ConnectRequest; `onRequest`, when given, hears of
   * every request, the ConnectRequest included (as type `OpCode.createSession`, xid 0).
   */
  constructor(
    private readonly shouldCut: (header: FrameHeader) => boolean,
    private readonly onRequest?: (header: FrameHeader) => void,
  ) {}

  /** Frames completely seen so far, the ConnectRequest included. */
  get frames(): number {
    return this.framesDone;
  }

  /**
   * Consumes a chunk. Returns how many of its bytes to forward before cutting the connection
   * (the end of the frame `shouldCut` accepted), or undefined when the whole chunk may pass.
   */
  push(chunk: Buffer): number | undefined {
    let offset = 0;
    while (offset < chunk.length && !this.lost) {
      if (this.lengthHave < 4) {
        const n = Math.min(4 - this.lengthHave, chunk.length - offset);
        chunk.copy(this.lengthBytes, this.lengthHave, offset, offset + n);
        this.lengthHave += n;
        offset += n;
        if (this.lengthHave === 4) this.beginBody();
      } else {
        const n = Math.min(this.bodyLength - this.bodyHave, chunk.length - offset);
        if (this.bodyHave < 8) {
          const headerPart = Math.min(n, 8 - this.bodyHave);
          chunk.copy(this.headerBytes, this.bodyHave, offset, offset + headerPart);
        }
        this.bodyHave += n;
        offset += n;
        this.checkHeader();
      }
      if (this.lengthHave === 4 && this.bodyHave === this.bodyLength && this.endFrame()) return offset;
    }
    return undefined;
  }

  private beginBody(): void {
    this.bodyLength = this.lengthBytes.readInt32BE(0);
    this.bodyHave = 0;
    this.headerChecked = false;
    // Not the ZooKeeper protocol (a four-letter word, garbage): stop interpreting.
    if (this.bodyLength < 0) this.lost = true;
  }

  private checkHeader(): void {
    if (this.headerChecked || this.bodyHave < 8) return;
    this.headerChecked = true;
    if (this.framesDone === 0) {
      // ConnectRequest: no header.
      this.onRequest?.({ xid: 0, type: OpCode.createSession });
      return;
    }
    const header = { xid: this.headerBytes.readInt32BE(0), type: this.headerBytes.readInt32BE(4) };
    this.onRequest?.(header);
    if (this.shouldCut(header)) this.cutPending = true;
  }

  /** Closes the current frame; true when it is the one to cut after. */
  private endFrame(): boolean {
    this.framesDone++;
    this.lengthHave = 0;
    this.bodyLength = 0;
    this.bodyHave = 0;
    const cut = this.cutPending;
    this.cutPending = false;
    return cut;
  }
}

interface Trigger {
  opCodes: ReadonlySet<number>;
  resolve: (event: CutEvent) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Shared by the listeners of one proxy so a cut trigger fires once across all of them. */
class TriggerSlot {
  private armed: Trigger | undefined;

  arm(opCodes: readonly number[], timeoutMs: number): Promise<CutEvent> {
    this.disarm(new Error('cutAfterRequest was re-armed before it fired'));
    return new Promise<CutEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.armed = undefined;
        reject(new Error(`cutAfterRequest([${opCodes.join(', ')}]) did not fire within ${timeoutMs} ms`));
      }, timeoutMs);
      this.armed = { opCodes: new Set(opCodes), resolve, reject, timer };
    });
  }

  /** Claims the trigger for a request of `type`, if armed for it. */
  take(type: number): Trigger | undefined {
    const armed = this.armed;
    if (!armed || !armed.opCodes.has(type)) return undefined;
    this.armed = undefined;
    clearTimeout(armed.timer);
    return armed;
  }

  disarm(reason?: Error): void {
    const armed = this.armed;
    if (!armed) return;
    this.armed = undefined;
    clearTimeout(armed.timer);
    if (reason) armed.reject(reason);
  }
}

// After a cut, the upstream side stays open until the server answered (or this long),
// so the server surely processes the request instead of racing it against a closed socket.
const UPSTREAM_LINGER_MS = 1_000;
const PEER_CLOSE_GRACE_MS = 5_000;

function hardClose(socket: net.Socket): void {
  if (socket.destroyed) return;
  try {
    // RST rather than FIN: what a crashed peer or a middlebox drop looks like to the other end.
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

class Pair {
  cut = false;
  clientGone = false;
  upstreamGone = false;
  private clientEnded = false;
  private upstreamEnded = false;
  private readonly scanner: ClientFrameScanner;

  constructor(
    private readonly listener: Listener,
    readonly client: net.Socket,
    readonly upstream: net.Socket,
  ) {
    this.scanner = new ClientFrameScanner(
      (header) => this.listener.claimCut(header),
      (header) => this.listener.countRequest(header.type),
    );
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (chunk: Buffer) => this.fromClient(chunk));
    upstream.on('data', (chunk: Buffer) => this.fromUpstream(chunk));
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.once('close', () => {
      this.clientGone = true;
      this.listener.clientClosed(this);
      if (!this.cut && this.listener.mode !== 'blackhole') this.follow(this.clientEnded, upstream);
    });
    upstream.once('close', () => {
      this.upstreamGone = true;
      this.listener.upstreamClosed(this);
      if (!this.cut && this.listener.mode !== 'blackhole') this.follow(this.upstreamEnded, client);
    });
    // Both sockets allow half-open connections, so a client that sends a four-letter word and
    // half-closes still gets the answer. In a partition the FIN is held back like any byte.
    client.on('end', () => {
      this.clientEnded = true;
      if (!this.cut && this.listener.mode !== 'blackhole') upstream.end();
    });
    upstream.on('end', () => {
      this.upstreamEnded = true;
      if (!this.cut && this.listener.mode !== 'blackhole') client.end();
    });
  }

  private fromClient(chunk: Buffer): void {
    const stats = this.listener.stats;
    if (this.cut) {
      stats.bytesDropped += chunk.length;
      return;
    }
    const cutAt = this.scanner.push(chunk);
    if (this.listener.mode === 'blackhole') {
      stats.bytesDropped += chunk.length;
      return;
    }
    const forward = cutAt === undefined ? chunk : chunk.subarray(0, cutAt);
    stats.bytesToServer += forward.length;
    stats.bytesDropped += chunk.length - forward.length;
    this.upstream.write(forward);
    if (cutAt !== undefined) this.cutNow();
  }

  private fromUpstream(chunk: Buffer): void {
    const stats = this.listener.stats;
    if (this.cut) {
      stats.bytesDropped += chunk.length;
      // The server answered: it has processed the request, the upstream can go.
      this.upstream.destroy();
      return;
    }
    if (this.listener.mode === 'blackhole') {
      stats.bytesDropped += chunk.length;
      return;
    }
    stats.bytesToClient += chunk.length;
    this.client.write(chunk);
  }

  private cutNow(): void {
    this.cut = true;
    hardClose(this.client);
    const timer = setTimeout(() => this.upstream.destroy(), UPSTREAM_LINGER_MS);
    timer.unref();
    this.upstream.once('close', () => clearTimeout(timer));
  }

  /**
   * One side closed: a graceful close (FIN seen) is passed on as FIN so the peer still reads
   * what was in flight, an abrupt one as RST.
   */
  private follow(graceful: boolean, peer: net.Socket): void {
    if (!graceful) {
      hardClose(peer);
      return;
    }
    peer.end();
    // Should the peer never close its half, do not keep it forever.
    const timer = setTimeout(() => peer.destroy(), PEER_CLOSE_GRACE_MS);
    timer.unref();
    peer.once('close', () => clearTimeout(timer));
  }

  /** After a partition heals, a side that went away meanwhile takes its peer with it. */
  settle(): void {
    if (this.cut) return;
    if (this.upstreamGone) this.follow(this.upstreamEnded, this.client);
    else if (this.upstreamEnded) this.client.end();
    if (this.clientGone) this.follow(this.clientEnded, this.upstream);
    else if (this.clientEnded) this.upstream.end();
  }

  reset(): void {
    hardClose(this.client);
    hardClose(this.upstream);
  }
}

const zeroStats = (): ProxyStats => ({
  accepted: 0,
  active: 0,
  bytesToServer: 0,
  bytesToClient: 0,
  bytesDropped: 0,
  requests: 0,
});

class Listener implements ProxyListener {
  mode: ProxyMode = 'pass';
  readonly stats: ProxyStats = zeroStats();
  readonly connectString: string;
  private readonly byType = new Map<number, number>();
  private server: net.Server | undefined;
  private readonly pairs = new Set<Pair>();
  private closed = false;

  constructor(
    readonly port: number,
    readonly upstream: HostPort,
    private readonly trigger: TriggerSlot,
  ) {
    this.connectString = `${LOOPBACK}:${port}`;
  }

  // A port below the ephemeral range (freePort): after refuse() the port is unbound for a
  // while, and no outgoing connection may grab it as its local port meanwhile.
  static async open(upstream: HostPort, trigger: TriggerSlot): Promise<Listener> {
    for (let attempt = 1; ; attempt++) {
      const server = net.createServer({ allowHalfOpen: true });
      const port = await freePort();
      try {
        await listen(server, port);
      } catch (err) {
        if (attempt < 5) continue;
        throw err;
      }
      const listener = new Listener(port, upstream, trigger);
      listener.adopt(server);
      return listener;
    }
  }

  async pass(): Promise<void> {
    this.mode = 'pass';
    for (const pair of this.pairs) pair.settle();
    await this.ensureListening();
  }

  async blackhole(): Promise<void> {
    this.mode = 'blackhole';
    await this.ensureListening();
  }

  async reset(): Promise<void> {
    for (const pair of [...this.pairs]) pair.reset();
  }

  async refuse(): Promise<void> {
    this.mode = 'refuse';
    this.unlisten();
  }

  countRequest(type: number): void {
    this.stats.requests++;
    this.byType.set(type, (this.byType.get(type) ?? 0) + 1);
  }

  requestsByType(): Map<number, number> {
    return new Map(this.byType);
  }

  claimCut(header: FrameHeader): boolean {
    if (this.mode !== 'pass') return false;
    const armed = this.trigger.take(header.type);
    if (!armed) return false;
    // Resolve once the frame has been handed to the upstream socket, i.e. after push() returns.
    queueMicrotask(() => armed.resolve({ opCode: header.type, xid: header.xid, upstream: this.upstream }));
    return true;
  }

  clientClosed(pair: Pair): void {
    this.stats.active--;
    if (pair.upstreamGone) this.pairs.delete(pair);
  }

  upstreamClosed(pair: Pair): void {
    if (pair.clientGone) this.pairs.delete(pair);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unlisten();
    for (const pair of [...this.pairs]) pair.reset();
  }

  private async ensureListening(): Promise<void> {
    if (this.server || this.closed) return;
    const server = net.createServer({ allowHalfOpen: true });
    await listen(server, this.port);
    this.adopt(server);
  }

  private adopt(server: net.Server): void {
    this.server = server;
    server.on('connection', (client) => this.accept(client));
    server.on('error', () => undefined);
  }

  private unlisten(): void {
    const server = this.server;
    this.server = undefined;
    // close() stops accepting at once; its callback would wait for open connections.
    server?.close();
  }

  private accept(client: net.Socket): void {
    if (this.closed || this.mode === 'refuse') {
      hardClose(client);
      return;
    }
    this.stats.accepted++;
    this.stats.active++;
    const upstream = net.connect({ host: this.upstream.host, port: this.upstream.port, allowHalfOpen: true });
    this.pairs.add(new Pair(this, client, upstream));
  }
}

function listen(server: net.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      server.off('error', reject);
      const address = server.address();
      if (typeof address === 'object' && address !== null) resolve(address.port);
      else reject(new Error('proxy listener has no TCP address'));
    });
  });
}

class Proxy implements ZkProxy {
  readonly connectString: string;
  private closed = false;

  constructor(
    readonly listeners: readonly Listener[],
    private readonly trigger: TriggerSlot,
  ) {
    this.connectString = listeners.map((l) => l.connectString).join(',');
  }

  get port(): number {
    const first = this.listeners[0];
    if (!first) throw new Error('proxy has no listeners');
    return first.port;
  }

  get stats(): Readonly<ProxyStats> {
    const sum = zeroStats();
    for (const { stats } of this.listeners) {
      sum.accepted += stats.accepted;
      sum.active += stats.active;
      sum.bytesToServer += stats.bytesToServer;
      sum.bytesToClient += stats.bytesToClient;
      sum.bytesDropped += stats.bytesDropped;
      sum.requests += stats.requests;
    }
    return sum;
  }

  requestsByType(): Map<number, number> {
    const sum = new Map<number, number>();
    for (const listener of this.listeners) {
      for (const [type, n] of listener.requestsByType()) sum.set(type, (sum.get(type) ?? 0) + n);
    }
    return sum;
  }

  async pass(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.pass()));
  }

  async blackhole(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.blackhole()));
  }

  async reset(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.reset()));
  }

  async refuse(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.refuse()));
  }

  cutAfterRequest(opCodes: readonly number[], timeoutMs = 60_000): Promise<CutEvent> {
    if (this.closed) return Promise.reject(new Error('proxy is closed'));
    return this.trigger.arm(opCodes, timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.trigger.disarm();
    await Promise.all(this.listeners.map((l) => l.close()));
  }
}

/**
 * Starts a proxy in pass mode with one loopback listener per server of `target`
 * (a client port, `host:port`, or a whole connect string).
 */
export async function startProxy(target: ZkTarget): Promise<ZkProxy> {
  const upstreams = parseTarget(target);
  if (upstreams.length === 0) throw new Error(`no upstream in '${String(target)}'`);
  const trigger = new TriggerSlot();
  const listeners: Listener[] = [];
  try {
    for (const upstream of upstreams) listeners.push(await Listener.open(upstream, trigger));
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    throw err;
  }
  return new Proxy(listeners, trigger);
}
