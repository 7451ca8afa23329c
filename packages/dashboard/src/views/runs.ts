import type { FailureCount, InFlightRun, ReviewRecord, RunFilter, RunRecord, UsageReport } from '@baton/registry';
import { errorLabel, formatCount, formatDuration, formatTime, statusLabel, stepLabel } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { costWords, weekCostCard } from './cost.js';
import { badge } from './layout.js';

const STATUSES = ['running', 'waiting', 'succeeded', 'failed'] as const;

/** What the runs list shows. */
export interface RunsView {
  runs: RunRecord[];
  inFlight: InFlightRun[];
  failures: FailureCount[];
  openReviews: number;
  /** Open reviews, to say who a waiting run waits for. */
  reviews?: ReviewRecord[];
  filter: RunFilter;
  /** Model usage and cost this week, by pipeline. */
  week?: UsageReport;
  /** The price table's currency. @default 'USD' */
  currency?: string;
  /** Known values for the filter menus. */
  pipelines: string[];
  engines: string[];
}

/** The runs list: headline numbers, filters, one row per run. */
export function runsBody(v: RunsView): SafeHtml {
  const flight = new Map(v.inFlight.map((r) => [r.runId, r]));
  const waiting = new Map((v.reviews ?? []).map((r) => [r.runId, r]));
  const failed = v.failures.reduce((n, f) => n + f.failedRuns, 0);
  const currency = v.currency ?? 'USD';
  return html`<h1>Pipeline runs</h1>
<div class="cards">
<div class="card"><b>${v.inFlight.filter((r) => r.status === 'running').length}</b>running now</div>
<div class="card"><b>${v.openReviews}</b><a href="/reviews">waiting for review</a></div>
<div class="card"><b>${failed}</b>failed runs this week</div>
${v.week ? weekCostCard(v.week, currency) : ''}
${v.failures.filter((f) => f.failedAttempts > 0).map((f) => html`<div class="card"><b>${f.failedAttempts}</b>${f.errorClass} failures this week</div>`)}
</div>
<form class="filters" method="get" action="/">
${select(
  'status',
  'Status',
  STATUSES.map((s) => [s, statusLabel(s)]),
  v.filter.status,
)}
${select(
  'pipeline',
  'Pipeline',
  v.pipelines.map((p) => [p, p]),
  v.filter.pipeline,
)}
${select(
  'engine',
  'Engine',
  v.engines.map((e) => [e, e]),
  v.filter.engine,
)}
<button type="submit">Filter</button> <a href="/">Clear</a></form>
${
  v.runs.length === 0
    ? html`<p class="muted">No runs match.</p>`
    : html`<table><thead><tr><th>Run</th><th>Report</th><th>Pipeline</th><th>Engine</th><th>Status</th><th>Where it is</th><th>For</th><th>Started</th><th>Model tokens</th><th>Model cost</th></tr></thead><tbody>
${v.runs.map((r) => {
  const f = flight.get(r.runId);
  const review = r.status === 'waiting' ? waiting.get(r.runId) : undefined;
  return html`<tr data-run="${r.runId}"><td><a href="/runs/${encodeURIComponent(r.runId)}">${r.runId}</a></td><td>${r.title ?? html`<span class="muted">${r.reportId ?? ''}</span>`}</td><td>${r.pipeline}</td><td>${r.engine}</td>
<td>${badge(r.status, statusLabel(r.status))}</td>
<td>${review ? html`Waiting for review by ${review.reviewer ?? r.reviewerId ?? 'anyone with the link'} since ${formatTime(review.createdAt)}` : r.currentStep ? html`${stepLabel(r.currentStep)}${f && f.runningSteps.length > 1 ? html` <span class="muted">(+${f.runningSteps.length - 1} more in flight)</span>` : ''}` : r.error ? html`<span class="error" title="${r.error.code}">${errorLabel(r.error.code)}</span> <span class="muted">(${r.error.errorClass})</span>` : ''}</td>
<td>${f ? formatDuration(f.timeInStateMs) : r.finishedAt ? formatDuration(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : ''}</td>
<td>${formatTime(r.startedAt)}</td><td>${formatCount(r.inputTokens + r.outputTokens)}</td><td>${r.modelCalls > 0 ? costWords(r, currency) : ''}</td></tr>`;
})}
</tbody></table>`
}`;
}

function select(name: string, label: string, options: [string, string][], current: string | undefined): SafeHtml {
  return html`<div><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}"><option value="">All</option>
${options.map(([value, text]) => html`<option value="${value}"${current === value ? html` selected` : ''}>${text}</option>`)}</select></div>`;
}
