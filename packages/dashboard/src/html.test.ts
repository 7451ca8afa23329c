import { describe, expect, it } from 'vitest';
import { formatDuration, stepLabel } from './format.js';
import { escapeHtml, html, raw } from './html.js';
import { renderPayload } from './views/payload.js';

describe('html', () => {
  it('escapes every interpolated value, in text and attributes', () => {
    const evil = `"><script>alert('x')</script>&`;
    expect(html`<a title="${evil}">${evil}</a>`.value).toBe(
      '<a title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</a>',
    );
  });

  it('nests safe fragments without escaping them twice, joins arrays, drops empty values', () => {
    const items = ['<1>', '2'].map((v) => html`<li>${v}</li>`);
    expect(html`<ul>${items}${null}${undefined}${false}</ul>`.value).toBe('<ul><li>&lt;1&gt;</li><li>2</li></ul>');
    expect(html`${raw('<br>')}${'<br>'}`.value).toBe('<br>&lt;br&gt;');
    expect(escapeHtml('a&b')).toBe('a&amp;b');
  });
});

describe('payload rendering', () => {
  it('shows sections as readable fields, map results unwrapped, failed items named, all escaped', () => {
    const out = renderPayload({
      reportTitle: 'Q3 <draft>',
      sections: [
        { status: 'succeeded', output: { heading: 'Revenue', text: 'Up 4%' } },
        { status: 'failed', error: { code: 'SafetyCheckFailed', message: 'denylist <term>' } },
      ],
      final: false,
    }).value;
    expect(out).toContain('<dt>Report title</dt><dd>Q3 &lt;draft&gt;</dd>');
    expect(out).toContain('<dt>Heading</dt><dd>Revenue</dd>');
    expect(out).toContain('SafetyCheckFailed: denylist &lt;term&gt;');
    expect(out).toContain('<dd>no</dd>');
    expect(out).not.toContain('"status"');
  });

  it('names a claim-checked payload instead of dumping it', () => {
    expect(renderPayload({ $blob: 'fs://runs/r/x', bytes: 1234, sha256: 'ab' }).value).toContain('Stored document fs://runs/r/x (1234 bytes)');
  });
});

describe('formatting', () => {
  it('reads durations and step paths like a person would', () => {
    expect(formatDuration(450)).toBe('450 ms');
    expect(formatDuration(12_300)).toBe('12.3 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(3 * 3600_000 + 60_000)).toBe('3 h 1 min');
    expect(formatDuration(50 * 3600_000)).toBe('2 d 2 h');
    expect(stepLabel('sections[3]/write')).toBe('sections › item 4 › write');
    expect(stepLabel('repair@1/fix')).toBe('repair › round 2 › fix');
  });
});
