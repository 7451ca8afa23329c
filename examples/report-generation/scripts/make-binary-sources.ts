/**
 * Writes the binary sample sources: `safety-summary.docx` (with the `docx` package) and
 * `investigator-brochure.pdf` (a small hand-built PDF 1.4 with Helvetica text, no dependency).
 * Run: npm run make-sources -w @baton/example-report
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow, TextRun } from 'docx';

const dir = join(import.meta.dirname, '..', 'sources');

const safety: [string, string[]][] = [
  [
    'Overview of Adverse Events',
    [
      'Treatment-emergent adverse events were reported in 38.0% of participants with baltenolol 10 mg, 41.3% with baltenolol 20 mg and 35.5% with placebo. Most adverse events were mild or moderate in intensity.',
      'Serious adverse events occurred in 1.4% of participants with 10 mg, 2.1% with 20 mg and 1.4% with placebo. No serious adverse event was considered related to study drug by the investigator. There were no deaths.',
    ],
  ],
  [
    'Common Adverse Events',
    [
      'The most common adverse events with baltenolol were headache (7.0% with 10 mg, 8.4% with 20 mg, 6.4% with placebo), dizziness (4.2%, 6.3% and 2.1%) and fatigue (3.5%, 4.9% and 2.8%).',
      'Bradycardia was reported in 0.7% of participants with 10 mg and 2.8% with 20 mg, and in no participant with placebo. All cases were asymptomatic and resolved without treatment.',
    ],
  ],
  [
    'Discontinuations',
    [
      'Adverse events led to discontinuation of study drug in 2.1% of participants with 10 mg, 3.5% with 20 mg and 1.4% with placebo. The most frequent reason was dizziness.',
    ],
  ],
  [
    'Laboratory Findings and Vital Signs',
    [
      'No clinically relevant changes in serum potassium, creatinine or liver enzymes were observed. Mean resting heart rate decreased by 4.1 beats per minute with 20 mg and 2.6 beats per minute with 10 mg.',
      'Orthostatic hypotension was reported in 1.4% of participants with 20 mg and in 0.7% with placebo. The safety profile supports further development at both doses.',
    ],
  ],
];

async function makeDocx(): Promise<void> {
  const children: (Paragraph | Table)[] = [new Paragraph({ text: 'Safety Summary BTN-101', heading: HeadingLevel.TITLE })];
  for (const [heading, paragraphs] of safety) {
    children.push(new Paragraph({ text: heading, heading: HeadingLevel.HEADING_1 }));
    for (const p of paragraphs) children.push(new Paragraph({ children: [new TextRun(p)] }));
  }
  const row = (cells: string[]): TableRow => new TableRow({ children: cells.map((c) => new TableCell({ children: [new Paragraph(c)] })) });
  children.push(new Paragraph({ text: 'Adverse Events Table', heading: HeadingLevel.HEADING_1 }));
  children.push(
    new Table({
      rows: [
        row(['Adverse event', 'Baltenolol 10 mg', 'Baltenolol 20 mg', 'Placebo']),
        row(['Any adverse event', '38.0%', '41.3%', '35.5%']),
        row(['Serious adverse event', '1.4%', '2.1%', '1.4%']),
        row(['Headache', '7.0%', '8.4%', '6.4%']),
        row(['Dizziness', '4.2%', '6.3%', '2.1%']),
      ],
    }),
  );
  const doc = new Document({ creator: 'Baton examples', title: 'Safety Summary BTN-101', sections: [{ children }] });
  writeFileSync(join(dir, 'safety-summary.docx'), await Packer.toBuffer(doc));
}

const brochure = [
  'Investigator Brochure: Baltenolol',
  'Background. Essential hypertension affects more than one billion adults worldwide and is the leading modifiable risk factor for stroke, myocardial infarction and chronic kidney disease. Fewer than half of treated patients reach their blood pressure target.',
  'Mechanism of action. Baltenolol is a selective beta-1 adrenergic receptor blocker with additional vasodilating activity through nitric oxide release. The dual mechanism is expected to lower blood pressure with less reflex tachycardia and fatigue than older beta blockers.',
  'Nonclinical data. In spontaneously hypertensive rats, baltenolol lowered systolic blood pressure in a dose-dependent manner. Repeat-dose toxicity studies of up to 26 weeks showed no target organ toxicity at exposures above the expected clinical exposure.',
  'Clinical pharmacology. In phase 1 studies in 96 healthy volunteers, baltenolol was absorbed with a time to peak concentration of 2 to 3 hours and a half-life of about 22 hours, supporting once-daily dosing. Food did not affect exposure.',
  'Rationale for the product. A once-daily agent that combines beta-1 blockade with vasodilation could improve blood pressure control and adherence in patients who do not reach their target on current therapy. The doses of 10 mg and 20 mg were selected from the phase 1 exposure-response data.',
  'Known risks. Expected risks based on the mechanism include bradycardia, dizziness, fatigue and hypotension. Participants with heart block, severe asthma or decompensated heart failure must not receive the product.',
];

function makePdf(): void {
  const lines: { text: string; gap: number }[] = [];
  for (const para of brochure) {
    const words = para.split(' ');
    let line = '';
    let first = true;
    for (const w of words) {
      if ((line + ' ' + w).trim().length > 88) {
        lines.push({ text: line.trim(), gap: first ? 26 : 14 });
        first = false;
        line = '';
      }
      line += ' ' + w;
    }
    lines.push({ text: line.trim(), gap: first ? 26 : 14 });
  }
  const esc = (s: string): string => s.replace(/[\\()]/g, (c) => '\\' + c);
  const ops = ['BT', '/F1 11 Tf', '50 790 Td'];
  lines.forEach((l, i) => ops.push(`${i === 0 ? '' : `0 -${l.gap} Td `}(${esc(l.text)}) Tj`));
  ops.push('ET');
  const stream = ops.join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`,
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  writeFileSync(join(dir, 'investigator-brochure.pdf'), Buffer.from(pdf, 'latin1'));
}

await makeDocx();
makePdf();
console.log(`wrote ${join(dir, 'safety-summary.docx')} and ${join(dir, 'investigator-brochure.pdf')}`);
