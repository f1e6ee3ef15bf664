/**
 * The dashboard end to end in headless Chromium: the page shows the election's leader; the leader's
 * candidate is killed and the page shows the new leader (and the failover on the timeline) within a
 * bounded time; a new member appears; the page asked for nothing but the dashboard's own URLs; a
 * screenshot is saved under test-artifacts/; when the browser goes, the server's watches go with it.
 * On the embedded engine, then on a real ZooKeeper.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startDashboard } from '../../examples/dashboard/server.js';
import { startServices } from '../../examples/dashboard/services.js';
import { connect } from '../../src/index.js';
import { liveStreamCount, openClientCount, openHandleCount } from '../../src/testing/index.js';
import { eventually, zkSuite } from '../support/fixture.js';
import { CHROMIUM, hasChromium, launchChromium } from './chromium.js';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);
/** A hang guard, not a figure: the page usually shows a new leader within a few hundred ms. */
const SHOWN_WITHIN_MS = 20_000;

if (!hasChromium)
  console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

/** The scenario, on any ZooKeeper; resolves to how long the page took to show the new leader. */
async function scenario(connectString: string, root: string, label: string): Promise<number> {
  // The browser first, before any ZooKeeper client: a child process inherits the C client's sockets
  // (they are not close-on-exec), and a native handle opened after one of those was closed then never
  // connects (the binding closes the socket before it stops polling it; see the report of issue 9).
  const browser = await launchChromium();
  const services = await startServices({ connectString, root, churn: false });
  const client = connect(connectString, { sessionTimeout: 10_000 });
  const dashboard = await startDashboard({ client, root });
  try {
    const page = await browser.open(dashboard.url);
    const election = `${root}/elections/scheduler`;
    const card = `[data-election="${election}"]`;
    const leaderShown = (id: string) =>
      page.waitForSelector(`${card} [data-role="leader"][data-id="${id}"]`, { timeout: SHOWN_WITHIN_MS });

    await leaderShown('alpha');
    expect(services.leader()).toBe('alpha'); // the page agrees with the candidate's own stream
    expect(await candidatesOn(page, card)).toEqual(['alpha', 'beta', 'gamma']);

    const killed = performance.now();
    await services.kill('alpha');
    await leaderShown('beta');
    const shownAfter = performance.now() - killed;
    await page.waitForSelector(`${card} [data-role="failover"][data-from="alpha"][data-to="beta"]`, {
      timeout: SHOWN_WITHIN_MS,
    });
    await eventually(async () => expect(await candidatesOn(page, card)).toEqual(['beta', 'gamma']));
    await eventually(() => expect(services.leader()).toBe('beta'));

    await services.addMember('late-joiner', JSON.stringify({ port: 9090 }));
    const member = await page.waitForSelector(
      `[data-group="${root}/groups/frontends"] [data-member="late-joiner"]`,
      { timeout: SHOWN_WITHIN_MS },
    );
    expect(await member.textContent()).toContain('{"port":9090}');

    // The rest of the page is alive too: session, a lock holder, the queue, the tree.
    expect(await page.getAttribute('#session', 'data-state')).toBe('connected');
    await page.waitForSelector(`[data-lock="${root}/locks/report"] [data-role="holder"]:not([data-id=""])`, {
      timeout: SHOWN_WITHIN_MS,
    });
    await page.waitForSelector(`[data-queue="${root}/queues/jobs"] [data-role="depth"]`);
    await page.waitForSelector(`[data-path="${root}/groups/frontends/late-joiner"]`);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL(`dashboard-${label}.png`, ARTIFACTS).pathname, fullPage: true });

    // No CDN, no fonts, nothing else: every request went to the dashboard itself.
    expect(browser.requests.filter((url) => !url.startsWith(dashboard.url))).toEqual([]);
    expect(browser.errors).toEqual([]);

    await browser.close();
    await eventually(() => expect(dashboard.channels()).toHaveLength(0));
    // The browser's streams are gone, and with them the dashboard client's watches.
    await eventually(() => {
      expect(liveStreamCount(client)).toBe(0);
      expect(client.armedWatchCount).toBe(0);
    });
    return shownAfter;
  } finally {
    await browser.close();
    await dashboard.close();
    await services.stop();
    await client.close();
  }
}

function candidatesOn(page: Page, card: string): Promise<string[]> {
  return page.$$eval(`${card} [data-candidate]`, (nodes) =>
    nodes.map((n) => n.getAttribute('data-candidate') ?? ''),
  );
}

describe.skipIf(!hasChromium)(
  hasChromium ? 'dashboard in Chromium' : `dashboard in Chromium (skipped: ${CHROMIUM} is missing)`,
  () => {
    it('embedded engine: leader, failover, new member, screenshot', { timeout: 120_000 }, async () => {
      const shown = await scenario(`memory://dashboard-${randomUUID()}`, '/app', 'embedded');
      console.log(`embedded: the page showed the new leader ${shown.toFixed(0)} ms after the kill`);
      expect(openClientCount()).toBe(0);
      expect(openHandleCount()).toBe(0);
    });

    describe('on a real ZooKeeper', () => {
      const zk = zkSuite();
      it('leader, failover, new member, screenshot', { timeout: 120_000 }, async () => {
        const shown = await scenario(zk.connectString, `${zk.root}/app`, 'zookeeper');
        console.log(`real ZooKeeper: the page showed the new leader ${shown.toFixed(0)} ms after the kill`);
      });
    });
  },
);
