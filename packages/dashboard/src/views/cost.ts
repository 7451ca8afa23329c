import type { UsageReport, UsageSummary } from '@baton/registry';
import { formatCount, formatDuration, formatMoney } from '../format.js';
import { html, type SafeHtml } from '../html.js';

/** What the page says where a cost would be when the engine had no price table. */
export const NO_PRICES = 'no prices configured';

/**
 * A recorded cost in words: "$0.0042"; when nothing was priced (never "$0"), "no model calls" or
 * {@link NO_PRICES}.
 */
export function costWords(u: Pick<UsageSummary, 'cost' | 'modelCalls'>, currency: string): string {
  if (u.cost !== undefined) return formatMoney(u.cost, currency);
  return u.modelCalls === 0 ? 'no model calls' : NO_PRICES;
}

/** "1,240 tokens (1,000 in / 240 out), 4 calls, 1 throttled": a usage line. */
export function usageWords(u: Pick<UsageSummary, 'inputTokens' | 'outputTokens' | 'modelCalls' | 'throttledCalls'>): string {
  const throttled = u.throttledCalls > 0 ? `, ${formatCount(u.throttledCalls)} throttled` : '';
  return `${formatCount(u.inputTokens + u.outputTokens)} tokens (${formatCount(u.inputTokens)} in / ${formatCount(u.outputTokens)} out), ${formatCount(u.modelCalls)} ${u.modelCalls === 1 ? 'call' : 'calls'}${throttled}`;
}

/**
 * This week's model cost, for the runs list: "$1.24 this week" and "report: $1.10, digest: $0.14"
 * (pipelines without prices say so).
 */
export function weekCostCard(week: UsageReport, currency: string): SafeHtml {
  if (week.total.attempts === 0)
    return html`<div class="card" data-week-cost><b>${formatMoney(0, currency)}</b>model cost this week <span class="muted">(no model calls yet)</span></div>`;
  const byPipeline = week.pipelines.map((p) => `${p.pipeline}: ${costWords(p, currency)}`).join(', ');
  return html`<div class="card" data-week-cost><b>${costWords(week.total, currency)}</b>model cost this week
<div class="muted" data-by-pipeline>${byPipeline}</div><div class="muted">${usageWords(week.total)}</div></div>`;
}

/**
 * The run page's cost card: the run's cost (or that no prices are configured), tokens, estimates,
 * throttles and budget wait. `flat` is a cost at the dashboard's flat `pricing`, shown only for a
 * run recorded without prices.
 */
export function runCostCard(u: UsageSummary, currency: string, unpriced: readonly string[], flat?: number): SafeHtml {
  const estimated = u.estimatedInputTokens + u.estimatedOutputTokens;
  const words = u.cost === undefined && flat !== undefined ? `≈ ${formatMoney(flat, currency)} at the dashboard's flat price` : costWords(u, currency);
  return html`<div class="card" data-run-cost><span class="muted">Model cost</span><b>${words}</b>
<span class="muted">${usageWords(u)}${estimated > 0 ? `; ${formatCount(estimated)} estimated` : ''}${u.budgetWaitMs > 0 ? `; waited ${formatDuration(u.budgetWaitMs)} for budget` : ''}</span>
${unpriced.length > 0 ? html`<div class="muted">No price for ${unpriced.join(', ')}</div>` : ''}</div>`;
}
