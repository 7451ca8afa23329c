import { describe, expect, it } from 'vitest';
import { renderHtml } from '../assemble/html.js';
import { renderMarkdown } from '../assemble/markdown.js';
import type { ReportModel } from '../assemble/model.js';

const HOSTILE =
  'Blood pressure fell. ![x](https://evil.example/p.png?d=1) <img src=x onerror=alert(1)> [click](javascript:alert(1)) www.evil.example\n# Heading\n| a | b |';
const model = {
  title: 'Report <b>X</b>',
  subtitle: 'Clinical Study Report',
  runId: 'run-1',
  review: { approved: true, reviewer: 'eve*', comment: '![c](https://evil.example/c.png) <script>x</script>' },
  sections: [
    {
      sectionId: 'synopsis',
      title: 'Synopsis',
      status: 'ok',
      repairRounds: 0,
      content: {
        title: 'Synopsis',
        paragraphs: [{ text: HOSTILE, citations: ['doc#p1'] }],
        figures: [{ label: 'a | <i>b</i>', value: 1, unit: '%', citation: 'doc#p1' }],
        crossRefs: [],
      },
    },
    {
      sectionId: 'objectives',
      title: 'Objectives',
      status: 'failed',
      error: { code: 'ValidationFailed', message: 'citation "![y](https://evil.example/y.png)" is not a source' },
      accepted: { reviewer: 'eve', note: '<a href="https://evil.example">go</a>' },
    },
  ],
  sources: [{ docId: 'doc', name: 'doc.md', title: 'Doc', paragraphs: 1 }],
  rejectedSources: [],
} as unknown as ReportModel;

describe('report writers escape model and reviewer text', () => {
  it('Markdown: no image, link, autolink, HTML, heading or table row comes from model or reviewer text', () => {
    const md = renderMarkdown(model);
    expect(md).not.toMatch(/(?<!\\)!(?<!\\)\[/); // no image opener
    expect(md).not.toMatch(/(?<!\\)<(?:img|script|a href|b>|i>)/i); // no raw HTML (the writer's own anchors are <a id>)
    expect(md).not.toMatch(/(?<!\\)\]\((?:https?|javascript):/); // no inline link to an outside URL
    expect(md).not.toMatch(/https?:\/\//); // no autolink (escaped as `https\://`)
    expect(md).not.toMatch(/(?<!\\)www\./);
    expect(md).not.toMatch(/^# Heading/m);
    expect(md).not.toMatch(/^\| a \| b \|/m);
    expect(md).toContain('Blood pressure fell. \\!\\[x\\]');
    expect(md).toContain('| a \\| \\<i\\>b\\</i\\> | 1 | % | [doc#p1] |');
  });

  it('HTML: model and reviewer text is escaped', () => {
    const html = renderHtml(model);
    expect(html).not.toMatch(/<img|<script>x|<a href="https:\/\/evil|<i>b|<b>X/);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
