import { rgb } from 'pdf-lib';
import { reviewLine } from './markdown.js';
import { acceptedText, placeholderText, type ReportModel } from './model.js';
import { PdfWriter } from './pdf-layout.js';
import { revisedText, SIGN_OFF_COLUMNS, SIGN_OFF_HEADING, signOffRows, signOffSummary } from './sign-off.js';

const RED = rgb(0.67, 0, 0);
const GREY = rgb(0.33, 0.33, 0.33);

/**
 * Renders the report as PDF from the same model as the DOCX: title page, contents, sections
 * (citations, figure tables, placeholders with their acceptance marker), sources and the sign-off
 * page, each section, the sources and the sign-off bookmarked in the PDF outline.
 */
export async function renderPdf(r: ReportModel): Promise<Uint8Array> {
  const w = await PdfWriter.create(r.title, r.subtitle);
  w.space(180);
  w.text(r.title, { face: 'bold', size: 24 });
  w.space(8);
  w.text(r.subtitle, { face: 'italic', size: 14 });
  w.space(16);
  w.text(`Run ${r.runId}`, { size: 10 });
  w.text(`Review: ${reviewLine(r)}`, { size: 10 });
  w.newPage();
  w.heading('Contents', 16, false);
  r.sections.forEach((s, i) => w.text(`${i + 1}. ${s.title}${s.status === 'ok' ? '' : ' (placeholder)'}`));
  w.text(`${r.sections.length + 1}. Sources`);
  if (r.signOff) w.text(`${r.sections.length + 2}. ${SIGN_OFF_HEADING}`);
  w.newPage();
  r.sections.forEach((s, i) => {
    w.heading(`${i + 1}. ${s.title}`, 15);
    if (s.status !== 'ok') {
      const accepted = acceptedText(s);
      const fill = s.status === 'held' ? rgb(1, 0.96, 0.8) : rgb(0.99, 0.89, 0.89);
      w.box(
        [{ text: placeholderText(s), style: { face: 'bold', color: RED } }, ...(accepted ? [{ text: accepted, style: { face: 'italic' as const } }] : [])],
        RED,
        fill,
      );
      w.space(8);
      return;
    }
    if (s.revisedInRound !== undefined) w.text(revisedText(s.revisedInRound), { face: 'italic', size: 9, color: GREY });
    for (const p of s.content.paragraphs) {
      w.text(`${p.text} ${p.citations.map((c) => `[${c}]`).join(' ')}`);
      w.space(5);
    }
    if (s.content.figures.length)
      w.table(
        ['Measure', 'Value', 'Unit', 'Source'],
        s.content.figures.map((f) => [f.label, String(f.value), f.unit, `[${f.citation}]`]),
        [4, 1.2, 1, 2.4],
      );
    if (s.content.crossRefs.length) w.text(`See also: ${s.content.crossRefs.join(', ')}`, { face: 'italic' });
    w.space(10);
  });
  w.newPage();
  w.heading('Sources', 15);
  for (const s of r.sources) w.text(`- ${s.docId}: ${s.title} (${s.name}, ${s.paragraphs} paragraphs)`);
  for (const rej of r.rejectedSources) w.text(`- REJECTED (${rej.code}): ${rej.message}`, { color: RED });
  if (r.signOff) {
    w.newPage();
    w.heading(SIGN_OFF_HEADING, 15);
    for (const line of signOffSummary(r.signOff)) w.text(line);
    w.space(8);
    w.table([...SIGN_OFF_COLUMNS], signOffRows(r), [2.8, 2.6, 1.4, 1.1, 2.2, 2.6]);
  }
  return w.finish();
}
