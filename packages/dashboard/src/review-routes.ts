import { type BlobStore, type Engine, type PendingReview, type ReviewDecision } from '@baton/core';
import { verifyReviewToken } from '@baton/core/engine';
import { reviewAuditExport, type ReviewRecord, type RunRegistry } from '@baton/registry';
import type { Context, Hono } from 'hono';
import { engineErrorAnswer, type RefusalStatus } from './engine-errors.js';
import type { SafeHtml } from './html.js';
import { readReviewForm, sectionVerdictsOf, type SectionVerdictInput } from './review-form.js';
import { loadReviewContent } from './review-sections.js';
import { auditBody } from './views/audit.js';
import { messagePage, page } from './views/layout.js';
import { reviewBody, type LinkState, type ReviewPageView } from './views/reviews.js';

/** The request variables the dashboard's auth middleware sets (the session's CSRF value). */
export type DashboardEnv = { Variables: { csrf: string } };

/** What the review routes need from the app. */
export interface ReviewRouteDeps {
  registry: RunRegistry;
  blobs: BlobStore | undefined;
  /** The engine that runs a run, by the engine name the registry recorded. */
  engineFor(name: string): Engine | undefined;
  /** The CSRF value of the request's session ('' without one). */
  csrfOf(c: Context<DashboardEnv>): string;
}

/** A decision with per-section verdicts (`@baton/core`'s `ReviewDecision` with `sections`). */
type SectionDecision = ReviewDecision & { sections?: Record<string, SectionVerdictInput> };

type Status = 200 | RefusalStatus;

/**
 * The reviewer's routes: the review page (each section's text from the blob store, beside its
 * sources, findings and verdict controls), the decision post (per-section verdicts through
 * `engine.approve`), and a run's review audit trail as a page and as JSON.
 */
export function registerReviewRoutes(app: Hono<DashboardEnv>, deps: ReviewRouteDeps): void {
  const { registry } = deps;
  const send = (c: Context<DashboardEnv>, body: SafeHtml, status: Status = 200): Response => c.html(body.value, status);
  const notFound = (c: Context<DashboardEnv>, runId: string, gate: string): Response =>
    send(c, messagePage('Review not found', `Run "${runId}" has no review at gate "${gate}".`, { csrf: deps.csrfOf(c) }), 404);

  app.get('/reviews/:runId/:gate', async (c) => {
    const { runId, gate } = c.req.param();
    const csrf = deps.csrfOf(c);
    const token = c.req.query('token');
    const review = await registry.getReview(runId, gate);
    if (!review) return notFound(c, runId, gate);
    if (token !== undefined) {
      const refusal = await refuse(review, token, csrf);
      if (refusal) return send(c, refusal.page, refusal.status);
    }
    const view = await reviewPage(review, token ? 'valid' : 'missing', token, csrf);
    return send(c, page(`Review ${gate}`, reviewBody(view), { csrf }));
  });

  app.post('/reviews/:runId/:gate', async (c) => {
    const { runId, gate } = c.req.param();
    const csrf = deps.csrfOf(c);
    const form = await c.req.parseBody();
    const token = typeof form.token === 'string' ? form.token : '';
    const review = await registry.getReview(runId, gate);
    if (!review) return notFound(c, runId, gate);
    const refusal = await refuse(review, token, csrf);
    if (refusal) return send(c, refusal.page, refusal.status);
    const engine = deps.engineFor((await registry.getRun(runId))?.engine ?? '');
    if (!engine) return send(c, messagePage('No engine for this run', `This dashboard cannot reach the engine that runs "${runId}".`, { csrf }), 500);
    const decision = form.decision === 'reject' ? 'reject' : 'approve';
    const entered = readReviewForm(form);
    const view = await reviewPage(review, 'valid', token, csrf);
    // a refused form is shown again as typed: nothing the reviewer wrote is lost
    const again = (problems: string[]): Response => send(c, page(`Review ${gate}`, reviewBody({ ...view, entered, problems }), { csrf }), 400);
    // verdicts given: every section asked about needs one; none at all ("approve as it stands", or a
    // client that does not know about sections): the gate's pipeline decides what a plain approval means
    const perSection = decision === 'approve' && form.decision !== 'approve-all' && view.sections !== undefined && Object.keys(entered.verdicts).length > 0;
    const checked = sectionVerdictsOf(perSection ? entered : { ...entered, verdicts: {} }, perSection ? (view.sections ?? []) : []);
    if (checked.problems.length > 0) return again(checked.problems);
    const reviewer = entered.reviewer ?? review.reviewer;
    const verdicts: SectionDecision = {
      token,
      ...(reviewer ? { reviewer } : {}),
      ...(entered.comment ? { comment: entered.comment } : {}),
      ...(perSection ? { sections: checked.sections } : {}),
    };
    try {
      await engine[decision](runId, gate, verdicts);
    } catch (e) {
      const answer = engineErrorAnswer(e);
      // refused before the token is used (core's checkReviewDecision): the gate is still open
      if (answer.code === 'InvalidInput') return again([answer.message]);
      // the engine is the authority on tokens: a replay that raced the registry lands here (ReviewTokenUsed, 409)
      return send(
        c,
        messagePage(answer.title, `The engine refused this decision: ${answer.message}`, {
          csrf,
          back: { href: `/runs/${encodeURIComponent(runId)}`, label: 'Back to the run' },
        }),
        answer.status,
      );
    }
    return c.redirect(`/runs/${encodeURIComponent(runId)}?decided=${decision}`, 303);
  });

  app.get('/runs/:runId/audit.json', async (c) => {
    const runId = c.req.param('runId');
    const run = await registry.getRun(runId);
    if (!run) return c.json({ error: `no run "${runId}" is recorded` }, 404);
    return c.json(reviewAuditExport(run, await registry.reviewDecisions(runId)));
  });

  app.get('/runs/:runId/audit', async (c) => {
    const runId = c.req.param('runId');
    const csrf = deps.csrfOf(c);
    const run = await registry.getRun(runId);
    if (!run) return send(c, messagePage('Run not found', `No run "${runId}" is recorded.`, { csrf, back: { href: '/', label: 'All runs' } }), 404);
    return send(c, page(`Review record of ${runId}`, auditBody(run, await registry.reviewDecisions(runId)), { csrf }));
  });

  /** Why a review link cannot be used, or undefined when it can. */
  const refuse = async (review: ReviewRecord, token: string, csrf: string): Promise<{ page: SafeHtml; status: 403 | 409 } | undefined> => {
    const back = { href: `/runs/${encodeURIComponent(review.runId)}`, label: 'See the run' };
    if (review.decidedAt || !(await openAtEngine(review))) {
      const what = review.decision ? `${review.decision}${review.decidedBy ? ` by ${review.decidedBy}` : ''}` : 'already decided';
      return {
        status: 409,
        page: messagePage(
          'This review is closed',
          `Gate "${review.gate}" of run "${review.runId}" was ${what}. A review link works once; ask for a new review if something changed.`,
          { csrf, back },
        ),
      };
    }
    if (!verifyReviewToken(token, review.tokenHash)) {
      return {
        status: 403,
        page: messagePage('This review link is not valid', 'The link is incomplete, altered, or belongs to another review. Use the exact link you were sent.', {
          csrf,
          back,
        }),
      };
    }
    return undefined;
  };

  /** The payload comes from the engine while the gate is open (the registry may hold only a digest); sections are read from the blob store. */
  const reviewPage = async (review: ReviewRecord, link: LinkState, token: string | undefined, csrf: string): Promise<ReviewPageView> => {
    const run = await registry.getRun(review.runId);
    const pending = review.decidedAt ? undefined : await pendingAtEngine(review, run?.engine);
    const content = await loadReviewContent(pending?.payload ?? review.payload, deps.blobs, review.sectionVersions);
    const sections = pending?.sections ?? review.sections;
    const round = await roundOfReview(review);
    return {
      review,
      ...(round > 1 ? { round } : {}),
      content,
      link,
      csrf,
      ...(run?.title ? { title: run.title } : {}),
      ...(sections ? { sections } : {}),
      ...(token !== undefined ? { token } : {}),
    };
  };

  /** As the audit trail counts rounds: 1 plus the other gates of this name the run decided before this one opened. */
  const roundOfReview = async (review: ReviewRecord): Promise<number> => {
    const earlier = (await registry.reviewDecisions(review.runId)).filter(
      (d) => d.sectionId === null && d.gate === review.gate && d.stepPath !== review.stepPath && d.decidedAt <= review.createdAt,
    );
    return new Set(earlier.map((d) => d.stepPath)).size + 1;
  };

  const pendingAtEngine = async (review: ReviewRecord, engineName: string | undefined): Promise<(PendingReview & { sections?: string[] }) | undefined> => {
    const engine = deps.engineFor(engineName ?? '');
    if (!engine) return undefined;
    try {
      return (await engine.status(review.runId)).pendingReviews.find((p) => p.gate === review.gate && p.stepPath === review.stepPath);
    } catch {
      return undefined;
    }
  };

  const openAtEngine = async (review: ReviewRecord): Promise<boolean> => {
    const engine = deps.engineFor((await registry.getRun(review.runId))?.engine ?? '');
    if (!engine) return true;
    try {
      const status = await engine.status(review.runId);
      return status.pendingReviews.some((p) => p.gate === review.gate);
    } catch {
      return true; // the engine cannot tell: let approve/reject decide
    }
  };
}
