import { definePipeline, defineStage } from '@baton/core';
import { App, Stack } from 'aws-cdk-lib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { deploymentFromContext } from '../cdk/context.js';
import { writeStepFunctionsApp } from './write.js';

const Text = z.object({ text: z.string() });
const draft = defineStage({ name: 'draft', version: 1, input: Text, output: Text, usesModel: true, run: async (i) => i });
const drafting = definePipeline({ name: 'drafting', version: 1, input: Text }).task('draft', draft, { resultPath: '$.draft' }).build();
const BUDGETS = JSON.stringify({ 'anthropic.claude-3-5-haiku-20241022-v1:0': { requestsPerMinute: 400 } });

describe('model budgets in a generated app', () => {
  it('writeStepFunctionsApp puts them in cdk.json and the budget retrier in the ASL it writes, as the construct deploys it', () => {
    const outDir = mkdtempSync(join(tmpdir(), 'baton-sfn-budgets-'));
    try {
      writeStepFunctionsApp(drafting, { outDir, pipelineModule: '@acme/drafting', exportName: 'drafting', modelBudgets: BUDGETS });
      expect(JSON.parse(readFileSync(join(outDir, 'cdk/cdk.json'), 'utf8'))).toMatchObject({ context: { modelBudgets: BUDGETS } });
      const asl = JSON.parse(readFileSync(join(outDir, 'drafting.asl.json'), 'utf8')) as { States: Record<string, { Retry: { ErrorEquals: string[] }[] }> };
      expect(asl.States.draft!.Retry.map((r) => r.ErrorEquals[0])).toContain('ModelBudgetUnavailable');
      writeStepFunctionsApp(drafting, { outDir, pipelineModule: '@acme/drafting', exportName: 'drafting' });
      const plain = JSON.parse(readFileSync(join(outDir, 'drafting.asl.json'), 'utf8')) as typeof asl;
      expect(plain.States.draft!.Retry.map((r) => r.ErrorEquals[0])).not.toContain('ModelBudgetUnavailable');
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });

  it('deploymentFromContext reads -c modelBudgets=<JSON>, and says how to write it when it is not JSON', () => {
    const stackWith = (context: Record<string, string>) => new Stack(new App({ context }), 'S');
    expect(deploymentFromContext(stackWith({ modelBudgets: BUDGETS })).modelBudgets).toEqual(JSON.parse(BUDGETS));
    expect(deploymentFromContext(stackWith({})).modelBudgets).toBeUndefined();
    expect(() => deploymentFromContext(stackWith({ modelBudgets: '{nope' }))).toThrow(/modelBudgets: not JSON .*-c modelBudgets=/);
  });

  it("deploymentFromContext reads -c modelPrices=<JSON> for the stages' cost, and says how to write it when it is not JSON", () => {
    const stackWith = (context: Record<string, string>) => new Stack(new App({ context }), 'S');
    const prices = '{"m":{"inputPer1M":0.8,"outputPer1M":4}}';
    expect(deploymentFromContext(stackWith({ modelPrices: prices })).modelPrices).toEqual(JSON.parse(prices));
    expect(deploymentFromContext(stackWith({})).modelPrices).toBeUndefined();
    expect(() => deploymentFromContext(stackWith({ modelPrices: '{nope' }))).toThrow(/modelPrices: not JSON .*-c modelPrices=/);
  });
});
