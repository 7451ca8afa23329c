import { createServer, type IncomingMessage } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baton, batonAsync, killStarted, workdir } from './test-support/spawn.js';

afterEach(killStarted);

/** An HTTP server on a free loopback port recording every request body. */
async function hook(): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, bodies, close: () => new Promise((r) => server.close(() => r())) };
}

describe('review notices through the configured notifier (built CLI, local engine)', () => {
  it('--review-notices sends the notice to a webhook and a file besides the terminal; the link starts with BATON_DASHBOARD_URL', async () => {
    const dir = workdir();
    const h = await hook();
    try {
      const file = join(dir, 'notices', 'review.jsonl');
      const r = await batonAsync(dir, ['run', 'report', '--sources', 'sources', '--review-notices', `webhook:${h.url},file:${file}`], {
        BATON_DASHBOARD_URL: 'https://baton.example.com/',
      });
      expect(r.code).toBe(4);
      const [, runId, token] = /baton approve (\S+) review --token (\S+)/.exec(r.stderr)!;
      const link = `https://baton.example.com/reviews/${runId}/review?token=${encodeURIComponent(token!)}`;
      expect(r.stderr).toContain(`review page: https://baton.example.com/reviews/${runId}/review`);
      expect(h.bodies).toHaveLength(1);
      const posted = JSON.parse(h.bodies[0]!) as { runId: string; gate: string; reviewUrl: string; payload?: unknown };
      expect(posted).toMatchObject({ runId, gate: 'review', reviewUrl: link });
      expect(posted.payload).toBeUndefined();
      const line = JSON.parse(readFileSync(file, 'utf8').trim()) as { runId: string; token: string; reviewUrl: string };
      expect(line).toMatchObject({ runId, token, reviewUrl: link });
      expect(statSync(file).mode & 0o777).toBe(0o600);
      // the token from the file decides the gate
      const approved = await batonAsync(dir, ['approve', runId!, 'review', '--token', line.token]);
      expect(approved.code).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('refuses an unknown target with exit 2 and the list of targets', () => {
    const r = baton(workdir(), ['run', 'report', '--sources', 'sources', '--review-notices', 'email:me@example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--review-notices "email:me@example.com": use one or more of stdout, announce, file:<path>, webhook:<url>, dashboard');
  });
});
