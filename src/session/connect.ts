import { InvalidArgumentError } from '../errors.js';
import { ZkClient, type ConnectOptions } from './client.js';
import { embeddedTarget, isEmbedded } from './embedded.js';
import { pathProblem } from './validate.js';

/**
 * Connects to a ZooKeeper ensemble and returns the client at once; operations wait (up to
 * `connectionTimeout`) for the first session. `connectString` is `host:port[,host:port...][/chroot]`,
 * or `memory://[name][/chroot]` for the embedded in-process ZooKeeper (no server needed; every client
 * of the process naming the same server shares it).
 *
 * @example
 * const client = connect('127.0.0.1:2181/app', { sessionTimeout: 10_000 });
 * client.state$.subscribe((s) => console.log(s.type));
 * await client.create('/config', JSON.stringify({ on: true }), { createParents: true });
 * await client.close();
 *
 * const local = connect(process.env.ZK_CONNECT ?? 'memory://'); // a real ensemble, or the embedded one
 */
export function connect(connectString: string, options: ConnectOptions = {}): ZkClient {
  validateConnectString(connectString);
  return new ZkClient(connectString, options);
}

export function validateConnectString(connectString: unknown): void {
  const argument = 'connectString';
  if (typeof connectString !== 'string' || connectString.trim() === '') {
    throw new InvalidArgumentError(
      argument,
      'must be a non-empty string like "127.0.0.1:2181"',
      connectString,
    );
  }
  if (isEmbedded(connectString)) {
    const target = embeddedTarget(connectString);
    const problem =
      target === undefined
        ? 'is not a valid embedded address (want "memory://" or "memory://name[/chroot]")'
        : target.chroot === ''
          ? undefined
          : pathProblem(target.chroot);
    if (problem !== undefined) throw new InvalidArgumentError(argument, problem, connectString);
    return;
  }
  const slash = connectString.indexOf('/');
  const hosts = slash === -1 ? connectString : connectString.slice(0, slash);
  for (const host of hosts.split(',')) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+)(?::(\d{1,5}))?$/.exec(host.trim());
    const port = match?.[2] === undefined ? 2181 : Number(match[2]);
    if (!match || port < 1 || port > 65535) {
      throw new InvalidArgumentError(argument, `has a bad server address '${host}' (want host:port)`);
    }
  }
  if (slash !== -1) {
    const chroot = connectString.slice(slash);
    const problem = pathProblem(chroot);
    if (problem !== undefined)
      throw new InvalidArgumentError(argument, `has a bad chroot '${chroot}': ${problem}`);
  }
}
