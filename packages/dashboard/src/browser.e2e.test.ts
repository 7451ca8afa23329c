import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewLink } from './review-link.js';
import { serveInBrowser, type BrowserDashboard } from './test-support/browser.js';
import { createFixture, type Fixture } from './test-support/fixture.js';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts');
const TOKEN = 'e2e-dashboard-token-7f3a91c2';

let fx: Fixture;
let url: string;
let context: BrowserContext;
let env: BrowserDashboard;

beforeAll(async () => {
  fx = await createFixture();
  env = await serveInBrowser({ registry: fx.registry, engine: fx.engine, token: TOKEN, refreshSeconds: 1 });
  url = env.url;
  context = env.context;
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await env?.close();
  await fx?.close();
});

describe('dashboard in Chromium', () => {
  it('shows a run waiting at its review gate, approves it from the reviewer link, and shows it complete', async () => {
    const notice = await fx.startWaiting('Q3 board report');
    const page = await context.newPage();

    await page.goto(`${url}/`);
    await expect.poll(() => page.url()).toContain('/login');
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    const row = page.locator(`tr[data-run="${notice.runId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('Waiting for review');

    await row.locator('a').first().click();
    await page.getByText('Waiting for review at “editor”').waitFor();

    await page.goto(reviewLink(url, notice));
    await page.getByText('What happened with Revenue this quarter.').waitFor();
    await page.fill('#reviewer', 'Ana');
    await page.fill('#comment', 'Numbers check out.');
    await page.screenshot({ path: join(ARTIFACTS, 'review-page.png'), fullPage: true });
    await page.getByRole('button', { name: 'Approve' }).click();

    await expect.poll(() => page.url()).toContain(`/runs/${notice.runId}`);
    await page.locator('h1 .badge', { hasText: 'Succeeded' }).waitFor({ timeout: 30_000 });
    const publish = page.locator('tr[data-step="publish"]');
    expect(await publish.textContent()).toContain('Succeeded');
    expect(await page.textContent('main')).toContain('Numbers check out.');
    await page.screenshot({ path: join(ARTIFACTS, 'run-approved.png'), fullPage: true });
    expect((await fx.engine.result(notice.runId)).status).toBe('succeeded');

    // the same link again: single use
    const replay = await page.goto(reviewLink(url, notice));
    expect(replay?.status()).toBe(409);
    await page.getByText('This review is closed').waitFor();
    await page.close();
  });

  it('shows a clear page for a forged review link', async () => {
    const notice = await fx.startWaiting('Forged link report');
    const page = await context.newPage();
    const response = await page.goto(reviewLink(url, { ...notice, token: 'forged-token-value' }));
    expect(response?.status()).toBe(403);
    await page.getByText('This review link is not valid').waitFor();
    expect(await page.locator('button.approve').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'forged-link.png') });
    expect((await fx.engine.status(notice.runId)).status).toBe('waiting');
    await page.close();
  });
});
