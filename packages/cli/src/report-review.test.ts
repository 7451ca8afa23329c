import { StageError, createLocalEngine, createMemoryBlobStore, type ModelClient, type ModelRequest, type ReviewNotice } from '@baton/core';
import { getText, reviewLink } from '@baton/core/engine';
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
    const engine = createLocalEngine({
      pipelines: [reportPipeline],
      blobs,
      model: createOfflineModel({ faults: {} }),
      observer,
      notifier: (n) => void notices.push(n),
    });
    const app = createDashboardApp({ registry, engine, token: TOKEN, blobs });
    const req = async (path: string, form?: Record<string, string>): Promise<Response> =>
      app.fetch(
        new Request(`http://127.0.0.1${path}`, {
          method: form ? 'POST' : 'GET',
          headers: { authorization: `Bearer ${TOKEN}` },
          ...(form ? { body: new URLSearchParams(form) } : {}),
        }),
      );
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
      const verdicts: Record<string, string> = {
        token: first.token,
        decision: 'approve',
        [`verdict:${back}`]: 'send-back',
        [`note:${back}`]: 'Add the 10 mg arm to the table.',
      };
      for (const id of rest) verdicts[`verdict:${id}`] = 'approve';
      expect((await req(`/reviews/${runId}/review`, verdicts)).status).toBe(303);

      // the next round asks about the section sent back only, rewritten after the note
      const second = await gateOpen(2);
      expect(second.sections).toEqual([back]);
      const again = await (await req(reviewLink('', second))).text();
      expect(again).toContain('Add the 10 mg arm to the table.');
      expect(again).toMatch(/Gate “review”, review round 2:/);
      expect(again).toMatch(/Written again after the note of ana in round 1/);
      expect(again).toContain('It is not asked again.');
      expect(again).toContain(`name="verdict:${back}" value="approve"`);
      expect(again).not.toContain(`name="verdict:${rest[0]}"`);
      expect((await req(`/reviews/${runId}/${second.gate}`, { token: second.token, decision: 'approve', [`verdict:${back}`]: 'approve' })).status).toBe(303);
      expect((await engine.result(runId, { timeoutMs: 60_000 })).status).toBe('succeeded');
      await observer.flush();

      const audit = (await (await req(`/runs/${runId}/audit.json`)).json()) as {
        decisions: { sectionId: string | null; verdict: string; round: number | null; modelId: string | null; promptSha256: string | null }[];
      };
      const sent = audit.decisions.filter((d) => d.sectionId === back);
      expect(sent.map((d) => [d.verdict, d.round])).toEqual([
        ['send-back', 1],
        ['approve', 2],
      ]);
      expect(sent.every((d) => d.modelId && d.promptSha256)).toBe(true);
      expect(audit.decisions.filter((d) => d.sectionId === null).map((d) => d.verdict)).toEqual(['approved', 'approved']);
      expect(audit.decisions.filter((d) => d.verdict === 'approve').length).toBe(9);
    } finally {
      await engine.close();
      await registry.close();
    }
  });

  it(
    'retries a section whose model stayed throttled (retries exhausted) and a section held for safety from the review page; approved sections are never written again',
    { timeout: 90_000 },
    async () => {
      const registry = await createPgliteRegistry();
      const observer = createRegistryObserver(registry);
      const blobs = createMemoryBlobStore();
      const notices: ReviewNotice[] = [];
      const offline = createOfflineModel({ faults: { offScriptSections: ['conclusions'] } });
      const calls: { section: unknown; purpose: unknown }[] = [];
      // the provider throttles every first-draft call for the efficacy results (5 attempts: retries exhausted)
      // and answers the rewrite; a rewrite keeps to the script once told
      const model: ModelClient = {
        modelId: offline.modelId,
        async complete(request: ModelRequest, options) {
          const meta = request.metadata ?? {};
          calls.push({ section: meta.sectionId, purpose: meta.purpose });
          if (meta.sectionId === 'efficacy-results' && meta.purpose === 'generate')
            throw new StageError('ThrottlingException', 'the model service is busy (test)');
          const response = await offline.complete(request, options);
          if (meta.purpose !== 'revise') return response;
          const json = JSON.parse(response.text) as { paragraphs: { text: string }[] };
          json.paragraphs = json.paragraphs.filter((p) => !p.text.startsWith('As an AI language model'));
          return { ...response, text: JSON.stringify(json), json };
        },
      };
      const engine = createLocalEngine({ pipelines: [reportPipeline], blobs, model, observer, notifier: (n) => void notices.push(n) });
      const app = createDashboardApp({ registry, engine, token: TOKEN, blobs });
      const req = async (path: string, form?: Record<string, string>): Promise<Response> =>
        app.fetch(
          new Request(`http://127.0.0.1${path}`, {
            method: form ? 'POST' : 'GET',
            headers: { authorization: `Bearer ${TOKEN}` },
            ...(form ? { body: new URLSearchParams(form) } : {}),
          }),
        );
      const gateOpen = async (count: number): Promise<ReviewNotice> => {
        for (let i = 0; i < 3000 && notices.length < count; i++) await new Promise((r) => setTimeout(r, 20));
        await observer.flush();
        return notices[count - 1]!;
      };
      const drafts = (section: string): unknown[] => calls.filter((c) => c.section === section && c.purpose !== 'repair').map((c) => c.purpose);
      try {
        const sources = [];
        for (const name of readdirSync(SOURCES).sort()) {
          await blobs.put(`sources/${name}`, new Uint8Array(readFileSync(join(SOURCES, name))));
          sources.push({ key: `sources/${name}`, name });
        }
        const { runId } = await engine.start(reportPipeline, { sources, reviewerId: 'ana' });
        const first = await gateOpen(1);
        const ids = first.sections ?? [];
        expect(drafts('efficacy-results')).toEqual(Array(5).fill('generate'));

        // the failed section says why and offers a retry (no approve: there is no text); the held one says why in words
        const page = await (await req(reviewLink('', first))).text();
        const section = (id: string): string =>
          page.slice(page.indexOf(`data-section="${id}"`), page.indexOf('</section>', page.indexOf(`data-section="${id}"`)));
        expect(section('efficacy-results')).toContain('No text was produced.');
        expect(section('efficacy-results')).toContain('Send back (retry)');
        expect(section('efficacy-results')).not.toContain('value="approve"');
        expect(section('conclusions')).toContain('The safety check held this text: model self reference:');
        expect(section('conclusions')).toContain('denylist: uses a phrase the report template forbids');
        expect(section('conclusions')).not.toMatch(/denylist[^<]*\//);

        const form: Record<string, string> = { token: first.token, decision: 'approve' };
        for (const id of ids) form[`verdict:${id}`] = 'approve';
        Object.assign(form, {
          'verdict:efficacy-results': 'send-back',
          'note:efficacy-results': 'Try again: the service was busy.',
          'verdict:conclusions': 'send-back',
          'note:conclusions': 'Keep to the data.',
        });
        expect((await req(`/reviews/${runId}/review`, form)).status).toBe(303);

        // round 2 asks about the two retried sections only, both written this time
        const second = await gateOpen(2);
        expect(second.sections).toEqual(['efficacy-results', 'conclusions']);
        const again = await (await req(reviewLink('', second))).text();
        expect(again).toMatch(/Gate “review”, review round 2:/);
        expect(again).toContain('Try again: the service was busy.');
        expect(again).toContain('name="verdict:efficacy-results" value="approve"');
        expect(again).toContain('name="verdict:conclusions" value="approve"');
        expect(again).not.toContain('name="verdict:synopsis"');
        expect(
          (
            await req(`/reviews/${runId}/${second.gate}`, {
              token: second.token,
              decision: 'approve',
              'verdict:efficacy-results': 'approve',
              'verdict:conclusions': 'approve',
            })
          ).status,
        ).toBe(303);
        const outcome = await engine.result(runId, { timeoutMs: 60_000 });
        if (outcome.status !== 'succeeded') throw new Error(JSON.stringify(outcome.error));
        await observer.flush();

        // every approved section was written once; only the retried ones again, once each
        for (const id of ids.filter((i) => i !== 'efficacy-results' && i !== 'conclusions')) expect(drafts(id), id).toEqual(['generate']);
        expect(drafts('efficacy-results')).toEqual([...Array(5).fill('generate'), 'revise']);
        expect(drafts('conclusions')).toEqual(['generate', 'revise']);
        const out = (outcome as { output: { report: { sections: Record<string, number>; markdownKey: string } } }).output.report;
        expect(out.sections).toMatchObject({ total: 9, ok: 9 });
        expect(await getText(blobs, out.markdownKey)).not.toContain('SECTION NOT GENERATED');

        // the timeline names the rewritten sections by title
        const run = await (await req(`/runs/${runId}`)).text();
        expect(run).toMatch(/review-rounds › round 1 › rewrite › Efficacy Results › regenerate/);
        expect(run).toMatch(/review-rounds › round 1 › rewrite › Conclusions › regenerate/);
        expect(run).not.toMatch(/item \d/);
      } finally {
        await engine.close();
        await registry.close();
      }
    },
  );
});
