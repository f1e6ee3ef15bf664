/**
 * Configuration: follow a JSON config node, keep the last valid value when someone writes garbage,
 * and update it with compare-and-set.
 *
 *   npx tsx examples/config-watch.ts                      (embedded engine)
 *   ZK_CONNECT=127.0.0.1:2181 npx tsx examples/config-watch.ts
 */
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { config$, connect, updateConfig } from '../src/index.js';

interface Config {
  readonly limit: number;
}

function parse(text: string): Config {
  const value = JSON.parse(text) as Config;
  if (typeof value.limit !== 'number') throw new Error('limit must be a number');
  return value;
}

export async function main(
  connectString = process.env['ZK_CONNECT'] ?? 'memory://',
  path = '/rxzk-example/config',
) {
  const client = connect(connectString, { sessionTimeout: 10_000 });
  const invalid: string[] = [];
  try {
    const codec = { decode: parse, encode: (c: Config) => JSON.stringify(c) };
    await updateConfig(client, path, () => ({ limit: 1 }), codec);
    const config = config$(client, path, parse, {
      default: { limit: 0 },
      onInvalid: (error) => {
        invalid.push(error.message);
        console.log(`ignored an invalid update: ${error.message}`);
      },
    });
    // Collect the first three valid values while we write.
    const values = firstValueFrom(
      config.pipe(
        filter((c) => c.limit > 0),
        take(3),
        toArray(),
      ),
    );
    const first = await firstValueFrom(config);
    console.log(`limit is ${first.limit}`);
    await client.set(path, '{"limit": "lots"}'); // invalid: reported, the stream goes on
    await waitFor(() => invalid.length > 0);
    await client.set(path, JSON.stringify({ limit: 2 }));
    await firstValueFrom(config.pipe(filter((c) => c.limit === 2)));
    // Compare-and-set: read, compute, write only if nobody wrote in between (else read again).
    await updateConfig(client, path, (c) => ({ limit: (c?.limit ?? 0) + 1 }), codec);
    const seen = (await values).map((c) => c.limit);
    console.log(`limits seen: ${seen.join(', ')}`);
    await client.delete(path);
    return { seen, invalid };
  } finally {
    await client.close();
  }
}

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
