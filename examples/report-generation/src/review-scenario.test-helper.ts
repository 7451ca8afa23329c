import { createMemoryBlobStore, type AnyPipeline, type BlobStore, type Engine, type ModelClient, type ReviewNotifier, type ReviewNotice } from '@baton/core';
import { getText } from '@baton/core/engine';
import { clinicalStudyReport, createOfflineModel, type OfflineFaults } from '@baton/stages';
import mammoth from 'mammoth';
import { extractText, getDocumentProxy } from 'unpdf';
import { expect } from 'vitest';
import { reportPipeline } from './pipeline.js';
import { sampleSources } from './run-report.test-helper.js';

const NOTE = 'The efficacy table misses the 10 mg arm.';
const ACCEPT_NOTE = 'Safety data follow in the addendum.';
/** What the test's model adds to a section written again after review, so the final report shows which text it holds. */
const REVISED_SENTENCE = "Revised at the reviewer's request.";

/**
 * The offline model (with `faults`), answering a rewrite (`purpose: revise`) with one sentence more
 * in its first paragraph and without its injected off-script paragraph (a model that keeps to the
 * script once told); the offline model itself records every request it received.
 */
function revisingModel(faults: OfflineFaults = {}): { model: ModelClient; offline: ReturnType<typeof createOfflineModel> } {
  const offline = createOfflineModel({ faults });
  const model: ModelClient = {
    modelId: offline.modelId,
    async complete(request, options) {
      const response = await offline.complete(request, options);
      if (request.metadata?.purpose !== 'revise') return response;
      const json = JSON.parse(response.text) as { paragraphs: { text: string }[] };
      json.paragraphs = json.paragraphs.filter((p) => !p.text.startsWith('As an AI language model'));
      json.paragraphs[0]!.text = `${REVISED_SENTENCE} ${json.paragraphs[0]!.text}`;
      return { ...response, text: JSON.stringify(json), json };
    },
  };
  return { model, offline };
}

/** Review notices as they arrive, awaited one at a time. */
function noticeQueue() {
  const waiting: ((n: ReviewNotice) => void)[] = [];
  const queued: ReviewNotice[] = [];
  return {
    notifier: (n: ReviewNotice) => {
      const w = waiting.shift();
      if (w) w(n);
      else queued.push(n);
    },
    next: (): Promise<ReviewNotice> => {
      const q = queued.shift();
      return q ? Promise.resolve(q) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** What {@link reviewSectionBySection} needs to build the engine under test. */
export type EngineFactory = (options: { pipelines: AnyPipeline[]; blobs: BlobStore; model: ModelClient; notifier: ReviewNotifier }) => Engine;

/** Starts the reference report assigned to dr.lee on the engine `makeEngine` builds, with the sample sources (less `except`). */
async function startReport(makeEngine: EngineFactory, faults: OfflineFaults = {}, except: string[] = []) {
  const blobs = createMemoryBlobStore();
  const { model, offline } = revisingModel(faults);
  const notices = noticeQueue();
  const engine = makeEngine({ pipelines: [reportPipeline], blobs, model, notifier: notices.notifier });
  const refs = [];
  for (const s of sampleSources(except)) {
    await blobs.put(`sources/${s.name}`, s.bytes);
    refs.push({ key: `sources/${s.name}`, name: s.name });
  }
  const { runId } = await engine.start(reportPipeline, { sources: refs, reviewerId: 'dr.lee' });
  return { blobs, offline, notices, engine, runId, ids: clinicalStudyReport.sections.map((s) => s.type) };
}

/**
 * The reviewer's workflow on the reference report, through the Engine API of any engine: round 1
 * sends the efficacy results back with a note, accepts the (unwritable) safety results as missing
 * and approves the rest; round 2 (only the rewritten section) approves it. Checks the prompt the
 * model received, that approved sections were written once, and the final DOCX, Markdown, HTML
 * and PDF (rewritten section, marker, sign-off, outline) and the completion event.
 */
export async function reviewSectionBySection(makeEngine: EngineFactory, expectedStepPaths: { second: string; rewrite: string[] }): Promise<void> {
  // without the safety summary, the safety-results section cannot be written (a placeholder to accept as missing)
  const { blobs, offline, notices, engine, runId, ids } = await startReport(makeEngine, {}, ['safety-summary.docx']);

  // round 1: every section to decide
  const first = await notices.next();
  expect(first).toMatchObject({ gate: 'review', stepPath: 'review', reviewer: 'dr.lee', sections: ids });
  const verdicts = Object.fromEntries(ids.map((id) => [id, { verdict: 'approve' as const }]));
  await engine.approve(runId, 'review', {
    token: first.token,
    reviewer: 'dr.lee',
    sections: { ...verdicts, 'efficacy-results': { verdict: 'send-back', note: NOTE }, 'safety-results': { verdict: 'accept-missing', note: ACCEPT_NOTE } },
  });

  // round 2: only the section sent back, rewritten with the note in its prompt
  const second = await notices.next();
  expect(second).toMatchObject({ gate: 'review', stepPath: expectedStepPaths.second, reviewer: 'dr.lee', sections: ['efficacy-results'] });
  const revise = offline.calls.filter((c) => c.metadata?.purpose === 'revise');
  expect(revise.map((c) => c.metadata?.sectionId)).toEqual(['efficacy-results']);
  const prompt = revise[0]!.messages.map((m) => m.content).join('\n');
  expect(prompt).toContain(`Reviewer's note:\n> ${NOTE}`);
  expect(prompt).toContain('A reviewer (dr.lee) sent this section back in review round 1.');
  // a verdict on a section already decided is refused, and the round stays open
  await expect(
    engine.approve(runId, 'review', { token: second.token, reviewer: 'dr.lee', sections: { synopsis: { verdict: 'send-back', note: 'again' } } }),
  ).rejects.toMatchObject({ code: 'InvalidInput' });
  await engine.approve(runId, 'review', {
    token: second.token,
    reviewer: 'dr.lee',
    comment: 'signed',
    sections: { 'efficacy-results': { verdict: 'approve' } },
  });

  const outcome = await engine.result(runId, { timeoutMs: 50_000 });
  if (outcome.status !== 'succeeded') throw new Error(JSON.stringify(outcome.error));
  const info = await engine.status(runId);
  await engine.close();

  // approved sections were written once; only the sent-back one was written again
  const drafts = (id: string) => offline.calls.filter((c) => c.metadata?.sectionId === id && c.metadata?.purpose !== 'repair').map((c) => c.metadata?.purpose);
  for (const id of ids.filter((i) => i !== 'efficacy-results' && i !== 'safety-results')) expect(drafts(id), id).toEqual(['generate']);
  expect(drafts('efficacy-results')).toEqual(['generate', 'revise']);
  expect(info.attempts.filter((a) => a.stepPath.includes('rewrite[')).map((a) => a.stepPath)).toEqual(expectedStepPaths.rewrite);

  const out = outcome.output as {
    report: { docxKey: string; pdfKey: string; markdownKey: string; htmlKey: string; sections: Record<string, number> };
    notified: { delivered: string };
  };
  expect(out.report.sections).toMatchObject({ total: 9, ok: 8, failed: 1 });
  const titles = clinicalStudyReport.sections.map((s, i) => `${i + 1}. ${s.title}`);
  const marker = `Accepted as missing by dr.lee: ${ACCEPT_NOTE}`;
  const efficacy = titles[ids.indexOf('efficacy-results')]!;

  const md = await getText(blobs, out.report.markdownKey);
  expect(md).toContain(`## ${efficacy}`);
  const efficacyMd = md.slice(md.indexOf(`## ${efficacy}`), md.indexOf('## ', md.indexOf(`## ${efficacy}`) + 3));
  expect(efficacyMd).toContain('*Revised after review round 1.*');
  expect(efficacyMd).toContain(REVISED_SENTENCE);
  expect(md).toContain('SECTION NOT GENERATED (InvalidInput)');
  expect(md).toContain(marker);
  expect(md).toContain('## Sign-off');
  expect(md).toContain('Approved by: dr.lee');
  expect(md).toContain('Review rounds: 2');
  expect(md).toContain('Comment: signed');
  expect(md).toMatch(/\| 6\. Efficacy Results \| approved \(after 1 send-back\) \| dr\.lee \| 2 \|/);
  expect(md).toMatch(/\| 7\. Safety Results \| accepted as missing \| dr\.lee \| 1 \| .* \| Safety data follow in the addendum\. \|/);
  expect(await getText(blobs, out.report.htmlKey)).toContain(marker);

  const docx = (await mammoth.extractRawText({ buffer: Buffer.from(await blobs.get(out.report.docxKey)) })).value;
  for (const text of [REVISED_SENTENCE, 'Revised after review round 1.', marker, 'Sign-off', 'Approved by: dr.lee', ...titles]) expect(docx).toContain(text);

  const pdf = await getDocumentProxy(new Uint8Array(await blobs.get(out.report.pdfKey)));
  expect(pdf.numPages).toBeGreaterThan(1);
  const { text } = await extractText(pdf, { mergePages: true });
  for (const heading of [...titles, 'Sources', 'Sign-off']) expect(text).toContain(heading);
  for (const line of [REVISED_SENTENCE, marker, 'Approved by: dr.lee', 'Review rounds: 2']) expect(text.replace(/\s+/g, ' ')).toContain(line);
  expect(((await pdf.getOutline()) ?? []).map((o) => o.title)).toEqual([...titles, 'Sources', 'Sign-off']);

  // the completion event names the PDF beside the DOCX
  const event = JSON.parse(await getText(blobs, out.notified.delivered.replace(/^blob:/, ''))) as { outputs: Record<string, string> };
  expect(event.outputs).toMatchObject({ docx: out.report.docxKey, pdf: out.report.pdfKey });
}

/**
 * One section sent back twice (a second note in round 2), then approved in round 3 with every
 * other section approved in round 1: three gates of one run, the loop's second iteration included.
 */
export async function sendBackTwice(makeEngine: EngineFactory): Promise<void> {
  const { blobs, offline, notices, engine, runId, ids } = await startReport(makeEngine);
  const first = await notices.next();
  const approveAll = Object.fromEntries(ids.map((id) => [id, { verdict: 'approve' as const }]));
  await engine.approve(runId, 'review', {
    token: first.token,
    reviewer: 'dr.lee',
    sections: { ...approveAll, synopsis: { verdict: 'send-back', note: 'Name the primary endpoint.' } },
  });
  const second = await notices.next();
  expect(second.sections).toEqual(['synopsis']);
  await engine.approve(runId, 'review', {
    token: second.token,
    reviewer: 'dr.lee',
    sections: { synopsis: { verdict: 'send-back', note: 'Shorter, please.' } },
  });
  const third = await notices.next();
  expect(third.sections).toEqual(['synopsis']);
  await engine.approve(runId, 'review', { token: third.token, reviewer: 'dr.lee', sections: { synopsis: { verdict: 'approve' } } });
  const outcome = await engine.result(runId, { timeoutMs: 60_000 });
  await engine.close();
  if (outcome.status !== 'succeeded') throw new Error(JSON.stringify(outcome.error));
  const revisions = offline.calls.filter((c) => c.metadata?.purpose === 'revise');
  expect(revisions.map((c) => [c.metadata?.sectionId, c.metadata?.reviewRound])).toEqual([
    ['synopsis', 1],
    ['synopsis', 2],
  ]);
  expect(revisions[1]!.messages[0]!.content).toContain('> Shorter, please.');
  expect(revisions[1]!.messages[0]!.content).not.toContain('Name the primary endpoint.');
  expect(offline.calls.filter((c) => c.metadata?.purpose === 'generate')).toHaveLength(ids.length);
  const out = outcome.output as { report: { markdownKey: string } };
  const md = await getText(blobs, out.report.markdownKey);
  expect(md).toContain('*Revised after review round 2.*');
  expect(md).toContain('Review rounds: 3');
  expect(md).toMatch(/\| 1\. Synopsis \| approved \(after 2 send-backs\) \| dr\.lee \| 3 \|/);
}

/**
 * A section held by the safety check is sent back (retried) with a note: its prompt carries the
 * safety findings, the rewrite passes, the next round shows only it, and the report has its text.
 */
export async function retryHeldSection(makeEngine: EngineFactory): Promise<void> {
  const { blobs, offline, notices, engine, runId, ids } = await startReport(makeEngine, { offScriptSections: ['conclusions'] });
  const first = await notices.next();
  const payload = first.payload as { sections: { output?: { flagged?: unknown } }[] };
  expect(payload.sections[ids.indexOf('conclusions')]!.output?.flagged).toMatchObject({ status: 'needs-human-review' });
  const approveAll = Object.fromEntries(ids.map((id) => [id, { verdict: 'approve' as const }]));
  await engine.approve(runId, 'review', {
    token: first.token,
    reviewer: 'dr.lee',
    sections: { ...approveAll, conclusions: { verdict: 'send-back', note: 'Keep to the data.' } },
  });
  const second = await notices.next();
  expect(second.sections).toEqual(['conclusions']);
  const prompt = offline.calls.find((c) => c.metadata?.purpose === 'revise')!.messages[0]!.content;
  expect(prompt).toContain('> Keep to the data.');
  expect(prompt).toMatch(/The validator's findings on that text:\n- safety: /);
  await engine.approve(runId, 'review', { token: second.token, reviewer: 'dr.lee', sections: { conclusions: { verdict: 'approve' } } });
  const outcome = await engine.result(runId, { timeoutMs: 60_000 });
  await engine.close();
  if (outcome.status !== 'succeeded') throw new Error(JSON.stringify(outcome.error));
  const out = outcome.output as { report: { markdownKey: string; sections: Record<string, number> } };
  expect(out.report.sections).toMatchObject({ total: 9, ok: 9, held: 0 });
  const md = await getText(blobs, out.report.markdownKey);
  expect(md).not.toContain('SECTION HELD');
  expect(md.slice(md.indexOf('. Conclusions\n'))).toContain(REVISED_SENTENCE);
}
