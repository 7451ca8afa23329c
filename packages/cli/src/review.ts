import { type Engine, type ReviewNotice, type ReviewNotifier } from '@baton/core';
import { reviewLink } from '@baton/core/engine';
import { createInterface } from 'node:readline/promises';
import { dashboardUrl } from './notifier.js';

/** How the CLI handles a review gate: approve unattended, ask the terminal, or print how to decide. */
export type ReviewMode = 'auto' | 'prompt' | 'print';

/** A notifier plus a promise that resolves when a gate is left for someone else to decide. */
export interface CliReviewer {
  notifier: ReviewNotifier;
  /** Resolves with the notice when mode is `print` and a gate opened. */
  leftWaiting: Promise<ReviewNotice>;
  /** Set once the engine exists. */
  bind(engine: Engine): void;
}

/**
 * The review seam of the CLI. In every mode the decision goes through the engine's normal
 * `approve`/`reject` API with the token the engine's notifier delivered.
 */
export function createCliReviewer(mode: ReviewMode, io: { log(line: string): void; pause(): void }): CliReviewer {
  let engine: Engine | undefined;
  let markWaiting: (n: ReviewNotice) => void = () => undefined;
  const leftWaiting = new Promise<ReviewNotice>((resolve) => (markWaiting = resolve));
  const decide = async (notice: ReviewNotice): Promise<void> => {
    if (!engine) throw new Error('reviewer used before the engine was bound');
    if (mode === 'auto') {
      // a gate assigned to a reviewer (reviewerPath) is approved in their name: the operator chose --auto-approve
      const reviewer = notice.reviewer ?? 'baton-cli --auto-approve';
      await engine.approve(notice.runId, notice.gate, { token: notice.token, reviewer, comment: 'approved unattended (--auto-approve)' });
      io.log(`review gate "${notice.gate}" approved automatically (--auto-approve${notice.reviewer ? `, as ${notice.reviewer}` : ''})`);
      return;
    }
    if (mode === 'print') {
      leaveWaiting(notice);
      return;
    }
    io.pause();
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
    const lines = rl[Symbol.asyncIterator]();
    const ask = async (q: string): Promise<string | undefined> => {
      process.stderr.write(q);
      const next = await lines.next();
      return next.done ? undefined : String(next.value).trim();
    };
    try {
      process.stderr.write(`\n${reviewSummary(notice)}\nreview page (each section's text and sources): ${reviewLink(dashboardUrl(), notice)}\n`);
      let answer: string | undefined = '';
      while (answer !== undefined && !/^(a|approve|r|reject)$/i.test(answer)) answer = await ask(`Approve gate "${notice.gate}"? [a]pprove / [r]eject: `);
      if (answer === undefined) {
        process.stderr.write('\n(no answer: the run stays waiting)\n');
        leaveWaiting(notice);
        return;
      }
      const comment = (await ask('Comment (optional): ')) ?? '';
      const decision = { token: notice.token, reviewer: process.env.USER ?? 'terminal', ...(comment ? { comment } : {}) };
      if (/^a/i.test(answer)) await engine.approve(notice.runId, notice.gate, decision);
      else await engine.reject(notice.runId, notice.gate, decision);
    } finally {
      rl.close();
    }
  };
  const leaveWaiting = (notice: ReviewNotice): void => {
    io.log(reviewSummary(notice));
    io.log(`run ${notice.runId} is waiting for review at gate "${notice.gate}"${notice.reviewer ? ` by ${notice.reviewer}` : ''}. Review it at:`);
    io.log(`  ${reviewLink(dashboardUrl(), notice)}`);
    io.log('or decide with:');
    io.log(
      `  baton approve ${notice.runId} ${notice.gate} --token ${notice.token}${notice.sections?.length ? ` --section <id>=approve|send-back:<note>|accept-missing (sections: ${notice.sections.join(', ')})` : ''}`,
    );
    io.log(`  baton reject  ${notice.runId} ${notice.gate} --token ${notice.token} --comment "<why>"`);
    markWaiting(notice);
  };
  return {
    leftWaiting,
    bind: (e) => (engine = e),
    // The engine registers its waiter after the notifier returns: decide on the next macrotask.
    notifier: (notice) => {
      setTimeout(() => {
        decide(notice).catch((e: unknown) => {
          io.log(`review of gate "${notice.gate}" failed: ${(e as Error).message}`);
          leaveWaiting(notice);
        });
      }, 0);
    },
  };
}

/**
 * A short text view of a review payload: each section by its title and id (the id is what
 * `--section <id>=…` takes; a failed section is named from the report's section index), its state,
 * and, from the second round on, which sections an earlier round decided.
 */
export function reviewSummary(notice: ReviewNotice): string {
  const p = notice.payload as {
    reportTitle?: string;
    sections?: {
      status: string;
      output?: { task?: { sectionId?: string; title?: string }; flagged?: unknown; check?: { round?: number } };
      error?: { code: string; message?: string };
    }[];
    sectionIndex?: { sectionId?: string; title?: string }[];
    decided?: Record<string, { verdict?: string; reviewer?: string | null; round?: number }>;
    rejectedSources?: { message: string }[];
  };
  const lines = [`Review "${notice.gate}" for run ${notice.runId}${p.reportTitle ? `: ${p.reportTitle}` : ''}`];
  if (Array.isArray(p.sections)) {
    p.sections.forEach((s, i) => {
      const id = s.output?.task?.sectionId ?? p.sectionIndex?.[i]?.sectionId;
      const title = s.output?.task?.title ?? p.sectionIndex?.[i]?.title;
      const name = title && id ? `${title} (${id})` : (title ?? id ?? `section ${i + 1}`);
      const decided = id ? p.decided?.[id] : undefined;
      const state = decided
        ? `${decided.verdict === 'approve' ? 'approved' : 'accepted as missing'} in round ${decided.round ?? '?'}${decided.reviewer ? ` by ${decided.reviewer}` : ''} (not asked again)`
        : s.status === 'failed'
          ? `FAILED ${s.error?.code}: ${s.error?.message ?? ''}`
          : s.output?.flagged
            ? 'held for human review (safety)'
            : (s.output?.check?.round ?? 0) > 0
              ? 'ok (repaired)'
              : 'ok';
      lines.push(`  ${i + 1}. ${name}: ${state}`);
    });
  }
  for (const r of p.rejectedSources ?? []) lines.push(`  rejected source: ${r.message}`);
  return lines.join('\n');
}
