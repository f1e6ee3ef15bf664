/**
 * Row 13's child process: the same kind of failing operations as the in-process test, with the C
 * client's own log on at debug level (it writes to stderr) and the session's logger on the console.
 * The parent reads both streams for the password (PASSWORD).
 */
import { connect, Perms } from '../../src/index.js';
import { digestId } from '../contract/target.js';
import { env, run, say, sleep } from '../coordination/worker-io.js';

run(async () => {
  const password = env('PASSWORD');
  const node = env('NODE');
  const credentials = `alice:${password}`;
  const options = { nativeLogLevel: 'debug', logger: console, connectionTimeout: 10_000 } as const;
  const alice = connect(env('ZK_CONNECT'), { ...options, auth: [{ scheme: 'digest', credentials }] });
  const acl = [{ perms: Perms.All, scheme: 'digest', id: digestId('alice', password) }];
  await alice.create(node, 'x', { acl });
  await alice.get(node);
  await alice.set(node, 'y', 42).catch((e: unknown) => console.log('expected:', e));
  await alice.addAuth('digest', credentials);
  const bad = connect(env('ZK_CONNECT'), {
    ...options,
    connectionTimeout: 2_000,
    retry: { maxRetries: 1, maxDelay: 500 },
    auth: [{ scheme: 'nosuch', credentials }],
  });
  await bad.get('/').catch((e: unknown) => console.log('expected:', e));
  await sleep(1_000);
  console.log(alice, bad);
  await alice.delete(node);
  await bad.close();
  await alice.close();
  say({ ev: 'done' });
});
