import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { baton, batonAsync, killStarted, startBaton, workdir } from './test-support/spawn.js';

afterEach(killStarted);

const TOKEN = 'dashboard-test-token-0123456789';
const RUN = ['run', 'report', '--sources', 'sources', '--out', 'out/report'];

describe('baton dashboard', () => {
  it('refuses requests without the token, lists runs made by `baton run`, and approves a waiting run through the engine', async () => {
    const dir = workdir();
    const done = await batonAsync(dir, [...RUN, '--auto-approve']);
    expect(done.code).toBe(0);
    const finished = /Run (report-[\w-]+) /.exec(done.stdout)![1]!;
    const waiting = await batonAsync(dir, RUN);
    const [, runId, token] = /baton approve (\S+) review --token (\S+)/.exec(waiting.stderr)!;

    const dash = startBaton(dir, ['dashboard', '--port', '0', '--token', TOKEN]);
    const [, url] = await dash.waitFor(/baton dashboard on (http:\/\/127\.0\.0\.1:\d+)\//);
    try {
      expect(dash.stdout()).toContain('login token: the one in --token (not printed)');
      expect(dash.stdout()).not.toContain(TOKEN);
      const anonymous = await fetch(`${url}/`, { redirect: 'manual' });
      expect(anonymous.status).toBe(303);
      expect(anonymous.headers.get('location')).toMatch(/^\/login/);
      expect(await anonymous.text()).not.toContain(finished);
      const wrong = await fetch(`${url}/`, { redirect: 'manual', headers: { authorization: 'Bearer not-the-token-at-all' } });
      expect(wrong.status).toBe(303);
      const forged = await fetch(`${url}/reviews/${runId}/review`, { method: 'POST', body: new URLSearchParams({ token: token!, decision: 'approve' }) });
      expect(forged.status).toBe(401);

      const auth = { authorization: `Bearer ${TOKEN}` };
      const list = await fetch(`${url}/`, { headers: auth });
      expect(list.status).toBe(200);
      const page = await list.text();
      expect(page).toContain(finished);
      expect(page).toContain(runId);

      // the PGlite registry serves one process: the CLI says who holds it
      const busy = baton(dir, ['status', finished, '--registry']);
      expect(busy.code).toBe(2);
      expect(busy.stderr).toContain(`the PGlite run registry is open in process ${dash.child.pid}`);

      const decided = await fetch(`${url}/reviews/${runId}/review`, {
        method: 'POST',
        redirect: 'manual',
        headers: auth,
        body: new URLSearchParams({ token: token!, decision: 'approve', reviewer: 'qa', comment: 'fine' }),
      });
      expect(decided.status).toBe(303);
      let detail = '';
      for (let i = 0; i < 300 && !detail.includes('badge succeeded">'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        detail = (await (await fetch(`${url}/runs/${runId}`, { headers: auth })).text()).split('</h1>')[0] ?? '';
      }
      expect(detail).toContain(`Run ${runId} <span class="badge succeeded">`);
    } finally {
      dash.child.kill('SIGINT');
    }
    expect(await dash.exited()).toBe(0);
    const row = JSON.parse(baton(dir, ['status', runId!, '--registry']).stdout) as { status: string; reviews: { decision: string; decidedBy: string }[] };
    expect(row.status).toBe('succeeded');
    expect(row.reviews).toMatchObject([{ decision: 'approved', decidedBy: 'qa' }]);
  });

  it('never prints a token from the environment, prints a generated one, and warns when listening off loopback', async () => {
    const dir = workdir();
    const fromEnv = startBaton(dir, ['dashboard', '--port', '0', '--host', '0.0.0.0'], { BATON_DASHBOARD_TOKEN: TOKEN });
    await fromEnv.waitFor(/baton dashboard on http:/);
    expect(fromEnv.stdout()).toContain('login token: the one in BATON_DASHBOARD_TOKEN (not printed)');
    expect(fromEnv.stdout() + fromEnv.stderr()).not.toContain(TOKEN);
    expect(fromEnv.stderr()).toMatch(/warning: the dashboard listens on 0\.0\.0\.0, not on loopback/);
    fromEnv.child.kill('SIGTERM');
    await fromEnv.exited();
    const generated = startBaton(dir, ['dashboard', '--port', '0']);
    await generated.waitFor(/login token: [\w-]{32}\n/);
    expect(generated.stderr()).not.toContain('not on loopback');
  });

  it('binds 127.0.0.1 by default and rejects a short token', () => {
    const dir = workdir();
    const r = baton(dir, ['dashboard', '--token', 'short']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the dashboard token must be at least 16 characters');
    const help = baton(dir, ['dashboard', '--help']);
    expect(help.stdout).toMatch(/--host <host>.*\(default: "127\.0\.0\.1"\)/s);
  });

  it('a section sent back on the dashboard comes back at the next round: the dashboard announces its review page, the link with the token is in the notices file, round 2 decides there', async () => {
    const dir = workdir();
    const env = { BATON_DASHBOARD_URL: 'http://127.0.0.1:4680' };
    const waiting = await batonAsync(dir, RUN, env);
    expect(waiting.code).toBe(4);
    const [, runId, token] = /baton approve (\S+) review --token (\S+)/.exec(waiting.stderr)!;
    const ids = /\(sections: ([^)]+)\)/.exec(waiting.stderr)![1]!.split(', ');
    const dash = startBaton(dir, ['dashboard', '--port', '0', '--token', TOKEN], env);
    const [, url] = await dash.waitFor(/baton dashboard on (http:\/\/127\.0\.0\.1:\d+)\//);
    const auth = { authorization: `Bearer ${TOKEN}` };
    try {
      const form = new URLSearchParams({ token: token!, decision: 'approve', reviewer: 'ana' });
      for (const id of ids) form.set(`verdict:${id}`, 'approve');
      form.set('verdict:synopsis', 'send-back');
      form.set('note:synopsis', 'Name the primary endpoint.');
      const decided = await fetch(`${url}/reviews/${runId}/review`, { method: 'POST', redirect: 'manual', headers: auth, body: form });
      expect(decided.status).toBe(303);

      // the next round opens in the dashboard's process: its stdout names the page, never the token
      const [, file] = await dash.waitFor(
        new RegExp(
          `review gate "review" of run ${runId} opened: http://127\\.0\\.0\\.1:4680/reviews/${runId}/review \\(token not printed: the link with it is in (\\S+);`,
        ),
      );
      const notice = readFileSync(file!, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { runId: string; stepPath: string; reviewUrl: string; token: string })
        .find((n) => n.runId === runId && n.stepPath !== 'review');
      expect(notice?.stepPath).toBe('review-rounds@0/review-again');
      expect(notice?.reviewUrl).toBe(`http://127.0.0.1:4680/reviews/${runId}/review?token=${encodeURIComponent(notice!.token)}`);
      expect(dash.stdout()).not.toContain(notice!.token);

      const page = await (await fetch(`${url}/reviews/${runId}/review?token=${encodeURIComponent(notice!.token)}`, { headers: auth })).text();
      expect(page).toMatch(/Gate “review”, review round 2:/);
      expect(page).toContain('name="verdict:synopsis" value="approve"');
      const second = new URLSearchParams({ token: notice!.token, decision: 'approve', reviewer: 'ana', 'verdict:synopsis': 'approve' });
      expect((await fetch(`${url}/reviews/${runId}/review`, { method: 'POST', redirect: 'manual', headers: auth, body: second })).status).toBe(303);
      let status = '';
      for (let i = 0; i < 300 && status !== 'succeeded'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = ((await (await fetch(`${url}/runs/${runId}/audit.json`, { headers: auth })).json()) as { status: string }).status;
      }
      expect(status).toBe('succeeded');
    } finally {
      dash.child.kill('SIGINT');
    }
    expect(await dash.exited()).toBe(0);
    const audit = baton(dir, ['audit', runId!]).stdout;
    expect(audit).toMatch(/ana {2}round 1 {2}Synopsis \(synopsis\): Sent back/);
    expect(audit).toMatch(/ana {2}round 2 {2}Synopsis \(synopsis\): Approved/);
  });
});
