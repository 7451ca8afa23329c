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

  it('keyboard only: Tab from the top reaches every verdict, note, the comment and the buttons in reading order with a visible focus ring; Space and arrows choose, Enter sends', async () => {
    const notice = await fx.startWaiting({ reviewer: null });
    const page = await context.newPage();
    await page.goto(`${url}/login?next=${encodeURIComponent(reviewLink(url, notice).slice(url.length))}`);
    await page.fill('#token', TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('fieldset.verdict').first().waitFor();

    type Focused = { id: string; tag: string; text: string; visible: boolean; outline: string };
    // evaluated in the page (a string: this package's TypeScript has no DOM types)
    const focused = (): Promise<Focused | null> =>
      page.evaluate(`(() => {
        const e = document.activeElement;
        if (!e || e === document.body) return null;
        const style = getComputedStyle(e);
        return { id: e.id, tag: e.tagName, text: (e.textContent || '').trim(), visible: e.matches(':focus-visible'), outline: style.outlineStyle + ' ' + style.outlineWidth };
      })()`);
    // every stop of one full Tab cycle from the top of the page
    const stops: Focused[] = [];
    for (let i = 0; i < 200; i++) {
      await page.keyboard.press('Tab');
      const f = await focused();
      if (!f || (stops.length > 0 && f.id === stops[0]!.id && f.text === stops[0]!.text)) break;
      stops.push(f);
    }
    const controls = stops.filter((f) => f.tag !== 'A' && f.text !== 'Log out').map((f) => f.id || f.text);
    expect(controls).toEqual([
      'v-efficacy-approve',
      'note-efficacy',
      'v-safety-approve',
      'note-safety',
      'v-summary-approve',
      'note-summary',
      'reviewer',
      'comment',
      'Send my verdicts',
      'Approve everything as it stands',
      'Reject the whole report',
    ]);
    // every stop shows where the focus is: Chromium's :focus-visible with the page's 3 px ring
    expect(stops.filter((f) => !f.visible || !/^solid [3-9]/.test(f.outline))).toEqual([]);
    // the sections can be reached from the table of contents too
    expect(stops.filter((f) => f.tag === 'A').map((f) => f.text)).toEqual(expect.arrayContaining(['Efficacy results', 'Safety overview', 'Summary']));

    // decide with the keyboard only: Space approves, an arrow moves to "send back", Tab reaches its note, Enter sends
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    const tabTo = async (want: string): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        if (f && (f.id || f.text) === want) return;
      }
      throw new Error(`Tab never reached ${want}`);
    };
    await tabTo('v-efficacy-approve');
    await page.keyboard.press('Space');
    await tabTo('v-safety-approve');
    await page.keyboard.press('Space');
    await tabTo('v-summary-approve');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Tab');
    expect((await focused())?.id).toBe('note-summary');
    await page.keyboard.type('Keep to the data.');
    await tabTo('reviewer');
    await page.keyboard.type('ana');
    await tabTo('Send my verdicts');
    await page.screenshot({ path: join(ARTIFACTS, '5-keyboard-focus-on-send.png'), fullPage: false });
    await page.keyboard.press('Enter');
    await expect.poll(() => page.url()).toContain(`/runs/${notice.runId}?decided=approve`);
    const outcome = await fx.engine.result(notice.runId);
    expect((outcome as { output: { recorded: { review: { reviewer: string; sections: unknown } } } }).output.recorded.review).toMatchObject({
      reviewer: 'ana',
      sections: { efficacy: { verdict: 'approve' }, safety: { verdict: 'approve' }, summary: { verdict: 'send-back', note: 'Keep to the data.' } },
    });
    await page.close();
  });
});
