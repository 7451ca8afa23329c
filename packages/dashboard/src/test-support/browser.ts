import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { createDashboardServer, type DashboardServerOptions } from '../server.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A headless Chromium with a throwaway profile; `close` ends it and removes the profile. */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches the system Chromium (`/usr/bin/chromium`, or `CHROMIUM_PATH`) for the end-to-end tests. */
export async function launchTestBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'baton-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    return {
      context,
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`cannot launch Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH): ${(e as Error).message}`);
  }
}

/** A dashboard server on a free port and a browser pointed at nothing yet. */
export interface BrowserDashboard {
  url: string;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Serves the dashboard on 127.0.0.1 (port 0) and launches the test browser; `close` stops both. */
export async function serveInBrowser(options: Omit<DashboardServerOptions, 'port'>): Promise<BrowserDashboard> {
  const server = createDashboardServer({ ...options, port: 0 });
  const url = await server.listen();
  const browser = await launchTestBrowser().catch(async (e: unknown) => {
    await server.close();
    throw e;
  });
  return {
    url,
    context: browser.context,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
