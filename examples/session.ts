/**
 * The session layer in one page: connect, follow the session state, create an ephemeral member node
 * and a protected sequential job, read them back, and close.
 *
 *   npx tsx examples/session.ts                              # the embedded in-memory ZooKeeper
 *   ZK_CONNECT=127.0.0.1:2181 npx tsx examples/session.ts    # a real ensemble
 */
import { connect, CreateMode, NodeExistsError } from '../src/index.js';

export async function main(connectString = process.env['ZK_CONNECT'] ?? 'memory://', root = '/rxzk-example') {
  const client = connect(connectString, { sessionTimeout: 10_000 });
  const states: string[] = [];
  const subscription = client.state$.subscribe((s) => {
    states.push(s.type);
    console.log(`session: ${s.type}${'sessionId' in s ? ` ${s.sessionId}` : ''}`);
  });
  try {
    await client.create(`${root}/members`, '', { createParents: true }).catch((e: unknown) => {
      if (!(e instanceof NodeExistsError)) throw e;
    });
    const member = await client.create(`${root}/members/worker-1`, JSON.stringify({ pid: process.pid }), {
      mode: CreateMode.Ephemeral,
    });
    const job = await client.create(`${root}/job-`, 'payload', { mode: CreateMode.PersistentSequential });
    const { data, stat } = await client.get(member);
    console.log(`member ${member} = ${data.toString()} (owner ${stat.ephemeralOwner})`);
    console.log(`job ${job}`);
    const { children } = await client.children(`${root}/members`);
    console.log(`members: ${children.join(', ')}`);
    await client.delete(job);
    return { member, job, children, states };
  } finally {
    await client.close();
    subscription.unsubscribe();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
