import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardApp } from './app.js';
import { formatMoney } from './format.js';
import { costWords } from './views/cost.js';
import { COST_PER_CALL, createCostFixture, type CostFixture } from './test-support/cost-fixture.js';

const TOKEN = 'dashboard-secret-0123456789';
let fx: CostFixture;
let app: ReturnType<typeof createDashboardApp>;
let reportRun: string;
let digestRun: string;

beforeAll(async () => {
  fx = await createCostFixture();
  app = createDashboardApp({ registry: fx.registry, engine: [fx.priced, fx.unpriced], token: TOKEN });
  reportRun = await fx.run('report');
  await fx.run('report', ['Revenue']);
  digestRun = await fx.run('digest');
});
afterAll(() => fx.close());

const text = async (path: string): Promise<string> => {
  const res = await app.fetch(new Request(`http://127.0.0.1${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }));
  expect(res.status).toBe(200);
  return (await res.text()).replace(/\s+/g, ' ');
};

describe('formatMoney', () => {
  it('writes amounts as a person reads them, in the given currency', () => {
    expect(formatMoney(1.2449)).toBe('$1.24');
    expect(formatMoney(1234.5)).toBe('$1,234.50');
    expect(formatMoney(0.0042)).toBe('$0.0042');
    expect(formatMoney(0.018)).toBe('$0.018');
    expect(formatMoney(0)).toBe('$0.00');
    expect(formatMoney(12.5, 'EUR')).toBe('€12.50');
  });

  it('says why there is no cost: no model calls, or no prices; a priced call that cost nothing is $0.00', () => {
    expect(costWords({ modelCalls: 0 }, 'USD')).toBe('no model calls');
    expect(costWords({ modelCalls: 2 }, 'USD')).toBe('no prices configured');
    expect(costWords({ modelCalls: 1, cost: 0 }, 'USD')).toBe('$0.00');
  });
});

describe('model cost on the dashboard', () => {
  it('records a priced run’s cost as the sum of its attempts’ costs, and the run page shows it, per section too', async () => {
    const run = (await fx.registry.getRun(reportRun))!;
    const truth = (await fx.priced.status(reportRun)).usage!;
    // three sections, one call each, plus the throttled call that cost nothing
    expect(run.cost).toBeGreaterThan(0);
    expect(run.cost).toBeCloseTo(3 * COST_PER_CALL, 12);
    expect(run.cost).toBeCloseTo(
      run.attempts.reduce((s, a) => s + (a.cost ?? 0), 0),
      12,
    );
    expect(run.cost).toBeCloseTo(truth.cost, 12);
    expect(run.usage.bySection['sections[1]']).toMatchObject({ attempts: 2, modelCalls: 2, throttledCalls: 1, inputTokens: 1000, outputTokens: 200 });

    const page = await text(`/runs/${reportRun}`);
    expect(page).toMatch(new RegExp(`data-run-cost><span class="muted">Model cost</span><b>\\$0\\.018</b>`));
    expect(page).toContain('3,600 tokens (3,000 in / 600 out), 4 calls, 1 throttled');
    expect(page).toContain('Model cost by section');
    expect(page).toMatch(
      /<tr data-section="sections\[1\]"><td>sections › item 2<\/td><td>\$0\.006<\/td><td>1,200 tokens \(1,000 in \/ 200 out\), 2 calls, 1 throttled<\/td><td>2<\/td>/,
    );
    expect(page).toContain('1,200 tokens, $0.006');
  });

  it('says "no prices configured" for a run whose engine had no price table, never $0', async () => {
    const run = (await fx.registry.getRun(digestRun))!;
    expect(run.inputTokens).toBe(3000);
    expect(run.cost).toBeUndefined();
    const page = await text(`/runs/${digestRun}`);
    expect(page).toContain('<b>no prices configured</b>');
    expect(page).not.toMatch(/\$0\.00/);
    expect(page).toContain('3,600 tokens (3,000 in / 600 out), 4 calls, 1 throttled');
  });

  it('shows this week’s cost by pipeline on the runs list, and each run’s cost', async () => {
    const week = await fx.registry.usageByPipeline();
    expect(week.pipelines.map((p) => [p.pipeline, p.runs])).toEqual([
      ['report', 2],
      ['digest', 1],
    ]);
    expect(week.total.cost).toBeCloseTo(4 * COST_PER_CALL, 12);
    const list = await text('/');
    expect(list).toMatch(/data-week-cost><b>\$0\.024<\/b>model cost this week/);
    expect(list).toContain('report: $0.024, digest: no prices configured');
    expect(list).toMatch(new RegExp(`<tr data-run="${reportRun}">.*?<td>\\$0\\.018</td></tr>`));
    expect(list).toMatch(new RegExp(`<tr data-run="${digestRun}">.*?<td>no prices configured</td></tr>`));
  });
});
