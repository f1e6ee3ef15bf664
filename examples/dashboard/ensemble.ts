/**
 * npm run ensemble: a local 3-node ZooKeeper ensemble for development (Docker, through the test
 * harness's startEnsemble), to point the dashboard at:
 *
 *   npm run ensemble                       # prints the connect string, then reads commands
 *   ZK_CONNECT=<that> SIMULATE=1 npm run dashboard
 *
 * Commands (one per line on stdin): `stop N` / `start N` (server N, 1-3; stop is a crash-like kill),
 * `leader` (kill whichever server leads), `status`, `quit`. Killing the server the dashboard is
 * connected to shows on the page: the session goes `suspended`, then `reconnected` to another server.
 * The containers are removed on quit, Ctrl-C, or exit. The image is $RXZK_ZK_IMAGE (default
 * zookeeper:3.8); `docker ps` lists the containers (label rxzk.harness) if you would rather
 * `docker stop` one yourself.
 */
import { createInterface } from 'node:readline';
import { startEnsemble } from '../../test/support/zookeeper.js';

const ensemble = await startEnsemble(3);
console.log(`ensemble up: ${ensemble.connectString}`);
console.log(`  ZK_CONNECT=${ensemble.connectString} SIMULATE=1 npm run dashboard`);
console.log('commands: stop N | start N | leader | status | quit');

async function status(): Promise<string> {
  const modes = await Promise.all(
    ensemble.servers.map(async (s) => `${s.id}:${s.clientPort} ${(await s.mode()) ?? 'down'}`),
  );
  return modes.join(', ');
}

async function command(line: string): Promise<boolean> {
  const [verb, arg] = line.trim().split(/\s+/);
  const server = ensemble.servers.find((s) => String(s.id) === arg);
  switch (verb) {
    case 'stop':
    case 'start':
      if (!server) console.log(`no server ${arg ?? ''}: 1-${ensemble.servers.length}`);
      else await (verb === 'stop' ? server.stop() : server.start({ waitFor: 'running' }));
      break;
    case 'leader':
      console.log(`killed server ${(await ensemble.killLeader()).id}`);
      break;
    case 'quit':
      return false;
    case 'status':
    case undefined:
      break;
    default:
      console.log('commands: stop N | start N | leader | status | quit');
  }
  console.log(await status());
  return true;
}

const input = createInterface({ input: process.stdin });
const done = new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
  input.on('close', resolve);
  input.on('line', (line) => {
    command(line).then(
      (more) => more || resolve(),
      (error: unknown) => console.log(String(error)),
    );
  });
});
await done;
input.close();
await ensemble.close();
console.log('ensemble removed');
