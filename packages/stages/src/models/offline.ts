import { StageError, type ModelClient, type ModelRequest, type ModelResponse } from '@baton/core';
import { hashString } from '@baton/core/engine';

/** Faults the offline model injects, so retries, repair and the safety path can be demonstrated. */
export interface OfflineFaults {
  /** Seed of the deterministic draws behind the rates. @default 'baton' */
  seed?: string;
  /** Probability that a generate call throttles (drawn per section and attempt). @default 0 */
  throttleRate?: number;
  /** Probability that a section's first answer is not valid JSON (repair fixes it). @default 0 */
  invalidJsonRate?: number;
  /** Sections whose first attempt throttles once. */
  throttleSections?: string[];
  /** Sections whose first answer breaks a rule (cites a paragraph that does not exist); repair fixes it. */
  invalidSections?: string[];
  /** Sections whose every answer breaks a rule: repair cannot fix them and they end as placeholders. */
  persistentInvalidSections?: string[];
  /** Sections whose answer goes off-script (matches the safety denylist). */
  offScriptSections?: string[];
  /** Sections whose repair-round answers go off-script (the first answer is as other faults make it): the safety check holds every round. */
  offScriptRepairSections?: string[];
}

/** Options of {@link createOfflineModel}. */
export interface OfflineModelOptions {
  faults?: OfflineFaults;
  /** Simulated latency of each call. @default 0 */
  latencyMs?: number;
}

const OFF_SCRIPT = 'As an AI language model, I cannot verify these figures, so here is what I would guess instead.';
const FIGURE = /(-?\d+(?:\.\d+)?)\s?(%|mmHg|years)/g;

/**
 * The offline model: NOT a language model. A deterministic, extractive stand-in that needs no
 * network: it reads the `[doc#pN] text` excerpts in the prompt and builds a schema-valid section
 * from them (sentences quoted with their citations, figures with units taken from the text).
 * It exists so the whole pipeline runs on a laptop and in CI, and so faults can be injected on
 * purpose (throttling, invalid JSON, rule violations, off-script output) to exercise retries,
 * repair and the human-review path. It reads `metadata.sectionId`, `purpose`, `attempt` and `round`.
 *
 * @example
 * ```ts
 * const model = createOfflineModel({ faults: { throttleSections: ['synopsis'], invalidSections: ['objectives'] } });
 * ```
 */
export function createOfflineModel(options: OfflineModelOptions = {}): ModelClient & { readonly calls: ModelRequest[] } {
  const faults = options.faults ?? {};
  const seed = faults.seed ?? 'baton';
  const draw = (key: string): number => (hashString(`${seed}/${key}`) >>> 0) / 0x1_0000_0000;
  const calls: ModelRequest[] = [];
  return {
    modelId: 'baton-offline-extractive-v1',
    calls,
    async complete(request: ModelRequest): Promise<ModelResponse> {
      calls.push(request);
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      const meta = request.metadata ?? {};
      const sectionId = typeof meta.sectionId === 'string' ? meta.sectionId : 'section';
      const attempt = typeof meta.attempt === 'number' ? meta.attempt : 1;
      const purpose = meta.purpose === 'repair' ? 'repair' : 'generate';
      if (purpose === 'generate') {
        const throttled =
          (faults.throttleSections?.includes(sectionId) && attempt === 1) || draw(`throttle/${sectionId}/${attempt}`) < (faults.throttleRate ?? 0);
        if (throttled) throw new StageError('ThrottlingException', `offline model: injected throttling for section "${sectionId}" (attempt ${attempt})`);
      }
      const prompt = request.messages.map((m) => m.content).join('\n');
      const section = buildSection(prompt, request.jsonSchema);
      const repairing = purpose === 'repair' && /You made these mistakes:/.test(prompt);
      if (repairing) {
        // Honest repair: drop exactly the figures the validator named.
        const bad = new Set([...prompt.matchAll(/^- figures\.(\d+):/gm)].map((m) => Number(m[1])));
        section.figures = section.figures.filter((_, i) => !bad.has(i));
      }
      let text: string;
      if (faults.offScriptSections?.includes(sectionId) || (repairing && faults.offScriptRepairSections?.includes(sectionId))) {
        section.paragraphs.unshift({ text: OFF_SCRIPT, citations: section.paragraphs[0]?.citations ?? [] });
        text = JSON.stringify(section);
      } else if (faults.persistentInvalidSections?.includes(sectionId) || (!repairing && faults.invalidSections?.includes(sectionId))) {
        section.paragraphs[0]?.citations.push('unknown-source#p999');
        text = JSON.stringify(section);
      } else if (!repairing && draw(`invalid/${sectionId}`) < (faults.invalidJsonRate ?? 0)) {
        text = JSON.stringify(section).slice(0, 80);
      } else {
        text = JSON.stringify(section);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const response: ModelResponse = {
        text,
        usage: { inputTokens: Math.ceil(((request.system ?? '').length + prompt.length) / 4), outputTokens: Math.ceil(text.length / 4) },
        latencyMs: options.latencyMs ?? 0,
        modelId: 'baton-offline-extractive-v1',
      };
      if (json !== undefined && request.jsonSchema) response.json = json;
      return response;
    },
  };
}

interface BuiltSection {
  title: string;
  paragraphs: { text: string; citations: string[] }[];
  figures: { label: string; value: number; unit: string; citation: string }[];
  crossRefs: string[];
}

/** Builds an extractive section from the excerpts of a prompt. */
function buildSection(prompt: string, schema: Record<string, unknown> | undefined): BuiltSection {
  const title = /section "([^"]+)"/.exec(prompt)?.[1] ?? 'Section';
  const excerpts = [...prompt.matchAll(/^\[([\w.-]+#p\d+)\] (.+)$/gm)].map((m) => ({ id: m[1]!, text: m[2]! }));
  const paragraphs: BuiltSection['paragraphs'] = [];
  for (let i = 0; i < excerpts.length && paragraphs.length < 3; i += 2) {
    const group = excerpts.slice(i, i + 2);
    paragraphs.push({ text: group.map((e) => firstSentences(e.text)).join(' '), citations: group.map((e) => e.id) });
  }
  if (paragraphs.length === 0) paragraphs.push({ text: `No source excerpts were available for ${title}.`, citations: ['none#p0'] });
  const figures: BuiltSection['figures'] = [];
  for (const e of excerpts) {
    for (const m of e.text.matchAll(FIGURE)) {
      if (figures.length >= 6) break;
      if (/^\s*(confidence|CI)\b/i.test(e.text.slice(m.index + m[0].length))) continue;
      const before =
        e.text
          .slice(0, m.index)
          .split(/(?<!\d)[.;:(,](?!\d)/)
          .pop() ?? '';
      const after = e.text.slice(m.index + m[0].length).split(/[.;,(]/)[0] ?? '';
      const label =
        before
          .trim()
          .split(/\s+/)
          .slice(-6)
          .join(' ')
          .replace(/^(and|or|with|was|of)\s+/i, '')
          .replace(/[,|]+$/, '')
          .trim() ||
        after.trim().split(/\s+/).slice(0, 6).join(' ') ||
        'value';
      figures.push({ label, value: Number(m[1]), unit: m[2]!, citation: e.id });
    }
  }
  const others = /which you may cross-reference by id: (.+)\./.exec(prompt)?.[1] ?? '';
  const wantsRefs = /cross-reference the results/i.test(prompt);
  const crossRefs = wantsRefs ? [...others.matchAll(/([a-z][a-z0-9-]*-results) \(/g)].map((m) => m[1]!) : [];
  const props = (schema?.properties ?? {}) as Record<string, { minItems?: number }>;
  return { title, paragraphs, figures: props.figures?.minItems === 0 ? [] : figures, crossRefs };
}

function firstSentences(text: string): string {
  const sentences = text.split(/(?<=[.!?])\s+(?=[A-Z])/);
  return sentences.slice(0, 2).join(' ').trim();
}
