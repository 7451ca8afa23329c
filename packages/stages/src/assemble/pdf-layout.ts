import { PDFDocument, PDFHexString, PDFName, PDFNumber, StandardFonts, rgb, type PDFFont, type PDFPage, type PDFRef, type RGB } from 'pdf-lib';

const PAGE: [number, number] = [595.28, 841.89]; // A4
const MARGIN = 56;

/** A text style: font face, size, colour. */
export interface TextStyle {
  face?: 'regular' | 'bold' | 'italic';
  size?: number;
  color?: RGB;
}

/**
 * A flowing page writer over pdf-lib: wraps text to the page width, breaks pages, numbers them,
 * and records bookmarks (the PDF outline) to where headings were written. Text uses the standard
 * Helvetica faces (no font files: the writer bundles into a Lambda as is); characters those faces
 * cannot encode are written as their closest ASCII form, or `?`.
 */
export class PdfWriter {
  private page!: PDFPage;
  private y = 0;
  private readonly bookmarks: { title: string; page: PDFRef; y: number }[] = [];

  private constructor(
    readonly doc: PDFDocument,
    private readonly fonts: Record<'regular' | 'bold' | 'italic', PDFFont>,
    private readonly encodable: Set<number>,
  ) {
    this.newPage();
  }

  /** A writer on a new document with its title and author set. */
  static async create(title: string, subject: string): Promise<PdfWriter> {
    const doc = await PDFDocument.create();
    doc.setTitle(title, { showInWindowTitleBar: true });
    doc.setSubject(subject);
    doc.setCreator('Baton');
    doc.setProducer('Baton (pdf-lib)');
    const fonts = {
      regular: doc.embedStandardFont(StandardFonts.Helvetica),
      bold: doc.embedStandardFont(StandardFonts.HelveticaBold),
      italic: doc.embedStandardFont(StandardFonts.HelveticaOblique),
    };
    return new PdfWriter(doc, fonts, new Set(fonts.regular.getCharacterSet()));
  }

  /** Width of the text column. */
  get width(): number {
    return PAGE[0] - 2 * MARGIN;
  }

  /** Starts a new page. */
  newPage(): void {
    this.page = this.doc.addPage(PAGE);
    this.y = PAGE[1] - MARGIN;
  }

  /** Moves down by `points`, breaking the page when less than `keep` points would remain. */
  space(points: number, keep = 0): void {
    this.y -= points;
    if (this.y - keep < MARGIN) this.newPage();
  }

  /** A heading: bold text and, if `bookmark`, an outline entry pointing at it. */
  heading(text: string, size: number, bookmark = true): void {
    this.space(size * 0.6, size * 3);
    if (bookmark) this.bookmarks.push({ title: this.clean(text), page: this.page.ref, y: this.y + size });
    this.text(text, { face: 'bold', size });
    this.space(size * 0.4);
  }

  /** Wrapped text in `style`, indented by `indent` points; `x`/`width` place it in a column. */
  text(text: string, style: TextStyle = {}, indent = 0): void {
    const size = style.size ?? 10.5;
    const font = this.fonts[style.face ?? 'regular'];
    const lineHeight = size * 1.35;
    for (const line of this.wrap(this.clean(text), font, size, this.width - indent)) {
      if (this.y - lineHeight < MARGIN) this.newPage();
      this.y -= lineHeight;
      this.page.drawText(line, { x: MARGIN + indent, y: this.y + size * 0.3, size, font, color: style.color ?? rgb(0, 0, 0) });
    }
  }

  /** A framed block of text (placeholders); one taller than a page is written unframed, so no text is lost. */
  box(lines: { text: string; style?: TextStyle }[], border: RGB, fill: RGB): void {
    const pad = 6;
    const size = 10.5;
    const wrapped = lines.map((l) => ({
      ...l,
      rows: this.wrap(this.clean(l.text), this.fonts[l.style?.face ?? 'regular'], l.style?.size ?? size, this.width - 2 * pad),
    }));
    const height = wrapped.reduce((h, l) => h + l.rows.length * (l.style?.size ?? size) * 1.35, 0) + 2 * pad;
    const fits = height < PAGE[1] - 2 * MARGIN;
    if (this.y - height < MARGIN && fits) this.newPage();
    if (fits) this.page.drawRectangle({ x: MARGIN, y: this.y - height, width: this.width, height, borderColor: border, borderWidth: 1.5, color: fill });
    this.y -= pad;
    for (const l of wrapped) this.text(l.text, l.style ?? {}, pad);
    this.y -= pad;
  }

  /** A table: a bold header row, then the rows, each cell wrapped in its column. */
  table(header: readonly string[], rows: readonly string[][], widths: readonly number[]): void {
    const size = 9;
    const total = widths.reduce((a, b) => a + b, 0);
    const cols = widths.map((w) => (w / total) * this.width);
    const lineHeight = size * 1.35;
    for (const [r, row] of [header, ...rows].entries()) {
      const font = r === 0 ? this.fonts.bold : this.fonts.regular;
      let cells = row.map((c, i) => this.wrap(this.clean(c), font, size, cols[i]! - 6));
      // a row taller than what is left of the page goes on over the next pages, line by line
      while (cells.some((c) => c.length > 0)) {
        const fit = Math.floor((this.y - MARGIN - 4) / lineHeight);
        const rest = Math.max(...cells.map((c) => c.length));
        if (fit < Math.min(rest, 2)) {
          this.newPage();
          continue;
        }
        const take = Math.min(fit, rest);
        const height = take * lineHeight + 4;
        let x = MARGIN;
        cells.forEach((lines, i) => {
          this.page.drawRectangle({ x, y: this.y - height, width: cols[i]!, height, borderColor: rgb(0.7, 0.7, 0.7), borderWidth: 0.5 });
          lines.slice(0, take).forEach((line, li) => this.page.drawText(line, { x: x + 3, y: this.y - 2 - (li + 1) * lineHeight + size * 0.3, size, font }));
          x += cols[i]!;
        });
        this.y -= height;
        cells = cells.map((c) => c.slice(take));
      }
    }
    this.space(6);
  }

  /** Writes the outline (bookmarks), page numbers in the footers, and returns the PDF bytes. */
  async finish(): Promise<Uint8Array> {
    const pages = this.doc.getPages();
    pages.forEach((p, i) =>
      p.drawText(`${i + 1} / ${pages.length}`, { x: PAGE[0] / 2 - 12, y: MARGIN / 2, size: 8, font: this.fonts.regular, color: rgb(0.4, 0.4, 0.4) }),
    );
    this.writeOutline();
    return this.doc.save();
  }

  private writeOutline(): void {
    if (this.bookmarks.length === 0) return;
    const ctx = this.doc.context;
    const root = ctx.nextRef();
    const refs = this.bookmarks.map(() => ctx.nextRef());
    this.bookmarks.forEach((b, i) => {
      const entry = ctx.obj({});
      entry.set(PDFName.of('Title'), PDFHexString.fromText(b.title));
      entry.set(PDFName.of('Parent'), root);
      entry.set(PDFName.of('Dest'), ctx.obj([b.page, PDFName.of('XYZ'), PDFNumber.of(0), PDFNumber.of(b.y), PDFNumber.of(0)]));
      if (i > 0) entry.set(PDFName.of('Prev'), refs[i - 1]!);
      if (i < refs.length - 1) entry.set(PDFName.of('Next'), refs[i + 1]!);
      ctx.assign(refs[i]!, entry);
    });
    const outlines = ctx.obj({});
    outlines.set(PDFName.of('Type'), PDFName.of('Outlines'));
    outlines.set(PDFName.of('First'), refs[0]!);
    outlines.set(PDFName.of('Last'), refs[refs.length - 1]!);
    outlines.set(PDFName.of('Count'), PDFNumber.of(refs.length));
    ctx.assign(root, outlines);
    this.doc.catalog.set(PDFName.of('Outlines'), root);
    this.doc.catalog.set(PDFName.of('PageMode'), PDFName.of('UseOutlines'));
  }

  /** Text the standard faces can encode: known look-alikes replaced, controls as spaces, the rest `?`. */
  private clean(text: string): string {
    let out = '';
    for (const ch of text.normalize('NFC')) {
      const cp = ch.codePointAt(0)!;
      if ((this.encodable.has(cp) && cp >= 0x20) || ch === '\n') out += ch;
      else out += LOOKALIKES[ch] ?? (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || /\p{Cf}/u.test(ch) ? (/\s/.test(ch) ? ' ' : '') : '?');
    }
    return out;
  }

  private wrap(text: string, font: PDFFont, size: number, width: number): string[] {
    const lines: string[] = [];
    for (const para of text.split('\n')) {
      let line = '';
      for (const word of para.split(/ +/)) {
        const candidate = line ? `${line} ${word}` : word;
        if (font.widthOfTextAtSize(candidate, size) <= width) {
          line = candidate;
          continue;
        }
        if (line) lines.push(line);
        line = word;
        while (font.widthOfTextAtSize(line, size) > width && line.length > 1) {
          let cut = line.length - 1;
          while (cut > 1 && font.widthOfTextAtSize(line.slice(0, cut), size) > width) cut--;
          lines.push(line.slice(0, cut));
          line = line.slice(cut);
        }
      }
      lines.push(line);
    }
    return lines;
  }
}

const LOOKALIKES: Record<string, string> = {
  '≥': '>=',
  '≤': '<=',
  '−': '-',
  '‑': '-',
  '‐': '-',
  '≠': '!=',
  '→': '->',
  '←': '<-',
  '×': 'x',
  μ: 'µ',
  '≈': '~',
  '\u00a0': ' ',
  '\u2009': ' ',
  '\u202f': ' ',
};
