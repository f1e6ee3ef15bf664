import { readFileSync } from 'node:fs';
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

// Ports below the kernel's ephemeral range are never handed out as the local
// end of an outgoing connection, so a port we picked cannot be taken by one of
// the many short-lived client sockets the tests open before the server binds it.
const FALLBACK_EPHEMERAL_LOW = 32768;
const RANGE_LOW = 20000;
const ATTEMPTS = 50;

// Within one test file the same port is never handed out twice, even after the
// server using it stopped: a stopped server keeps its port to start again.
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(low);
    return Number.isInteger(n) && n > RANGE_LOW + 1000 ? n : FALLBACK_EPHEMERAL_LOW;
  } catch {
    return FALLBACK_EPHEMERAL_LOW;
  }
}

/** Binds 127.0.0.1:port (0 = kernel's choice) and closes again; resolves the bound port or null if taken. */
function probe(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** A loopback TCP port that is free right now and was not handed out before by this process. */
export async function freePort(): Promise<number> {
  const high = ephemeralLow() - 1;
  for (let i = 0; i < ATTEMPTS; i++) {
    const candidate = RANGE_LOW + Math.floor(Math.random() * (high - RANGE_LOW));
    if (handedOut.has(candidate)) continue;
    if ((await probe(candidate)) === candidate) {
      handedOut.add(candidate);
      return candidate;
    }
  }
  // Crowded low range: let the kernel pick one.
  for (let i = 0; i < ATTEMPTS; i++) {
    const port = await probe(0);
    if (port !== null && !handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found');
}

/** `n` distinct free loopback ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < n; i++) ports.push(await freePort());
  return ports;
}
