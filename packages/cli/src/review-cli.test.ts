import { describe, expect, it } from 'vitest';
import { baton, workdir } from './test-support/spawn.js';

const RUN = ['run', 'report', '--engine', 'local', '--sources', 'sources', '--out', 'out/report'];

describe('baton approve --section, the review page link and baton audit (built CLI, local engine)', () => {
  it('prints the review page link with the token, refuses a verdict for a section the gate does not have, and keeps the decision in the audit trail', () => {
    const dir = workdir();
    const r = baton(dir, RUN, { BATON_DASHBOARD_URL: 'http://dash.example:4680/' });
    expect(r.code).toBe(4); // waiting for review
    const [, runId, token] = /baton approve (\S+) review --token (\S+)/.exec(r.stderr)!;
    expect(r.stderr).toContain(`http://dash.example:4680/reviews/${runId}/review?token=${encodeURIComponent(token!)}`);
    const status = baton(dir, ['status', runId!], { BATON_DASHBOARD_URL: 'http://dash.example:4680' });
    expect(status.stdout).toMatch(/waiting for review at gate "review" by anyone with the review link since \d{4}-/);
    expect(status.stdout).toContain(`review page: http://dash.example:4680/reviews/${runId}/review`);

    const bad = baton(dir, ['approve', runId!, 'review', '--token', token!, '--section', 'no-such-section=approve', '--no-wait']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('approve failed:');
    expect(bad.stderr).toContain('Nothing was decided; the gate is still open');
    const syntax = baton(dir, ['approve', runId!, 'review', '--token', token!, '--section', 'synopsis=send-back']);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toContain('needs a note');
    expect(baton(dir, ['status', runId!]).stdout).toContain('waiting for review at gate "review"');
    // a note far over the limit on a section the gate does have: refused before the token is used
    const info = JSON.parse(baton(dir, ['status', runId!, '--json']).stdout) as { pendingReviews: { sections?: string[] }[] };
    const [first] = info.pendingReviews[0]?.sections ?? [];
    expect(first).toBeDefined();
    const long = baton(dir, ['approve', runId!, 'review', '--token', token!, '--section', `${first}=send-back:${'n'.repeat(20_000)}`, '--no-wait']);
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('approve failed:');
    expect(long.stderr).toMatch(/4000/);
    expect(baton(dir, ['status', runId!]).stdout).toContain('waiting for review at gate "review"');

    const no = baton(dir, ['reject', runId!, 'review', '--token', token!, '--reviewer', 'qa', '--comment', 'Efficacy <b>table</b> misses the 10 mg arm']);
    expect(no.stdout).toMatch(/: FAILED/);
    const audit = baton(dir, ['audit', runId!]);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^Review record of "Clinical Study Report BTN-101" \(run \S+, report, failed\)/);
    expect(audit.stdout).toMatch(/UTC {2}qa {2}round 1 {2}gate "review": Rejected the whole report\n {6}"Efficacy <b>table<\/b> misses the 10 mg arm"/);
    const json = JSON.parse(baton(dir, ['audit', runId!, '--json']).stdout) as { decisions: { verdict: string; note: string; decidedBy: string }[] };
    expect(json.decisions).toEqual([expect.objectContaining({ verdict: 'rejected', note: 'Efficacy <b>table</b> misses the 10 mg arm', decidedBy: 'qa' })]);
    expect(baton(dir, ['audit', 'report-nope']).stderr).toContain('is not in the run registry');
  });
});
