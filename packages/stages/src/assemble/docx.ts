import {
  AlignmentType,
  BorderStyle,
  Document,
  HeadingLevel,
  Packer,
  PageBreak,
  Paragraph,
  ShadingType,
  Table,
  TableCell,
  TableOfContents,
  TableRow,
  TextRun,
  WidthType,
} from 'docx';
import { reviewLine } from './markdown.js';
import { acceptedText, placeholderText, type ReportModel } from './model.js';
import { revisedText, SIGN_OFF_COLUMNS, SIGN_OFF_HEADING, signOffRows, signOffSummary } from './sign-off.js';

/** Renders the report as DOCX (title page, table of contents, sections, sources) with the `docx` package. */
export async function renderDocx(r: ReportModel): Promise<Uint8Array> {
  const children: (Paragraph | Table | TableOfContents)[] = [
    new Paragraph({ text: r.title, heading: HeadingLevel.TITLE, alignment: AlignmentType.CENTER, spacing: { before: 2400 } }),
    new Paragraph({ alignment: AlignmentType.CENTER, children: [new TextRun({ text: r.subtitle, italics: true, size: 28 })] }),
    new Paragraph({ alignment: AlignmentType.CENTER, children: [new TextRun({ text: `Run ${r.runId}`, size: 20 })] }),
    new Paragraph({ alignment: AlignmentType.CENTER, children: [new TextRun({ text: `Review: ${reviewLine(r)}`, size: 20 })] }),
    new Paragraph({ children: [new PageBreak()] }),
    new Paragraph({ text: 'Table of Contents', heading: HeadingLevel.HEADING_1 }),
    new TableOfContents('Table of Contents', { hyperlink: true, headingStyleRange: '1-1' }),
    new Paragraph({ children: [new PageBreak()] }),
  ];
  r.sections.forEach((s, i) => {
    children.push(new Paragraph({ text: `${i + 1}. ${s.title}`, heading: HeadingLevel.HEADING_1 }));
    if (s.status !== 'ok') {
      children.push(
        new Paragraph({
          shading: { type: ShadingType.CLEAR, fill: s.status === 'held' ? 'FFF4CC' : 'FDE2E2', color: 'auto' },
          border: { top: red(), bottom: red(), left: red(), right: red() },
          children: [new TextRun({ text: placeholderText(s), bold: true, color: 'AA0000' })],
        }),
      );
      const accepted = acceptedText(s);
      if (accepted) children.push(new Paragraph({ children: [new TextRun({ text: accepted, italics: true })] }));
      return;
    }
    if (s.revisedInRound !== undefined)
      children.push(new Paragraph({ children: [new TextRun({ text: revisedText(s.revisedInRound), italics: true, color: '555555', size: 18 })] }));
    for (const p of s.content.paragraphs) {
      children.push(
        new Paragraph({
          children: [new TextRun(p.text + ' '), new TextRun({ text: p.citations.map((c) => `[${c}]`).join(' '), italics: true, color: '555555', size: 18 })],
        }),
      );
    }
    if (s.content.figures.length) children.push(figuresTable(s.content.figures));
    if (s.content.crossRefs.length)
      children.push(new Paragraph({ children: [new TextRun({ text: `See also: ${s.content.crossRefs.join(', ')}`, italics: true })] }));
  });
  children.push(new Paragraph({ text: 'Sources', heading: HeadingLevel.HEADING_1 }));
  for (const s of r.sources) {
    children.push(
      new Paragraph({
        bullet: { level: 0 },
        children: [new TextRun({ text: s.docId, bold: true }), new TextRun(`: ${s.title} (${s.name}, ${s.paragraphs} paragraphs)`)],
      }),
    );
  }
  for (const rej of r.rejectedSources) {
    children.push(new Paragraph({ bullet: { level: 0 }, children: [new TextRun({ text: `REJECTED (${rej.code}): ${rej.message}`, color: 'AA0000' })] }));
  }
  if (r.signOff) {
    children.push(new Paragraph({ children: [new PageBreak()] }), new Paragraph({ text: SIGN_OFF_HEADING, heading: HeadingLevel.HEADING_1 }));
    for (const line of signOffSummary(r.signOff)) children.push(new Paragraph({ children: [new TextRun(line)] }));
    children.push(textTable([...SIGN_OFF_COLUMNS], signOffRows(r)));
  }
  const doc = new Document({
    title: r.title,
    creator: 'Baton',
    description: r.subtitle,
    features: { updateFields: true },
    sections: [{ children }],
  });
  return new Uint8Array(await Packer.toBuffer(doc));
}

function figuresTable(figures: { label: string; value: number; unit: string; citation: string }[]): Table {
  return textTable(
    ['Measure', 'Value', 'Unit', 'Source'],
    figures.map((f) => [f.label, String(f.value), f.unit, `[${f.citation}]`]),
  );
}

function textTable(header: string[], rows: string[][]): Table {
  const row = (cells: string[], bold = false): TableRow =>
    new TableRow({ children: cells.map((c) => new TableCell({ children: [new Paragraph({ children: [new TextRun({ text: c, bold })] })] })) });
  return new Table({ width: { size: 100, type: WidthType.PERCENTAGE }, rows: [row(header, true), ...rows.map((r) => row(r))] });
}

function red(): { style: (typeof BorderStyle)[keyof typeof BorderStyle]; size: number; color: string } {
  return { style: BorderStyle.SINGLE, size: 12, color: 'AA0000' };
}
