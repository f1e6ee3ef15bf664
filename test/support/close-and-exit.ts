/**
 * A process that creates an ephemeral node, closes its client and exits at once: `close()` must have
 * sent the session's end by the time it resolves. Usage: close-and-exit.ts <connectString> <path>
 */
import { connect } from '../../src/index.js';

const [connectString, path] = process.argv.slice(2) as [string, string];
const client = connect(connectString, { sessionTimeout: 30_000 });
await client.create(path, '', { mode: 'ephemeral' });
await client.close();
process.exit(0);
