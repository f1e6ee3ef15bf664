/**
 * Headless Chromium for the dashboard's browser tests: Debian's /usr/bin/chromium driven by
 * playwright-core (no browser download), a fresh empty user-data-dir per browser, and a record of
 * every URL the page asked for.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  /** Every URL requested by any page of this browser. */
  readonly requests: readonly string[];
  /** Page errors and console errors. */
  readonly errors: readonly string[];
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'rxzk-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1440, height: 1000 },
    });
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (request) => void requests.push(request.url()));
  let closed = false;
  return {
    requests,
    errors,
    async open(url) {
      const page = await context.newPage();
      page.on('pageerror', (error) => void errors.push(error.message));
      page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
      await page.goto(url);
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
