import net from 'node:net';

/**
 * Four-letter-word probes (`ruok`, `srvr`, `wchc`, ...) against the client port.
 * The servers started by the harness whitelist every word (`4lw.commands.whitelist=*`).
 */

/** A client port on 127.0.0.1, or a connect string `host:port[,host:port...][/chroot]`. */
export type ZkTarget = number | string;

export interface HostPort {
  host: string;
  port: number;
}

export type ServerMode = 'leader' | 'follower' | 'observer' | 'standalone' | 'read-only';

export const DEFAULT_4LW_TIMEOUT_MS = 5_000;

/** Sends `cmd` and resolves everything the server wrote before closing the connection. */
export function fourLetter(
  host: string,
  port: number,
  cmd: string,
  timeoutMs: number = DEFAULT_4LW_TIMEOUT_MS,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const timer = setTimeout(
      () =>
        finish(new Error(`4lw '${cmd}' to ${host}:${port} got no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('connect', () => socket.end(cmd));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server closes the connection once the answer is written.
    socket.once('end', () => finish(null));
    socket.once('close', () => finish(null));
    socket.once('error', (err) =>
      finish(new Error(`4lw '${cmd}' to ${host}:${port} failed: ${err.message}`)),
    );
  });
}

/** The servers a target names; a bare port means 127.0.0.1. */
export function parseTarget(target: ZkTarget): HostPort[] {
  if (typeof target === 'number') return [{ host: '127.0.0.1', port: target }];
  const hosts = target.split('/')[0] ?? '';
  return hosts
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((hostPort) => {
      const idx = hostPort.lastIndexOf(':');
      const host = idx === -1 ? hostPort : hostPort.slice(0, idx);
      const port = idx === -1 ? 2181 : Number(hostPort.slice(idx + 1));
      if (!Number.isInteger(port) || port <= 0) throw new Error(`bad ZooKeeper address '${hostPort}'`);
      return { host, port };
    });
}

function single(target: ZkTarget): HostPort {
  const servers = parseTarget(target);
  const [first] = servers;
  if (servers.length !== 1 || !first) throw new Error(`expected exactly one server, got '${String(target)}'`);
  return first;
}

async function eachServer(target: ZkTarget, cmd: string, timeoutMs: number): Promise<string[]> {
  return Promise.all(parseTarget(target).map(({ host, port }) => fourLetter(host, port, cmd, timeoutMs)));
}

/** `true` when the server answers `ruok` with `imok` (running, not necessarily serving). */
export async function ruok(target: ZkTarget, timeoutMs = DEFAULT_4LW_TIMEOUT_MS): Promise<boolean> {
  const { host, port } = single(target);
  try {
    return (await fourLetter(host, port, 'ruok', timeoutMs)) === 'imok';
  } catch {
    return false;
  }
}

/** `Mode:` from `srvr`, or `undefined` while the server runs but does not serve (no quorum, syncing). */
export async function serverMode(
  target: ZkTarget,
  timeoutMs = DEFAULT_4LW_TIMEOUT_MS,
): Promise<ServerMode | undefined> {
  const { host, port } = single(target);
  const text = await fourLetter(host, port, 'srvr', timeoutMs);
  const mode = /^Mode: (\S+)/m.exec(text)?.[1];
  return mode as ServerMode | undefined;
}

/** `srvr`/`mntr` style `key: value` or `key\tvalue` lines as a record. */
function keyValues(text: string, separator: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = separator.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) out[match[1]] = match[2].trim();
  }
  return out;
}

/** `mntr` of one server as `zk_*` keys to raw values. */
export async function mntr(
  target: ZkTarget,
  timeoutMs = DEFAULT_4LW_TIMEOUT_MS,
): Promise<Record<string, string>> {
  const { host, port } = single(target);
  return keyValues(await fourLetter(host, port, 'mntr', timeoutMs), /^(zk_\w+)\t(.*)$/);
}

/**
 * Total watches, data and child, over all servers of the target (`mntr`: zk_watch_count). Not `wchs`:
 * its "Total watches" counts data and exists() watches only (measured on 3.8), so a leaked child watch
 * would pass unseen.
 */
export async function watchCount(target: ZkTarget, timeoutMs = DEFAULT_4LW_TIMEOUT_MS): Promise<number> {
  const answers = await eachServer(target, 'mntr', timeoutMs);
  return answers.reduce((sum, text) => {
    const total = /^zk_watch_count\t(\d+)/m.exec(text)?.[1];
    if (total === undefined) throw new Error(`unexpected mntr answer: ${text}`);
    return sum + Number(total);
  }, 0);
}

/** Parses `wchc`/`wchp`/`dump`-style blocks: an unindented key line followed by tab-indented items. */
function indentedBlocks(text: string, keyPattern: RegExp): Map<string, string[]> {
  const blocks = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      current?.push(line.trim());
      continue;
    }
    const key = keyPattern.exec(line)?.[1];
    if (key === undefined) {
      current = undefined;
      continue;
    }
    current = blocks.get(key) ?? [];
    blocks.set(key, current);
  }
  return blocks;
}

function mergeInto(target: Map<string, string[]>, source: Map<string, string[]>): void {
  for (const [key, values] of source) target.set(key, [...(target.get(key) ?? []), ...values].sort());
}

/**
 * Watched paths per session over all servers (`wchc`): session id as the server prints it
 * (`0x1000...`, lower-case hex) to the paths it watches, sorted.
 */
export async function watchesBySession(
  target: ZkTarget,
  timeoutMs = DEFAULT_4LW_TIMEOUT_MS,
): Promise<Map<string, string[]>> {
  const merged = new Map<string, string[]>();
  for (const text of await eachServer(target, 'wchc', timeoutMs)) {
    mergeInto(merged, indentedBlocks(text, /^(0x[0-9a-f]+)\s*$/i));
  }
  return merged;
}

/** Watching sessions per path over all servers (`wchp`): path to session ids (`0x...`), sorted. */
export async function watchesByPath(
  target: ZkTarget,
  timeoutMs = DEFAULT_4LW_TIMEOUT_MS,
): Promise<Map<string, string[]>> {
  const merged = new Map<string, string[]>();
  for (const text of await eachServer(target, 'wchp', timeoutMs)) {
    mergeInto(merged, indentedBlocks(text, /^(\/\S*)\s*$/));
  }
  return merged;
}

export interface Connection {
  /** Remote address as the server sees it, e.g. `/127.0.0.1:54172`. */
  remote: string;
  /** Session id (`0x...`), absent for connections without a session (like the `cons` probe itself). */
  sessionId?: string;
  /** Everything inside the parentheses, e.g. `queued`, `recved`, `to`, `lop`. */
  fields: Record<string, string>;
}

function parseCons(text: string): Connection[] {
  const connections: Connection[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(\S+?)\[\d+\]\((.*)\)\s*$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const fields: Record<string, string> = {};
    for (const part of match[2].split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields[part.slice(0, eq)] = part.slice(eq + 1);
    }
    connections.push({ remote: match[1], sessionId: fields['sid'], fields });
  }
  return connections;
}

/** Client connections over all servers of the target (`cons`), the probe's own connection left out. */
export async function connections(
  target: ZkTarget,
  timeoutMs = DEFAULT_4LW_TIMEOUT_MS,
): Promise<Connection[]> {
  const answers = await eachServer(target, 'cons', timeoutMs);
  return answers.flatMap(parseCons).filter((c) => c.sessionId !== undefined);
}

/** Session ids (`0x...`) that currently hold a connection to any server of the target, sorted. */
export async function liveSessions(target: ZkTarget, timeoutMs = DEFAULT_4LW_TIMEOUT_MS): Promise<string[]> {
  const ids = (await connections(target, timeoutMs)).flatMap((c) => (c.sessionId ? [c.sessionId] : []));
  return [...new Set(ids)].sort();
}

/**
 * `zk_num_alive_connections` summed over the servers of the target. Each server counts the
 * `mntr` probe's own connection too; that one is subtracted.
 */
export async function aliveConnections(
  target: ZkTarget,
  timeoutMs = DEFAULT_4LW_TIMEOUT_MS,
): Promise<number> {
  const counts = await Promise.all(
    parseTarget(target).map(async (server) => {
      const value = (await mntr(`${server.host}:${server.port}`, timeoutMs))['zk_num_alive_connections'];
      if (value === undefined) throw new Error('mntr has no zk_num_alive_connections');
      return Math.max(0, Number(value) - 1);
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Ephemeral paths per session (`dump`). Only the leader (or a standalone server) knows every
 * session; ask that one. Sessions without ephemerals are not listed.
 */
export async function ephemeralsBySession(
  target: ZkTarget,
  timeoutMs = DEFAULT_4LW_TIMEOUT_MS,
): Promise<Map<string, string[]>> {
  const { host, port } = single(target);
  const text = await fourLetter(host, port, 'dump', timeoutMs);
  const section = text.split(/^Sessions with Ephemerals.*$/m)[1] ?? '';
  // 3.8 follows with "Connections dump:", older servers with "Connections with Ephemerals".
  const sessions = section.split(/^Connections /m)[0] ?? '';
  return indentedBlocks(sessions, /^(0x[0-9a-f]+):?\s*$/i);
}
