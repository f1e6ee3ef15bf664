/**
 * A process that increments a shared counter COUNT times, then prints the values it got and exits.
 * env: ZK_CONNECT, COUNTER (path), COUNT.
 */
import { connect, increment } from '../../src/index.js';

const client = connect(process.env['ZK_CONNECT']!, { sessionTimeout: 5_000, connectionTimeout: 30_000 });
const got: number[] = [];
for (let i = 0; i < Number(process.env['COUNT']); i++)
  got.push(await increment(client, process.env['COUNTER']!));
process.stdout.write(`${JSON.stringify(got)}\n`);
await client.close();
