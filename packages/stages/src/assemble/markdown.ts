import { acceptedText, placeholderText, type ReportModel } from './model.js';
import { escapeMarkdown } from '../safety/escape.js';
import { revisedText, SIGN_OFF_COLUMNS, SIGN_OFF_HEADING, signOffRows, signOffSummary } from './sign-off.js';

/** Inline-escaped: model text, reviewer text and anything from the sources renders as written (see {@link escapeMarkdown}). */
const md = (text: string): string => escapeMarkdown(text, { lineStart: false });

/** Renders the report as Markdown: title block, contents, sections with citations, sources. */
export function renderMarkdown(r: ReportModel): string {
  const out: string[] = [`# ${md(r.title)}`, '', `*${md(r.subtitle)}*  `, `Run: \`${r.runId}\`  `, `Review: ${md(reviewLine(r))}`, '', '## Contents', ''];
  r.sections.forEach((s, i) => out.push(`${i + 1}. [${md(s.title)}](#${s.sectionId})${s.status === 'ok' ? '' : ' — **placeholder**'}`));
  out.push(`${r.sections.length + 1}. [Sources](#sources)`);
  if (r.signOff) out.push(`${r.sections.length + 2}. [${SIGN_OFF_HEADING}](#sign-off)`);
  out.push('');
  r.sections.forEach((s, i) => {
    out.push(`<a id="${s.sectionId}"></a>`, `## ${i + 1}. ${md(s.title)}`, '');
    if (s.status !== 'ok') {
      const accepted = acceptedText(s);
      out.push(`> **${md(placeholderText(s))}**`, ...(accepted ? ['>', `> *${md(accepted)}*`] : []), '');
      return;
    }
    if (s.revisedInRound !== undefined) out.push(`*${revisedText(s.revisedInRound)}*`, '');
    for (const p of s.content.paragraphs) out.push(`${escapeMarkdown(p.text)} ${p.citations.map((c) => `[${c}]`).join(' ')}`, '');
    if (s.content.figures.length) {
      out.push('| Measure | Value | Unit | Source |', '|---|---:|---|---|');
      for (const f of s.content.figures) out.push(`| ${md(f.label)} | ${f.value} | ${md(f.unit)} | [${f.citation}] |`);
      out.push('');
    }
    if (s.content.crossRefs.length) out.push(`See also: ${s.content.crossRefs.map((c) => `[${c}](#${c})`).join(', ')}`, '');
  });
  out.push('<a id="sources"></a>', '## Sources', '');
  for (const src of r.sources) out.push(`- **${md(src.docId)}**: ${md(src.title)} (\`${src.name.replace(/[`\r\n]/g, "'")}\`, ${src.paragraphs} paragraphs)`);
  for (const rej of r.rejectedSources) out.push(`- REJECTED (${md(rej.code)}): ${md(rej.message)}`);
  out.push('');
  if (r.signOff) {
    out.push('<a id="sign-off"></a>', `## ${SIGN_OFF_HEADING}`, '', ...signOffSummary(r.signOff).map((l) => `${md(l)}  `), '');
    out.push(`| ${SIGN_OFF_COLUMNS.join(' | ')} |`, `|${SIGN_OFF_COLUMNS.map(() => '---').join('|')}|`);
    for (const row of signOffRows(r)) out.push(`| ${row.map(md).join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}

/** One line describing the review decision. */
export function reviewLine(r: ReportModel): string {
  if (!r.review) return 'not reviewed';
  return `${r.review.approved ? 'approved' : 'rejected'}${r.review.reviewer ? ` by ${r.review.reviewer}` : ''}${r.review.comment ? ` (${r.review.comment})` : ''}`;
}
