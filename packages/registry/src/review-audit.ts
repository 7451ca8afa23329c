import { isBlobRef } from '@baton/core';
import type { SqlExecutor } from './sql.js';
import { isoOf } from './sql.js';
import type { ReviewDecisionRecord, RunRecord, SectionVersion } from './types.js';
import { json } from './values.js';

/** A verdict on one section, as the `review-decided` event carries it (`@baton/core`'s `SectionVerdict`). */
interface EventVerdict {
  verdict: string;
  note?: string | undefined;
}

/** The fields of `review-decided` the audit trail reads. */
export interface DecidedReview {
  runId: string;
  gate: string;
  stepPath: string;
  decision: 'approved' | 'rejected' | 'timeout';
  reviewer?: string | undefined;
  comment?: string | undefined;
  at: string;
  sections?: Record<string, EventVerdict> | undefined;
}

const VERDICTS = new Set(['approve', 'send-back', 'accept-missing']);
const MAX_DEPTH = 4;

/**
 * What made the text of each section in a review payload: for every item that names its section
 * (`task.sectionId`, as the report pipeline's map results do), the section title and the last
 * `outputKey`, `promptSha256` and `modelId` found in it (a repair's output comes after the first
 * generation's, so the last one is the text under review). Claim-check references are skipped.
 */
export function sectionVersionsOf(payload: unknown): Record<string, SectionVersion> {
  const out: Record<string, SectionVersion> = {};
  const items = sectionItems(payload);
  items.forEach((item, index) => {
    const task = (item as { task?: { sectionId?: unknown; title?: unknown } }).task;
    if (typeof task?.sectionId !== 'string') return;
    const version: SectionVersion = { index };
    if (typeof task.title === 'string') version.title = task.title;
    collect(item, version, 0);
    out[task.sectionId] = version;
  });
  return out;
}

/** The section items of a payload: `payload.sections` (map results unwrapped), else none. */
export function sectionItems(payload: unknown): object[] {
  if (typeof payload !== 'object' || payload === null) return [];
  const sections = (payload as { sections?: unknown }).sections;
  if (!Array.isArray(sections)) return [];
  return sections
    .map((s: unknown) => {
      if (typeof s !== 'object' || s === null) return undefined;
      const r = s as { status?: unknown; output?: unknown };
      return r.status === 'succeeded' && typeof r.output === 'object' && r.output !== null ? r.output : s;
    })
    .filter((s): s is object => s !== undefined);
}

function collect(value: unknown, into: SectionVersion, depth: number): void {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null || isBlobRef(value) || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'sources' || key === 'sectionIndex') continue;
    if (typeof v === 'string' && (key === 'outputKey' || key === 'promptSha256' || key === 'modelId')) into[key] = v;
    else if (typeof v === 'number' && key === 'round') into.round = v;
    else collect(v, into, depth + 1);
  }
}

/**
 * The review round of a decision at `gate`: 1 plus the number of other gates of that name the run
 * decided before `at` (a review loop reopens the gate under a new step path: the report's first
 * gate is round 1, the loop's first iteration round 2), as the report's sign-off counts rounds.
 */
export async function reviewRoundAt(tx: SqlExecutor, runId: string, gate: string, stepPath: string, at: string): Promise<number> {
  const [row] = await tx.query<{ n: unknown }>(
    `SELECT count(DISTINCT step_path) AS n FROM review_decision WHERE run_id = $1 AND gate = $2 AND section_id = '' AND step_path <> $3 AND decided_at < $4::timestamptz`,
    [runId, gate, stepPath, at],
  );
  return Number(row?.n ?? 0) + 1;
}

/** The review round of a step path: the index of the innermost loop iteration (`review-rounds@1/review` → 1), or null. */
export function roundOf(stepPath: string): number | null {
  const all = [...stepPath.matchAll(/@(\d+)/g)];
  const last = all.at(-1);
  return last?.[1] === undefined ? null : Number(last[1]);
}

/**
 * Appends a decision to the audit trail: one row for the gate (section `''`) and one per section
 * verdict, each with the model and prompt of the section's text recorded when the gate opened.
 * Idempotent: a replayed event adds nothing (the key holds the decision time).
 */
export async function recordDecision(tx: SqlExecutor, event: DecidedReview): Promise<void> {
  const [open] = await tx.query<{ section_versions: unknown }>('SELECT section_versions FROM pending_review WHERE run_id = $1 AND step_path = $2', [
    event.runId,
    event.stepPath,
  ]);
  const versions = (open?.section_versions ?? {}) as Record<string, SectionVersion>;
  const round = await reviewRoundAt(tx, event.runId, event.gate, event.stepPath, event.at);
  const rows: [string, string, string | null][] = [['', event.decision, event.comment ?? null]];
  for (const [sectionId, v] of Object.entries(event.sections ?? {})) {
    if (!VERDICTS.has(v.verdict)) continue;
    rows.push([sectionId, v.verdict, v.note ?? null]);
  }
  for (const [sectionId, verdict, note] of rows) {
    const version = sectionId ? versions[sectionId] : undefined;
    await tx.query(
      `INSERT INTO review_decision (run_id, step_path, gate, round, section_id, section_title, verdict, note, decided_by, decided_at, model_id, prompt_sha256, output_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamptz, $11, $12, $13)
       ON CONFLICT (run_id, step_path, section_id, decided_at) DO NOTHING`,
      [
        event.runId,
        event.stepPath,
        event.gate,
        round,
        sectionId,
        version?.title ?? null,
        verdict,
        note,
        event.reviewer ?? null,
        event.at,
        version?.modelId ?? null,
        version?.promptSha256 ?? null,
        version?.outputKey ?? null,
      ],
    );
  }
}

/** The audit trail of a run, oldest decision first, the gate's row before its sections. */
export async function listDecisions(tx: SqlExecutor, runId: string): Promise<ReviewDecisionRecord[]> {
  const rows = await tx.query('SELECT * FROM review_decision WHERE run_id = $1 ORDER BY decided_at, step_path, section_id', [runId]);
  return rows.map((r) => {
    const record: ReviewDecisionRecord = {
      runId: String(r.run_id),
      gate: String(r.gate),
      stepPath: String(r.step_path),
      round: r.round === null || r.round === undefined ? null : Number(r.round),
      sectionId: r.section_id ? String(r.section_id) : null,
      verdict: String(r.verdict) as ReviewDecisionRecord['verdict'],
      decidedAt: isoOf(r.decided_at)!,
      decidedBy: nullable(r.decided_by),
      note: nullable(r.note),
      sectionTitle: nullable(r.section_title),
      modelId: nullable(r.model_id),
      promptSha256: nullable(r.prompt_sha256),
      outputKey: nullable(r.output_key),
    };
    return record;
  });
}

/** JSON of the sections list and versions for `pending_review`, from a `review-opened` event. */
export function openedSectionColumns(sections: unknown, payload: unknown): [string | null, string | null] {
  const ids = Array.isArray(sections) && sections.every((s) => typeof s === 'string') ? (sections as string[]) : null;
  const versions = sectionVersionsOf(payload);
  return [json(ids), Object.keys(versions).length > 0 ? json(versions) : null];
}

function nullable(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

const VERDICT_WORDS: Record<ReviewDecisionRecord['verdict'], string> = {
  approved: 'Round closed: approved',
  rejected: 'Rejected the whole report',
  timeout: 'Nobody decided in time',
  approve: 'Approved',
  'send-back': 'Sent back',
  'accept-missing': 'Accepted as missing',
};

/** A verdict of the audit trail in words ("Sent back", "Accepted as missing"). */
export function verdictWords(verdict: ReviewDecisionRecord['verdict']): string {
  return VERDICT_WORDS[verdict] ?? verdict;
}

/** A run's review audit trail as exported (JSON): the run and every decision, oldest first. */
export interface ReviewAuditExport {
  runId: string;
  pipeline: string;
  title: string | null;
  reportId: string | null;
  status: string;
  decisions: ReviewDecisionRecord[];
}

/**
 * The export of a run's review audit trail, the one shape the dashboard's `audit.json` and
 * `baton audit --json` print.
 *
 * @example
 * ```ts
 * const run = await registry.getRun(runId);
 * if (run) console.log(JSON.stringify(reviewAuditExport(run, await registry.reviewDecisions(runId))));
 * ```
 */
export function reviewAuditExport(run: RunRecord, decisions: ReviewDecisionRecord[]): ReviewAuditExport {
  return { runId: run.runId, pipeline: run.pipeline, title: run.title ?? null, reportId: run.reportId ?? null, status: run.status, decisions };
}
