/**
 * The embedded default: `memory://[name][/chroot]` connects to an in-process ZooKeeper (the memory
 * engine) instead of a server. Every client of this process that names the same server shares it, so
 * a demo or a test can run several "processes" in one. It must be asked for by name: a missing connect
 * string is an error, never a silent fallback that would leave a production service coordinating with
 * itself.
 */
import { MemoryZooKeeper } from '../transport/memory/index.js';

const PATTERN = /^memory:\/\/([A-Za-z0-9_.-]*)(\/.*)?$/;

export interface EmbeddedTarget {
  /** The server's name ('' for the default one). */
  readonly name: string;
  /** The chroot ('' for none). */
  readonly chroot: string;
}

/** The embedded server a connect string names, or undefined for a real ensemble's connect string. */
export function embeddedTarget(connectString: string): EmbeddedTarget | undefined {
  if (!isEmbedded(connectString)) return undefined;
  const match = PATTERN.exec(connectString);
  if (!match) return undefined;
  const chroot = match[2] ?? '';
  return { name: match[1] ?? '', chroot: chroot === '/' ? '' : chroot };
}

/** Whether the string names an embedded server (`memory://…`, valid or not); `memory:2181` is a host. */
export function isEmbedded(connectString: string): boolean {
  return connectString.startsWith('memory://');
}

const servers = new Map<string, MemoryZooKeeper>();

/**
 * The in-process server named `name` ('' for the default), created on first use on the real clock. It
 * lives as long as the process: its sessions expire as a server's do when their clients vanish.
 */
export function embeddedServer(name = ''): MemoryZooKeeper {
  let server = servers.get(name);
  if (!server) {
    server = new MemoryZooKeeper();
    servers.set(name, server);
  }
  return server;
}
