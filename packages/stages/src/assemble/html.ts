import { reviewLine } from './markdown.js';
import { acceptedText, placeholderText, type ReportModel } from './model.js';
import { revisedText, SIGN_OFF_COLUMNS, SIGN_OFF_HEADING, signOffRows, signOffSummary } from './sign-off.js';

/** Renders the report as a self-contained HTML page. */
export function renderHtml(r: ReportModel): string {
  const e = escapeHtml;
  const body: string[] = [
    `<header><h1>${e(r.title)}</h1><p class="sub">${e(r.subtitle)}</p><p>Run <code>${e(r.runId)}</code> · Review: ${e(reviewLine(r))}</p></header>`,
    '<nav><h2>Contents</h2><ol>',
    ...r.sections.map((s) => `<li><a href="#${e(s.sectionId)}">${e(s.title)}</a>${s.status === 'ok' ? '' : ' <strong>(placeholder)</strong>'}</li>`),
    '<li><a href="#sources">Sources</a></li>',
    ...(r.signOff ? [`<li><a href="#sign-off">${SIGN_OFF_HEADING}</a></li>`] : []),
    '</ol></nav>',
  ];
  r.sections.forEach((s, i) => {
    body.push(`<section id="${e(s.sectionId)}"><h2>${i + 1}. ${e(s.title)}</h2>`);
    if (s.status !== 'ok') {
      const accepted = acceptedText(s);
      body.push(`<div class="placeholder ${s.status}">${e(placeholderText(s))}${accepted ? `<p class="accepted">${e(accepted)}</p>` : ''}</div></section>`);
      return;
    }
    if (s.revisedInRound !== undefined) body.push(`<p class="revised">${e(revisedText(s.revisedInRound))}</p>`);
    for (const p of s.content.paragraphs) body.push(`<p>${e(p.text)} ${p.citations.map((c) => `<cite>[${e(c)}]</cite>`).join(' ')}</p>`);
    if (s.content.figures.length) {
      body.push('<table><thead><tr><th>Measure</th><th>Value</th><th>Unit</th><th>Source</th></tr></thead><tbody>');
      for (const f of s.content.figures)
        body.push(`<tr><td>${e(f.label)}</td><td>${f.value}</td><td>${e(f.unit)}</td><td><cite>[${e(f.citation)}]</cite></td></tr>`);
      body.push('</tbody></table>');
    }
    if (s.content.crossRefs.length) body.push(`<p class="xref">See also: ${s.content.crossRefs.map((c) => `<a href="#${e(c)}">${e(c)}</a>`).join(', ')}</p>`);
    body.push('</section>');
  });
  body.push('<section id="sources"><h2>Sources</h2><ul>');
  for (const s of r.sources) body.push(`<li><strong>${e(s.docId)}</strong>: ${e(s.title)} (<code>${e(s.name)}</code>, ${s.paragraphs} paragraphs)</li>`);
  for (const rej of r.rejectedSources) body.push(`<li class="rejected">REJECTED (${e(rej.code)}): ${e(rej.message)}</li>`);
  body.push('</ul></section>');
  if (r.signOff) {
    body.push(`<section id="sign-off"><h2>${SIGN_OFF_HEADING}</h2>`, ...signOffSummary(r.signOff).map((l) => `<p>${e(l)}</p>`));
    body.push(`<table><thead><tr>${SIGN_OFF_COLUMNS.map((c) => `<th>${c}</th>`).join('')}</tr></thead><tbody>`);
    for (const row of signOffRows(r)) body.push(`<tr>${row.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`);
    body.push('</tbody></table></section>');
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${e(r.title)}</title>
<style>body{font-family:Georgia,serif;max-width:52rem;margin:2rem auto;line-height:1.5}cite{color:#555;font-size:.85em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}.placeholder{border:2px solid #b00;background:#fee;padding:1rem;font-weight:bold}
.placeholder.held{border-color:#b80;background:#ffe}.rejected{color:#b00}.accepted{font-weight:normal;font-style:italic}.revised{color:#555;font-style:italic}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
