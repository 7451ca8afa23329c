import type { AttemptRow, RunDetail, StepRecord, TokenPricing, UsageSummary } from '@baton/registry';
import { errorLabel, formatCount, formatDuration, formatMoney, formatTime, statusLabel, stepLabel } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { stepNamesOf, type StepNames } from '../step-names.js';
import { costWords, runCostCard, usageWords } from './cost.js';
import { badge } from './layout.js';

/**
 * One run: header, open reviews, and a timeline of every step and map item with its attempts,
 * errors and durations, bars placed on the run's own time axis.
 */
export function runDetailBody(run: RunDetail, now: number, pricing?: TokenPricing, decided?: 'approve' | 'reject', currency = 'USD'): SafeHtml {
  const start = Date.parse(run.startedAt);
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now;
  const span = Math.max(1, end - start);
  const attempts = groupAttempts(run.attempts);
  const open = run.reviews.filter((r) => !r.decidedAt);
  const names = stepNamesOf(run);
  const waitingOn = run.status === 'waiting' ? open[0] : undefined;
  const flat = pricing ? (run.inputTokens * pricing.inputUsdPerMillion + run.outputTokens * pricing.outputUsdPerMillion) / 1e6 : undefined;
  return html`${decided ? html`<div class="panel notice" role="status">Your decision (${decided === 'approve' ? 'approved' : 'rejected'}) was sent to the ${run.engine} engine; this page follows the run.</div>` : ''}
<h1>Run ${run.runId} ${badge(run.status, statusLabel(run.status))}</h1>
<div class="cards">
${run.title ? html`<div class="card"><span class="muted">Report</span><b>${run.title}</b></div>` : ''}
<div class="card"><span class="muted">Pipeline</span><b>${run.pipeline}</b></div>
<div class="card"><span class="muted">Engine</span><b>${run.engine}</b>${run.executionId ? html`<span class="muted">${run.executionId}</span>` : ''}</div>
<div class="card"><span class="muted">Started</span><b>${formatTime(run.startedAt)}</b></div>
${
  waitingOn
    ? html`<div class="card" data-waiting><span class="muted">Waiting for review by</span><b>${waitingOn.reviewer ?? run.reviewerId ?? 'anyone with the link'}</b><span class="muted">since ${formatTime(waitingOn.createdAt)} (${formatDuration(now - Date.parse(waitingOn.createdAt))})</span></div>`
    : html`<div class="card"><span class="muted">${run.finishedAt ? 'Took' : 'Running for'}</span><b>${formatDuration(end - start)}</b></div>`
}
${runCostCard(run.usage.total, currency, run.usage.unpricedModels, flat)}
</div>
${run.error ? html`<div class="panel alert"><b>Failed: ${run.error.code}</b> <span class="muted">(${run.error.errorClass} failure)</span><p>${run.error.message}</p></div>` : ''}
${open.map(
  (r) => html`<div class="panel notice"><b>Waiting for review at “${r.gate}”</b>${r.reviewer ? html` by ${r.reviewer}` : ''} since ${formatTime(r.createdAt)}.
<span class="muted">The reviewer decides from the link they received.</span> <a href="/reviews/${encodeURIComponent(r.runId)}/${encodeURIComponent(r.gate)}">Read what is under review</a></div>`,
)}
${run.reviews.some((r) => r.decidedAt) ? html`<p><a href="/runs/${encodeURIComponent(run.runId)}/audit">Review record: every decision, section by section</a></p>` : ''}
${run.reviews
  .filter((r) => r.decidedAt)
  .map(
    (r) =>
      html`<div class="panel"><b>Review “${r.gate}”: ${r.decision}</b>${r.decidedBy ? html` by ${r.decidedBy}` : ''} at ${formatTime(r.decidedAt)}${
        r.comment ? html`<p>“${r.comment}”</p>` : ''
      }</div>`,
  )}
${sectionCosts(run.usage.bySection, names, currency)}
<h2>Timeline</h2>
${
  run.steps.length === 0
    ? html`<p class="muted">No step has started yet.</p>`
    : html`<table class="timeline"><thead><tr><th>Step</th><th>Status</th><th>Started</th><th>Took</th><th style="width:30%">When</th><th>Attempts</th></tr></thead><tbody>
${run.steps.map((s) => stepRow(s, attempts.get(s.stepPath) ?? [], start, span, now, names, currency))}</tbody></table>`
}`;
}

function stepRow(s: StepRecord, attempts: AttemptRow[], start: number, span: number, now: number, names: StepNames, currency: string): SafeHtml {
  const from = Date.parse(s.startedAt);
  const to = s.finishedAt ? Date.parse(s.finishedAt) : now;
  const left = ((from - start) / span) * 100;
  const width = Math.max(0.5, ((to - from) / span) * 100);
  const depth = s.stepPath.split('/').length - 1;
  return html`<tr data-step="${s.stepPath}"><td style="padding-left:${0.6 + depth * 1.2}rem">${stepLabel(s.stepPath, names)} <span class="muted">${s.kind}</span></td>
<td>${badge(s.status, statusLabel(s.status))}${s.error ? html`<div class="error"><b>${errorLabel(s.error.code)}</b>: ${s.error.message}</div>` : ''}</td>
<td>+${formatDuration(from - start)}</td><td>${formatDuration(s.durationMs ?? to - from)}</td>
<td><div class="bar"><span class="${s.status}" style="left:${left.toFixed(2)}%;width:${Math.min(width, 100 - left).toFixed(2)}%"></span></div></td>
<td>${attempts.map((a) => attemptLine(a, currency))}</td></tr>`;
}

function attemptLine(a: AttemptRow, currency: string): SafeHtml {
  const took = a.latencyMs ?? (a.finishedAt ? Date.parse(a.finishedAt) - Date.parse(a.startedAt) : undefined);
  return html`<div data-attempt="${a.attempt}">#${a.attempt}${a.execution > 1 ? html` <span class="muted">(redrive ${a.execution - 1})</span>` : ''} ${badge(a.status, statusLabel(a.status))} ${formatDuration(took)}
${a.inputTokens + a.outputTokens > 0 ? html`<span class="muted">${formatCount(a.inputTokens + a.outputTokens)} tokens${a.cost === undefined ? '' : `, ${formatMoney(a.cost, currency)}`}</span>` : ''}
${a.throttledCalls > 0 ? html`<span class="muted">${a.throttledCalls} throttled</span>` : ''}
${a.error ? html`<div class="error">${a.error.code} (${a.error.errorClass}): ${a.error.message}</div>` : ''}
${a.retryDelayMs !== undefined ? html`<div class="muted">retried after ${formatDuration(a.retryDelayMs)}</div>` : ''}</div>`;
}

/** Model cost and tokens per section (map item), every attempt of every step in it. */
function sectionCosts(bySection: Record<string, UsageSummary>, names: StepNames, currency: string): SafeHtml {
  const sections = Object.entries(bySection).filter(([, u]) => u.modelCalls > 0);
  if (sections.length === 0) return html``;
  return html`<h2>Model cost by section</h2>
<table class="section-costs"><thead><tr><th>Section</th><th>Cost</th><th>Model use</th><th>Attempts</th></tr></thead><tbody>
${sections.map(
  ([section, u]) =>
    html`<tr data-section="${section}"><td>${stepLabel(section, names)}</td><td>${costWords(u, currency)}</td><td>${usageWords(u)}</td><td>${formatCount(u.attempts)}</td></tr>`,
)}</tbody></table>`;
}

function groupAttempts(attempts: AttemptRow[]): Map<string, AttemptRow[]> {
  const out = new Map<string, AttemptRow[]>();
  for (const a of attempts) out.set(a.stepPath, [...(out.get(a.stepPath) ?? []), a]);
  return out;
}
