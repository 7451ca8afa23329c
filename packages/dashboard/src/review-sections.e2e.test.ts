import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewLink } from './review-link.js';
import { serveInBrowser, type BrowserDashboard } from './test-support/browser.js';
import { createReportFixture, type ReportFixture } from './test-support/report-fixture.js';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts', 'review-sections');
const TOKEN = 'e2e-review-sections-token-5b2c';

let fx: ReportFixture;
let url: string;
let context: BrowserContext;
let env: BrowserDashboard;

beforeAll(async () => {
  fx = await createReportFixture();
  env = await serveInBrowser({ registry: fx.registry, engine: fx.engine, blobs: fx.blobs, token: TOKEN, refreshSeconds: 1 });
  url = env.url;
  context = env.context;
  mkdirSync(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await env?.close();
  await fx?.close();
});

describe('per-section review in Chromium', () => {
  it('a reviewer reads each section beside its sources, sends one back with a note by keyboard, approves the rest, and the decision is on record', async () => {
    // 26 KB of text in the first section, and a payload the registry keeps only as a digest
    const long = Array.from({ length: 400 }, (_, i) => `Sentence ${i} about the 10 mg arm.`).join(' ');
    const notice = await fx.startWaiting({ title: 'Clinical Study Report BTN-101', longText: long, padding: 20_000 });
    const page = await context.newPage();
    await page.goto(`${url}/login?next=${encodeURIComponent(reviewLink(url, notice).slice(url.length))}`);
    await page.fill('#token', TOKEN);
    await page.keyboard.press('Enter');

    // the text under review, its cited excerpt and the held section's reason, in words
    const efficacy = page.locator('section[data-section="efficacy"]');
    await efficacy.getByText('Sentence 399 about the 10 mg arm.', { exact: false }).waitFor();
    expect(await efficacy.locator('aside').textContent()).toContain('The 10 mg arm enrolled 42 patients; the 20 mg arm enrolled 40.');
    expect(await efficacy.locator('table').textContent()).toContain('Patients in the 10 mg arm');
    const summary = page.locator('section[data-section="summary"]');
    expect(await summary.textContent()).toContain('The safety check held this text: instruction override: asks to ignore or stop following instructions.');
    expect(await page.textContent('main')).not.toMatch(/\$omitted|Sha256/i);
    await page.screenshot({ path: join(ARTIFACTS, '1-review-page.png'), fullPage: true });

    // keyboard only: arrow keys choose within a section's verdicts, Tab reaches its note
    const note = 'The efficacy table misses the 10 mg arm <b>dose</b>.';
    await page.focus('#v-efficacy-approve');
    await page.keyboard.press('ArrowRight');
    expect(await page.isChecked('#v-efficacy-send-back')).toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('note-efficacy');
    await page.keyboard.type(note);
    await page.check('#v-safety-approve');
    // summary is left without a verdict: the page refuses and keeps what was typed
    await page.focus('button.approve');
    await page.keyboard.press('Enter');
    await page.getByText('Choose a verdict for section "summary".').waitFor();
    expect(await page.inputValue('#note-efficacy')).toBe(note);
    expect(await page.isChecked('#v-efficacy-send-back')).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, '2-refused-kept-as-typed.png'), fullPage: true });
    expect((await fx.engine.status(notice.runId)).status).toBe('waiting');

    await page.check('#v-summary-accept-missing');
    await page.fill('#note-summary', 'Held text is not used; the section stays missing.');
    await page.fill('#comment', 'Round 1 done.');
    await page.getByRole('button', { name: 'Send my verdicts' }).click();

    await expect.poll(() => page.url()).toContain(`/runs/${notice.runId}?decided=approve`);
    await page.locator('h1 .badge', { hasText: 'Succeeded' }).waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, '3-run-after-decision.png'), fullPage: true });
    const outcome = await fx.engine.result(notice.runId);
    expect((outcome as { output: { recorded: { review: { sections: unknown } } } }).output.recorded.review.sections).toEqual({
      efficacy: { verdict: 'send-back', note },
      safety: { verdict: 'approve' },
      summary: { verdict: 'accept-missing', note: 'Held text is not used; the section stays missing.' },
    });

    await page.getByRole('link', { name: /Review record/ }).click();
    const row = page.locator('tr[data-section="efficacy"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('Sent back');
    expect(await row.textContent()).toContain(note); // shown as text, not markup
    expect(await row.locator('b').count()).toBe(0);
    expect(await row.textContent()).toContain('test-model-1');
    await page.screenshot({ path: join(ARTIFACTS, '4-review-record.png'), fullPage: true });
    await page.close();
  });
});
