import { createLocalEngine, createMemoryBlobStore, reviewLink, type ReviewNotice } from '@baton/core';
import { createDashboardApp } from '@baton/dashboard';
import { reportPipeline } from '@baton/example-report';
import { createPgliteRegistry, createRegistryObserver } from '@baton/registry';
import { createOfflineModel } from '@baton/stages';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SOURCES = join(import.meta.dirname, '../../../examples/report-generation/sources');
const TOKEN = 'report-review-token-0123456789';

describe('the reference report reviewed section by section in the dashboard (local engine, offline model)', () => {
  it('shows every section text, takes a send-back with a note, shows the rewrite at the next round, and keeps both rounds on record', async () => {
    const registry = await createPgliteRegistry();
    const observer = createRegistryObserver(registry);
    const blobs = createMemoryBlobStore();
    const notices: ReviewNotice[] = [];
    const engine = createLocalEngine({ pipelines: [reportPipeline], blobs, model: createOfflineModel({ faults: {} }), observer, notifier: (n) => void notices.push(n) });
    const app = createDashboardApp({ registry, engine, token: TOKEN, blobs });
    const req = async (path: string, form?: Record<string, string>): Promise<Response> =>
      app.fetch(new Request(`http://127.0.0.1${path}`, { method: form ? 'POST' : 'GET', headers: { authorization: `Bearer ${TOKEN}` }, ...(form ? { body: new URLSearchParams(form) } : {}) }));
    const gateOpen = async (count: number): Promise<ReviewNotice> => {
      for (let i = 0; i < 1500 && notices.length < count; i++) await new Promise((r) => setTimeout(r, 20));
      await observer.flush();
      return notices[count - 1]!;
    };
    try {
      const sources = [];
      for (const name of readdirSync(SOURCES).sort()) {
        await blobs.put(`sources/${name}`, new Uint8Array(readFileSync(join(SOURCES, name))));
        sources.push({ key: `sources/${name}`, name });
      }
      const { runId } = await engine.start(reportPipeline, { sources, reviewerId: 'ana' });
      const first = await gateOpen(1);
      const ids = first.sections ?? [];
      expect(ids.length).toBe(9);

      const page = await (await req(reviewLink('', first))).text();
      expect(page).not.toMatch(/\$omitted|Sha256/i);
      const sectionCount = (page.match(/<section class="panel review-section"/g) ?? []).length;
      expect(sectionCount).toBe(9);
      for (const id of ids) expect(page).toContain(`name="verdict:${id}" value="send-back"`);
      expect(page).toMatch(/<p>[^<]{40,}<a class="cite" href="#x-/); // generated paragraphs with their citations
      expect(page).toMatch(/<b>study-protocol\.md<\/b>/); // cited excerpts named by their source file
      const run = await (await req(`/runs/${runId}`)).text();
      expect(run).toContain('Waiting for review by');
      expect(run).toMatch(/ingest › study-protocol\.md › ingest-file/);
      expect(run).not.toMatch(/item \d/);

      const [back, ...rest] = ids;
      const verdicts: Record<string, string> = { token: first.token, decision: 'approve', [`verdict:${back}`]: 'send-back', [`note:${back}`]: 'Add the 10 mg arm to the table.' };
      for (const id of rest) verdicts[`verdict:${id}`] = 'approve';
      expect((await req(`/reviews/${runId}/review`, verdicts)).status).toBe(303);

      // the next round asks about the section sent back only, rewritten after the note
      const second = await gateOpen(2);
      expect(second.sections).toEqual([back]);
      const again = await (await req(reviewLink('', second))).text();
      expect(again).toContain('Add the 10 mg arm to the table.');
      expect(again).toMatch(/Written again after the note of ana in round 1/);
      expect(again).toContain('It is not asked again.');
      expect(again).toContain(`name="verdict:${back}" value="approve"`);
      expect(again).not.toContain(`name="verdict:${rest[0]}"`);
      expect((await req(`/reviews/${runId}/${second.gate}`, { token: second.token, decision: 'approve', [`verdict:${back}`]: 'approve' })).status).toBe(303);
      expect((await engine.result(runId, { timeoutMs: 60_000 })).status).toBe('succeeded');
      await observer.flush();

      const audit = (await (await req(`/runs/${runId}/audit.json`)).json()) as { decisions: { sectionId: string | null; verdict: string; round: number | null; modelId: string | null; promptSha256: string | null }[] };
      const sent = audit.decisions.filter((d) => d.sectionId === back);
      expect(sent.map((d) => d.verdict)).toEqual(['send-back', 'approve']);
      expect(sent.every((d) => d.modelId && d.promptSha256)).toBe(true);
      expect(audit.decisions.filter((d) => d.sectionId === null).map((d) => d.verdict)).toEqual(['approved', 'approved']);
      expect(audit.decisions.filter((d) => d.verdict === 'approve').length).toBe(9);
    } finally {
      await engine.close();
      await registry.close();
    }
  });
});
