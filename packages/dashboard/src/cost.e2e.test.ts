import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveInBrowser, type BrowserDashboard } from './test-support/browser.js';
import { createCostFixture, type CostFixture } from './test-support/cost-fixture.js';

const TOKEN = 'e2e-cost-dashboard-token-51c0';
let fx: CostFixture;
let env: BrowserDashboard;

beforeAll(async () => {
  fx = await createCostFixture();
  env = await serveInBrowser({ registry: fx.registry, engine: [fx.priced, fx.unpriced], token: TOKEN });
});
afterAll(async () => {
  await env?.close();
  await fx?.close();
});

describe('model cost in Chromium', () => {
  it('reads this week’s cost by pipeline on the runs list, then the run’s cost and its sections’ on the run page', async () => {
    const runId = await fx.run('report');
    await fx.run('digest');
    const page = await env.context.newPage();
    await page.goto(`${env.url}/`);
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    const week = page.locator('[data-week-cost]');
    await week.waitFor();
    expect((await week.locator('b').textContent())?.trim()).toBe('$0.018');
    expect(await week.locator('[data-by-pipeline]').textContent()).toBe('report: $0.018, digest: no prices configured');

    await page.locator(`tr[data-run="${runId}"] a`).click();
    const cost = page.locator('[data-run-cost] b');
    await cost.waitFor();
    expect(await cost.textContent()).toBe('$0.018');
    expect(await page.locator('tr[data-section="sections[1]"] td').nth(1).textContent()).toBe('$0.006');
    expect(await page.locator('table.section-costs tbody tr').count()).toBe(3);
    await page.close();
  });
});
