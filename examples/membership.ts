/**
 * Group membership: workers join a group (an ephemeral node each, kept across session expiry), and an
 * observer follows who is in it.
 *
 *   npx tsx examples/membership.ts                        (embedded engine)
 *   ZK_CONNECT=127.0.0.1:2181 npx tsx examples/membership.ts
 */
import { filter, firstValueFrom } from 'rxjs';
import { connect, join, members$ } from '../src/index.js';

export async function main(
  connectString = process.env['ZK_CONNECT'] ?? 'memory://',
  path = '/rxzk-example/workers',
) {
  const observer = connect(connectString, { sessionTimeout: 10_000 });
  const workers = ['worker-1', 'worker-2'].map((id) => ({
    id,
    client: connect(connectString, { sessionTimeout: 10_000 }),
  }));
  const views: string[] = [];
  const watching = members$(observer, path).subscribe((members) => {
    const view =
      [...members]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([id, data]) => `${id} (${data.toString()})`)
        .join(', ') || 'nobody';
    views.push(view);
    console.log(`members: ${view}`);
  });
  try {
    const joined = workers.map(({ id, client }) =>
      join(client, path, id, JSON.stringify({ pid: process.pid })).subscribe(),
    );
    await firstValueFrom(members$(observer, path).pipe(filter((m) => m.size === 2)));
    joined[0]!.unsubscribe(); // worker-1 leaves: its node is deleted
    await firstValueFrom(members$(observer, path).pipe(filter((m) => m.size === 1)));
    joined[1]!.unsubscribe();
    await firstValueFrom(members$(observer, path).pipe(filter((m) => m.size === 0)));
    return views;
  } finally {
    watching.unsubscribe();
    await Promise.all([observer, ...workers.map((w) => w.client)].map((c) => c.close()));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
