import { type ReviewNotice, type ReviewNotifier } from '@baton/core';
import { reviewLink } from '@baton/core/engine';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './errors.js';

/** The dashboard's base URL for review links: `BATON_DASHBOARD_URL`, else `baton dashboard`'s default. */
export function dashboardUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.BATON_DASHBOARD_URL?.trim() || 'http://127.0.0.1:4680').replace(/\/+$/, '');
}

/** A review notice as the `file:` notifier writes it: one JSON line, with the review link. */
export interface NoticeLine {
  runId: string;
  gate: string;
  stepPath: string;
  token: string;
  reviewUrl: string;
  expiresAt: string;
  reviewer?: string;
  at: string;
}

/** Where `baton worker` and `baton run` write every review notice besides the configured targets. */
export function noticesFile(stateDir: string): string {
  return join(stateDir, 'reviews', 'notices.jsonl');
}

/** Targets of `--review-notices`, comma-separated. */
const TARGETS = ['stdout', 'announce', 'file:<path>', 'webhook:<url>', 'dashboard'];

/**
 * What `baton worker` does with review notices unless `--review-notices` says otherwise: it
 * announces the gate without its token (a worker's stdout ends up in shared logs, and serves every
 * run, auto-approved ones included); the token stays in `<stateDir>/reviews/notices.jsonl` (0600).
 */
export const WORKER_REVIEW_NOTICES = 'announce';

/**
 * The review notifier configured by `--review-notices <targets>` (comma-separated): `stdout` (the
 * token and the decide command on this process's stdout), `announce` (that a gate opened, without
 * its token), `file:<path>` (one JSON line per notice,
 * file mode 0600), `webhook:<url>` (POSTed as the deployed webhook notifier does: the review link,
 * never the payload), `dashboard` (the dashboard's review list, which the run registry feeds from
 * every process already). Every notice is also appended to `<stateDir>/reviews/notices.jsonl`
 * (0600), so the starting `baton run` on the same machine finds the token of a gate a worker
 * opened. Throws a {@link CliError} (exit 2) for an unknown target.
 *
 * @example
 * ```ts
 * const { notifier, targets } = await configuredNotifier('stdout,webhook:https://hooks.example.com/baton', '.baton', say);
 * ```
 */
export async function configuredNotifier(
  spec: string | undefined,
  stateDir: string,
  say: (line: string) => void,
): Promise<{ notifier: ReviewNotifier; targets: string[] }> {
  const parts = (spec ?? 'stdout')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const sends: ReviewNotifier[] = [fileNotifier(noticesFile(stateDir))];
  const targets: string[] = [];
  for (const part of parts) {
    if (part === 'stdout') {
      sends.push((n) =>
        say(
          `review gate "${n.gate}" of run ${n.runId} opened: ${reviewLink(dashboardUrl(), n)}\n  decide with: baton approve ${n.runId} ${n.gate} --token ${n.token}`,
        ),
      );
      targets.push('stdout');
    } else if (part === 'announce') {
      sends.push((n) =>
        say(
          `review gate "${n.gate}" of run ${n.runId} opened: ${dashboardUrl()}/reviews/${encodeURIComponent(n.runId)}/${encodeURIComponent(n.gate)} (token not printed: the link with it is in ${noticesFile(stateDir)}; --review-notices stdout prints it here)`,
        ),
      );
      targets.push('stdout without tokens');
    } else if (part === 'dashboard') {
      targets.push(`the dashboard's review list (${dashboardUrl()}/reviews)`);
    } else if (part.startsWith('file:') && part.length > 5) {
      const file = resolve(part.slice(5));
      sends.push(fileNotifier(file));
      targets.push(`file ${file}`);
    } else if (/^webhook:https?:\/\//.test(part)) {
      const url = part.slice('webhook:'.length);
      const { createWebhookReviewNotifier } = await import('@baton/stages');
      sends.push(createWebhookReviewNotifier({ url, dashboardUrl: dashboardUrl() }));
      targets.push(`webhook ${new URL(url).origin}`);
    } else {
      throw new CliError(`--review-notices "${part}": use one or more of ${TARGETS.join(', ')}, comma-separated`);
    }
  }
  const notifier: ReviewNotifier = async (notice) => {
    const failures: string[] = [];
    for (const send of sends) {
      try {
        await send(notice);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    if (failures.length) say(`review notice of gate "${notice.gate}" (run ${notice.runId}) not delivered to every target: ${failures.join('; ')}`);
  };
  return { notifier, targets };
}

/** The notices of a run written to `<stateDir>/reviews/notices.jsonl`, newest last. */
export function readNotices(stateDir: string, runId: string): NoticeLine[] {
  let text: string;
  try {
    text = readFileSync(noticesFile(stateDir), 'utf8');
  } catch {
    return [];
  }
  const out: NoticeLine[] = [];
  for (const line of text.split('\n')) {
    try {
      const n = JSON.parse(line) as NoticeLine;
      if (n.runId === runId) out.push(n);
    } catch {
      // a torn last line of a killed writer
    }
  }
  return out;
}

function fileNotifier(file: string): ReviewNotifier {
  return (n: ReviewNotice) => {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const line: NoticeLine = {
      runId: n.runId,
      gate: n.gate,
      stepPath: n.stepPath,
      token: n.token,
      reviewUrl: reviewLink(dashboardUrl(), n),
      expiresAt: n.expiresAt,
      ...(n.reviewer ? { reviewer: n.reviewer } : {}),
      at: new Date().toISOString(),
    };
    appendFileSync(file, JSON.stringify(line) + '\n', { mode: 0o600 });
  };
}
