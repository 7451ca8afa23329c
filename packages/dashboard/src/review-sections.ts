import { isBlobRef, type BlobStore } from '@baton/core';
import { getText, resolveRefs } from '@baton/core/engine';
import { sectionItems, type SectionVersion } from '@baton/registry';

/** A paragraph of a generated section and the source paragraphs it cites. */
export interface SectionParagraphView {
  text: string;
  citations: string[];
}

/** A reported figure (a table row). */
export interface SectionFigureView {
  label: string;
  value: string;
  unit: string;
  citation: string;
}

/** A cited source paragraph, with the file it comes from. */
export interface SourceExcerpt {
  id: string;
  source: string;
  heading?: string;
  text: string;
}

/** One section as the reviewer reads it: the text, what it cites, and what the checks said. */
export interface SectionView {
  /** The section id verdicts name (`task.sectionId`); for sections without one, `section-<n>`. */
  id: string;
  title: string;
  /** `ready`: text to judge; `held`: the safety check held it; `failed`: no text was produced. */
  state: 'ready' | 'held' | 'failed';
  paragraphs: SectionParagraphView[];
  figures: SectionFigureView[];
  /** The model's answer as text when it is not structured (or could not be parsed). */
  plainText?: string;
  excerpts: SourceExcerpt[];
  /** The validator's findings on this text (a repaired section keeps the ones repair answered). */
  findings: string[];
  /** The safety finding in words, when the section was held. */
  safety?: string;
  /** Why no text was produced, when it failed. */
  failure?: string;
  modelId?: string;
  promptSha256?: string;
  round?: number;
  /** Why the text could not be loaded (a missing blob), shown instead of silence. */
  loadError?: string;
  /** A decision an earlier round took on this section (the payload's `decided`). */
  decided?: { verdict: string; reviewer: string | null; note: string | null; round: number | null };
  /** The reviewer's note this text was written again after (the item's `revision`). */
  revision?: { note: string; reviewer: string | null; round: number | null };
}

/** Where a review's sections come from: the payload the gate opened with, and the versions the registry kept. */
export interface ReviewContent {
  /** The payload with claim-check references resolved (when a blob store is given). */
  payload: unknown;
  sections: SectionView[];
}

/**
 * Loads what a reviewer must read: every section of the payload with its text read from the blob
 * store (whatever its size), its cited source excerpts, validator findings and safety finding.
 * When the payload itself is gone (a decided review stored as a digest) the sections come from the
 * registry's section versions, which keep each text's blob key.
 */
export async function loadReviewContent(payload: unknown, blobs: BlobStore | undefined, versions?: Record<string, SectionVersion>): Promise<ReviewContent> {
  const resolved = blobs ? await resolveRefs(payload, blobs).catch(() => payload) : payload;
  const items = sectionItems(resolved);
  const p = resolved as { sectionIndex?: unknown; decided?: unknown };
  // a report's sections name themselves (`task.sectionId`) or come with a section index; any other payload is shown as data
  if (items.length > 0 && (Array.isArray(p.sectionIndex) || items.some((i) => typeof (i as { task?: { sectionId?: unknown } }).task?.sectionId === 'string'))) {
    const index = Array.isArray(p.sectionIndex) ? (p.sectionIndex as { sectionId?: unknown; title?: unknown }[]) : [];
    const decided = typeof p.decided === 'object' && p.decided !== null ? (p.decided as Record<string, Record<string, unknown>>) : {};
    const sections = await Promise.all(
      items.map(async (item, i) => {
        // a failed item has no task: the report's section index names it
        const named = (item as { task?: unknown }).task || !index[i] ? item : { ...item, task: { sectionId: index[i]?.sectionId, title: index[i]?.title } };
        const view = await sectionOf(named, i, blobs);
        const d = decided[view.id];
        if (d)
          view.decided = {
            verdict: String(d.verdict),
            reviewer: stringOr(d.reviewer),
            note: stringOr(d.note),
            round: typeof d.round === 'number' ? d.round : null,
          };
        return view;
      }),
    );
    return { payload: resolved, sections };
  }
  const fromVersions = Object.entries(versions ?? {}).map(([id, v], i) =>
    sectionOf({ task: { sectionId: id, title: v.title ?? id }, check: { outputKey: v.outputKey, round: v.round } }, i, blobs),
  );
  return { payload: resolved, sections: await Promise.all(fromVersions) };
}

type Item = Record<string, unknown>;

async function sectionOf(raw: object, index: number, blobs: BlobStore | undefined): Promise<SectionView> {
  const item = raw as Item;
  const task = (item.task ?? {}) as { sectionId?: unknown; title?: unknown; contextRefs?: unknown };
  const failed = item.status === 'failed' ? (item.error as { code?: string; message?: string } | undefined) : undefined;
  const view: SectionView = {
    id: typeof task.sectionId === 'string' ? task.sectionId : `section-${index + 1}`,
    title: typeof task.title === 'string' ? task.title : `Section ${index + 1}`,
    state: failed ? 'failed' : item.flagged || item.safety ? 'held' : 'ready',
    paragraphs: [],
    figures: [],
    excerpts: [],
    findings: findingsOf(item),
  };
  if (failed) view.failure = `${failed.code ?? 'Failed'}: ${failed.message ?? ''}`;
  const revision = item.revision as { note?: unknown; reviewer?: unknown; round?: unknown } | undefined;
  if (typeof revision?.note === 'string')
    view.revision = { note: revision.note, reviewer: stringOr(revision.reviewer), round: typeof revision.round === 'number' ? revision.round : null };
  const safety = safetyOf(item);
  if (safety) view.safety = safety;
  const outputKey = lastString(item, 'outputKey');
  if (!outputKey) return view;
  if (!blobs) {
    view.loadError = `The text is in the blob store at ${outputKey}; this dashboard was started without the blob store (createDashboardApp's blobs option), so it cannot show it.`;
    return view;
  }
  try {
    const out = JSON.parse(await getText(blobs, outputKey)) as { text?: unknown; json?: unknown; modelId?: unknown; promptSha256?: unknown; round?: unknown };
    if (typeof out.modelId === 'string') view.modelId = out.modelId;
    if (typeof out.promptSha256 === 'string') view.promptSha256 = out.promptSha256;
    if (typeof out.round === 'number') view.round = out.round;
    const content = (out.json ?? parseJson(out.text)) as { title?: unknown; paragraphs?: unknown; figures?: unknown } | undefined;
    if (content && Array.isArray(content.paragraphs)) {
      // the plan's title names the section; the model's own title only when the plan gave none
      if (typeof task.title !== 'string' && typeof content.title === 'string' && content.title.trim()) view.title = content.title;
      view.paragraphs = content.paragraphs.map(paragraphOf).filter((p): p is SectionParagraphView => p !== undefined);
      view.figures = Array.isArray(content.figures) ? content.figures.map(figureOf).filter((f): f is SectionFigureView => f !== undefined) : [];
    } else if (typeof out.text === 'string') {
      view.plainText = out.text;
    }
  } catch (e) {
    view.loadError = `The text at ${outputKey} could not be read: ${(e as Error).message}`;
  }
  const cited = [...new Set([...view.paragraphs.flatMap((p) => p.citations), ...view.figures.map((f) => f.citation)])];
  view.excerpts = await excerptsOf(item.sources, cited, blobs);
  return view;
}

/** The source paragraphs a section cites, read from the normalised documents behind `sources`. */
async function excerptsOf(sources: unknown, cited: string[], blobs: BlobStore): Promise<SourceExcerpt[]> {
  if (!Array.isArray(sources) || cited.length === 0) return [];
  const byId = new Map<string, SourceExcerpt>();
  for (const s of sources as { key?: unknown; name?: unknown }[]) {
    if (typeof s?.key !== 'string') continue;
    try {
      const doc = JSON.parse(await getText(blobs, s.key)) as { name?: string; paragraphs?: { id: string; text: string; heading?: string }[] };
      for (const p of doc.paragraphs ?? []) {
        const excerpt: SourceExcerpt = { id: p.id, source: String(s.name ?? doc.name ?? s.key), text: p.text };
        if (p.heading) excerpt.heading = p.heading;
        byId.set(p.id, excerpt);
      }
    } catch {
      // a source that cannot be read shows as "not found" below
    }
  }
  return cited.map((id) => byId.get(id) ?? { id, source: 'not found among the sources', text: '' });
}

function findingsOf(item: Item): string[] {
  const out: string[] = [];
  // a section that stayed invalid after its repair rounds failed with the validator's last findings
  for (const key of ['check', 'validation', 'findings', 'error']) {
    const v = item[key] as { details?: { errors?: unknown }; errors?: unknown } | undefined;
    const errors = v?.details?.errors ?? v?.errors;
    if (Array.isArray(errors)) out.push(...errors.map(String));
  }
  return out;
}

/**
 * The safety finding of a held section in words: each finding's class and the check's plain-words
 * reason (`details.findings`, free of model text), never a regular expression.
 */
export function safetyOf(item: Item): string | undefined {
  const source = (item.safety ?? item.flagged) as { details?: Record<string, unknown> } | undefined;
  if (!source) return undefined;
  const details = source.details ?? {};
  const lines: string[] = [];
  if (Array.isArray(details.findings)) {
    for (const f of details.findings as { class?: unknown; reason?: unknown }[]) {
      const cls = typeof f?.class === 'string' ? f.class.replace(/[-_]+/g, ' ') : 'finding';
      lines.push(typeof f?.reason === 'string' ? `${cls}: ${f.reason}` : cls);
    }
  } else if (Array.isArray(details.matches) && details.matches.every((m) => typeof m === 'string' && /^[a-z][a-z-]*: /.test(m))) {
    lines.push(...(details.matches as string[]).map((m) => m.replace(/^([a-z-]+):/, (_, c: string) => `${c.replace(/-/g, ' ')}:`)));
  }
  const unique = [...new Set(lines)];
  if (unique.length === 0) return 'The safety check found the answer off-script, so a person must read it before it goes into the report.';
  return `The safety check held this text: ${unique.join('; ')}.`;
}

function lastString(value: unknown, key: string, depth = 0): string | undefined {
  if (depth > 3 || typeof value !== 'object' || value === null || Array.isArray(value) || isBlobRef(value)) return undefined;
  let found: string | undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'sources' || k === 'task') continue;
    if (k === key && typeof v === 'string') found = v;
    else found = lastString(v, key, depth + 1) ?? found;
  }
  return found;
}

function paragraphOf(p: unknown): SectionParagraphView | undefined {
  if (typeof p === 'string') return { text: p, citations: [] };
  const v = p as { text?: unknown; citations?: unknown } | null;
  if (typeof v?.text !== 'string') return undefined;
  return { text: v.text, citations: Array.isArray(v.citations) ? v.citations.map(String) : [] };
}

function figureOf(f: unknown): SectionFigureView | undefined {
  const v = f as { label?: unknown; value?: unknown; unit?: unknown; citation?: unknown } | null;
  if (!v || typeof v.label !== 'string') return undefined;
  return { label: v.label, value: String(v.value ?? ''), unit: String(v.unit ?? ''), citation: String(v.citation ?? '') };
}

function stringOr(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
