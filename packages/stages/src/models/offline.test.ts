import { isStageError } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { NarrativeSection } from '../template/types.js';
import { createOfflineModel } from './offline.js';

const prompt = `You are writing the section "Synopsis" of the report "R".
Other sections of the report, which you may cross-reference by id: synopsis (Synopsis), efficacy-results (Efficacy Results).

Source excerpts:
[protocol#p1] The study randomised 426 participants. Of these, 47.2% were female.
[results#p3] Systolic blood pressure fell by -14.6 mmHg with 20 mg. The effect was consistent.
`;
const req = (meta: Record<string, unknown>, content = prompt) => ({
  messages: [{ role: 'user' as const, content }],
  jsonSchema: {},
  metadata: { sectionId: 'synopsis', ...meta },
});

describe('offline model (deterministic extractive stand-in, not a language model)', () => {
  it('builds a schema-valid section citing the excerpts it quotes, with figures from the text', async () => {
    const res = await createOfflineModel().complete(req({ purpose: 'generate', attempt: 1 }));
    const section = NarrativeSection.parse(res.json);
    expect(section.title).toBe('Synopsis');
    expect(section.paragraphs[0]!.citations).toEqual(['protocol#p1', 'results#p3']);
    expect(section.figures).toEqual([
      expect.objectContaining({ value: 47.2, unit: '%', citation: 'protocol#p1' }),
      expect.objectContaining({ value: -14.6, unit: 'mmHg', citation: 'results#p3' }),
    ]);
    expect(res.usage.inputTokens).toBeGreaterThan(0);
    const again = await createOfflineModel().complete(req({ purpose: 'generate', attempt: 1 }));
    expect(again.text).toBe(res.text);
  });

  it('throttles a named section on its first attempt only', async () => {
    const m = createOfflineModel({ faults: { throttleSections: ['synopsis'] } });
    const e = await m.complete(req({ purpose: 'generate', attempt: 1 })).catch((x: unknown) => x);
    expect(isStageError(e) && e.code).toBe('ThrottlingException');
    await expect(m.complete(req({ purpose: 'generate', attempt: 2 }))).resolves.toBeDefined();
  });

  it('draws throttling and invalid JSON deterministically from rates', async () => {
    const outcomes = async (seed: string) => {
      const m = createOfflineModel({ faults: { seed, throttleRate: 0.5, invalidJsonRate: 0.5 } });
      const out: string[] = [];
      for (let i = 0; i < 20; i++) {
        const r = await m.complete(req({ sectionId: `s${i}`, purpose: 'generate', attempt: 1 })).then(
          (x) => (x.json === undefined ? 'invalid' : 'ok'),
          () => 'throttled',
        );
        out.push(r);
      }
      return out;
    };
    const a = await outcomes('x');
    expect(await outcomes('x')).toEqual(a);
    expect(a).toContain('throttled');
    expect(a).toContain('invalid');
    expect(a).toContain('ok');
  });

  it('breaks a rule for invalid sections until a repair prompt lists the mistakes', async () => {
    const m = createOfflineModel({ faults: { invalidSections: ['synopsis'] } });
    const first = NarrativeSection.parse((await m.complete(req({ purpose: 'generate', attempt: 1 }))).json);
    expect(first.paragraphs[0]!.citations).toContain('unknown-source#p999');
    const repaired = NarrativeSection.parse((await m.complete(req({ purpose: 'repair', round: 1 }, prompt + '\nYou made these mistakes:\n- x'))).json);
    expect(repaired.paragraphs[0]!.citations).not.toContain('unknown-source#p999');
  });

  it('goes off-script for named sections, even when repairing', async () => {
    const m = createOfflineModel({ faults: { offScriptSections: ['synopsis'] } });
    expect((await m.complete(req({ purpose: 'generate', attempt: 1 }))).text).toMatch(/As an AI language model/);
  });
});
