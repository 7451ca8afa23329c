import type { Engine } from '@baton/core';
import { createDashboardServer, type DashboardServer } from '@baton/dashboard';
import { reportPipeline } from '@baton/example-report';
import { createPostgresRegistry, type RunRegistry } from '@baton/registry';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rehearse, type Rehearsal } from './rehearse/rehearse.js';
import { engineOn, output, reviewLinkIn, uploadSources, waitFor, TEST_INIT_TIMEOUT_SECONDS } from './rehearse/test-support/report-run.js';
import { REFERENCE, synthesizeApp } from './rehearse/test-support/synth.js';

// The reference report rehearsed from its synthesized template, its review decided in Chromium
// on the dashboard: the dashboard serves the registry and resumes the deployed run through the
// Step Functions engine, as `baton dashboard --engine stepfunctions` does.

const postgresUrl = inject('postgresUrl');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'rehearsal-dashboard-token-5c1e';
let app: { dir: string; cdkOut: string } | undefined;
let registry: RunRegistry | undefined;
let r: Rehearsal | undefined;
let engine: Engine | undefined;
let dashboard: DashboardServer | undefined;
let context: BrowserContext | undefined;
let profile: string | undefined;

beforeAll(async () => {
  app = synthesizeApp(reportPipeline, {
    pipelineModule: '@baton/example-report',
    exportName: 'reportPipeline',
    // per-stage entries, as `baton compile` writes them: each function runs its own stage's bundle
    moduleExports: (await import('@baton/example-report')) as unknown as Record<string, unknown>,
  });
  registry = await createPostgresRegistry({ connectionString: postgresUrl });
});

afterAll(async () => {
  await context?.close();
  await dashboard?.close();
  await engine?.close();
  await r?.close();
  await registry?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (app) rmSync(app.dir, { recursive: true, force: true });
});

describe('the rehearsed reference report, reviewed on the dashboard in Chromium', () => {
  it("opens the SNS notice's review link on the dashboard, approves, and the deployed run succeeds with the decision in the registry", async () => {
    const t0 = Date.now();
    r = await rehearse(app!.cdkOut, {
      databaseUrl: postgresUrl,
      timeScale: 0.01,
      initTimeoutSeconds: TEST_INIT_TIMEOUT_SECONDS,
      bedrock: { models: [REFERENCE.model] },
    });
    const sources = await uploadSources(r);
    const mailbox = await r.subscribeQueue(output(r, 'ReviewTopicArn'), 'reviewer-alice');
    engine = engineOn(r, reportPipeline, registry!);
    const { runId } = await engine.start('report', { sources, reportId: 'RPT-DASHBOARD', reviewerId: 'alice@example.com' });
    const notice = await r.nextMessage(mailbox, 120_000);
    expect(notice, 'no review notice within 120 s').toBeDefined();
    const link = reviewLinkIn(notice!.message);
    expect(link.url.pathname).toBe(`/reviews/${runId}/review`);

    // the dashboard on the deployed engine; the notice's link, on the dashboard's origin
    dashboard = createDashboardServer({ registry: registry!, engine, token: TOKEN, port: 0, refreshSeconds: 1 });
    const url = await dashboard.listen();
    profile = mkdtempSync(join(tmpdir(), 'baton-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
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
    const page = await context.newPage();
    await page.goto(`${url}/`);
    await expect.poll(() => page.url()).toContain('/login');
    await page.fill('#token', TOKEN);
    await page.click('button[type=submit]');
    await page.locator(`tr[data-run="${runId}"]`).waitFor();
    const reviewUrl = `${url}${link.url.pathname}${link.url.search}`;
    const opened = await page.goto(reviewUrl);
    expect(opened?.status()).toBe(200);
    // the notice's reviewer, fixed by the review
    expect(await page.inputValue('#reviewer')).toBe('alice@example.com');
    await page.fill('#comment', 'Approved on the rehearsed dashboard.');
    await page.getByRole('button', { name: 'Approve' }).click();

    // redirected to the run, which the engine resumed
    await expect.poll(() => page.url()).toContain(`/runs/${runId}`);
    const outcome = await engine.result(runId, { timeoutMs: 60_000 });
    expect(outcome.status).toBe('succeeded');

    // the registry: the decision, and the run's end (by the registry writer, through the status-change rule)
    await r.settle();
    const run = await waitFor(
      async () => {
        const got = await registry!.getRun(runId);
        return got?.finishedAt ? got : undefined;
      },
      20_000,
      'the registry writer to record the end',
    );
    expect(run).toMatchObject({ status: 'succeeded', engine: 'stepfunctions' });
    expect(run.reviews).toMatchObject([
      { gate: 'review', decision: 'approved', decidedBy: 'alice@example.com', comment: 'Approved on the rehearsed dashboard.' },
    ]);

    // the run page shows it; the link again is closed
    await page.goto(`${url}/runs/${runId}`);
    await page.locator('h1 .badge', { hasText: 'Succeeded' }).waitFor({ timeout: 10_000 });
    const replay = await page.goto(reviewUrl);
    expect(replay?.status()).toBe(409);
    await page.getByText('This review is closed').waitFor();
    expect(r.denials).toEqual([]);
    console.info(`dashboard rehearsal: set-up to approved and succeeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
});
