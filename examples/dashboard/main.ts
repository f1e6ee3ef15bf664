/**
 * npm run dashboard: the live dashboard on the embedded engine with simulated services, or on a real
 * ensemble.
 *
 *   npm run dashboard                                    # memory://, simulated services, port 8080
 *   PORT=0 npm run dashboard                             # any free port
 *   ZK_CONNECT=127.0.0.1:2181 npm run dashboard          # a real ensemble: shows what runs there
 *   ZK_CONNECT=… SIMULATE=1 npm run dashboard            # … and runs the simulated services on it
 *   ROOT=/my-app npm run dashboard                       # the subtree shown (default /rxzk-dashboard)
 *
 * It prints the URL (bound to 127.0.0.1) and runs until Ctrl-C.
 */
import { connect } from '../../src/index.js';
import { startDashboard } from './server.js';
import { startServices } from './services.js';

const connectString = process.env['ZK_CONNECT'] ?? 'memory://';
const root = process.env['ROOT'] ?? '/rxzk-dashboard';
const port = Number(process.env['PORT'] ?? 8080);
// Simulated services write: never on a real ensemble unless asked for.
const simulate = (process.env['SIMULATE'] ?? (connectString.startsWith('memory://') ? '1' : '0')) === '1';

const client = connect(connectString, { sessionTimeout: 10_000 });
const services = simulate ? await startServices({ connectString, root }) : undefined;
const dashboard = await startDashboard({ client, root, port });
const running = services ? ', simulated services running' : '';
console.log(`rxzk dashboard: ${dashboard.url}  (ZooKeeper ${connectString}, root ${root}${running})`);

async function stop(): Promise<void> {
  await dashboard.close();
  await services?.stop();
  await client.close();
  console.log('stopped');
}
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
