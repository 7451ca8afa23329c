import { describe, expect, it } from 'vitest';
import type { AnyStage } from '@baton/core';
import * as stages from './index.js';

describe('usesModel', () => {
  it('marks exactly the stages that call ctx.model (generate, and repair through callModel): deployments give only their functions a model client', () => {
    const all = Object.values(stages).filter((v): v is AnyStage => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'baton.stage');
    expect(all.length).toBeGreaterThanOrEqual(7);
    expect(
      all
        .filter((s) => s.usesModel)
        .map((s) => s.name)
        .sort(),
    ).toEqual(['generate', 'repair']);
  });
});
