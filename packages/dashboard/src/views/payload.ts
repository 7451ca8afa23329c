import { isBlobRef } from '@baton/core';
import { html, type SafeHtml } from '../html.js';

const MAX_DEPTH = 8;

/**
 * Renders review payloads as readable structure rather than JSON: objects as labelled fields,
 * arrays as numbered cards (one per section), long text as paragraphs. Everything is escaped.
 */
export function renderPayload(value: unknown, depth = 0): SafeHtml {
  if (value === null || value === undefined) return html`<span class="muted">(empty)</span>`;
  if (depth > MAX_DEPTH) return html`<code>${JSON.stringify(value)}</code>`;
  if (isBlobRef(value)) return html`<span class="muted">Stored document ${value.$blob} (${value.bytes} bytes)</span>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return html`<span class="muted">(none)</span>`;
    return html`<ol class="data">${value.map((v) => html`<li>${renderPayload(unwrapResult(v), depth + 1)}</li>`)}</ol>`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return html`<span class="muted">(empty)</span>`;
    return html`<dl class="data">${entries.map(([k, v]) => html`<dt>${humanize(k)}</dt><dd>${renderPayload(v, depth + 1)}</dd>`)}</dl>`;
  }
  if (typeof value === 'boolean') return html`${value ? 'yes' : 'no'}`;
  return html`${String(value)}`;
}

// map results are `{ status, output }`: show a failed item plainly, a succeeded one as its output
function unwrapResult(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const r = v as { status?: unknown; output?: unknown; error?: { code?: string; message?: string } };
  if (r.status === 'succeeded' && 'output' in r && Object.keys(r).length === 2) return r.output;
  if (r.status === 'failed' && r.error) return { 'Not produced': `${r.error.code ?? ''}: ${r.error.message ?? ''}` };
  return v;
}

function humanize(key: string): string {
  const words = key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim();
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}
