/**
 * startDashboard(): a small HTTP server (node:http) that serves the page and streams dashboard$ to each
 * browser over Server-Sent Events, one SseChannel (per-key conflation) per browser.
 */
import { readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ZkClient } from '../../src/index.js';
import { SseChannel, type ChannelStats } from './channel.js';
import { dashboard$, layoutUnder, type Layout } from './model.js';

export interface DashboardOptions {
  readonly client: ZkClient;
  /** The subtree shown. */
  readonly root: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default 127.0.0.1: the dashboard is for this machine unless you say otherwise. */
  readonly host?: string;
  /** Where the elections, groups, locks and queues are. Default: `<root>/elections`, … */
  readonly layout?: Layout;
}

export interface Dashboard {
  /** `http://host:port/`. */
  readonly url: string;
  /** One entry per connected browser. */
  channels(): ChannelStats[];
  /** Ends every browser's stream (releasing its subscriptions) and stops listening. */
  close(): Promise<void>;
}

const PAGES: Record<string, [file: string, type: string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
};

const HEADERS = {
  'cache-control': 'no-store',
  // Nothing but this server: no CDN, no fonts, no beacons (inline style attributes draw the bars).
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'",
};

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { client, root } = options;
  const layout = options.layout ?? layoutUnder(root);
  const files = new Map(
    Object.entries(PAGES).map(([url, [file, type]]) => [
      url,
      { type, body: readFileSync(new URL(`./public/${file}`, import.meta.url)) },
    ]),
  );
  const channels = new Map<ServerResponse, SseChannel>();

  function events(res: ServerResponse): void {
    res.writeHead(200, { ...HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
    const channel = new SseChannel(res);
    channels.set(res, channel);
    channel.send('hello', { root, layout, connectString: client.connectString, serverTime: Date.now() });
    const subscription = dashboard$(client, root, layout).subscribe({
      next: ({ key, value }) => channel.send(key, value),
      error: (error: unknown) => {
        channel.send('error', String(error));
        res.end();
      },
      complete: () => res.end(),
    });
    // The browser went away (or we end it): its subscriptions go, and with the last one the watches.
    res.on('close', () => {
      subscription.unsubscribe();
      channels.delete(res);
    });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET') return void res.writeHead(405, HEADERS).end();
    if (url === '/events') return events(res);
    if (url === '/favicon.ico') return void res.writeHead(204, HEADERS).end();
    const file = files.get(url);
    if (!file) return void res.writeHead(404, HEADERS).end('not found');
    res.writeHead(200, { ...HEADERS, 'content-type': file.type }).end(file.body);
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/`,
    channels: () => [...channels.values()].map((c) => c.stats()),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Open event streams never end by themselves.
        server.closeAllConnections();
      }),
  };
}
