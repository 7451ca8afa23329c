import { describe, expect, it } from 'vitest';
import { bundleBatonWorkflow } from './bundle.js';

describe('bundleBatonWorkflow', () => {
  it('bundles the workflow with core interpreter modules only: no zod, no Node built-ins', { timeout: 120_000 }, async () => {
    const { code } = await bundleBatonWorkflow();
    const inline = /sourceMappingURL=data:application\/json;(?:charset=utf-8;)?base64,([A-Za-z0-9+/=]+)/.exec(code);
    expect(inline).not.toBeNull();
    const sources = (JSON.parse(Buffer.from(inline![1]!, 'base64').toString()) as { sources: string[] }).sources;
    const core = sources.filter((s) => s.includes('/packages/core/')).map((s) => s.replace(/^.*\/packages\/core\/(src|dist)\//, '').replace(/\.[jt]s$/, ''));
    // interpreter/index is a barrel: with core's sideEffects: false webpack binds its re-exports directly
    // engine: MAX_REVIEW_NOTE_CHARS; review-check: the decide validator's rule; scrub: error messages scrubbed of secrets
    expect(core.sort()).toEqual([
      'api-errors',
      'blob-ref',
      'catching',
      'engine',
      'errors',
      'interpreter/hash',
      'interpreter/interpret',
      'ir',
      'paths',
      'predicate',
      'retry',
      'review-check',
      'scrub',
    ]);
    expect(sources.some((s) => s.includes('/zod/'))).toBe(false);
    expect(code).not.toMatch(/require\(["']node:/);
  });
});
