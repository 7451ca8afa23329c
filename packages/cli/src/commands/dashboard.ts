import { createFsBlobStore, type Engine, type ReviewNotifier } from '@baton/core';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openContext, type GlobalOptions } from '../context.js';
import { engineFactory, type EngineContext } from '../engines.js';
import { CliError } from '../errors.js';
import { reviewPage } from '../follow.js';
import { WORKER_REVIEW_NOTICES, configuredNotifier } from '../notifier.js';
import { openRegistry } from '../registry/open.js';
import { databaseUrlOf } from '../session.js';
import { STOP_BUDGET_MS, stopSignal, within } from '../shutdown.js';

/** Options of `baton dashboard`. */
export interface DashboardCommandOptions {
  /** @default 4680 */
  port?: string;
  /** @default '127.0.0.1' */
  host?: string;
  /** Login token; `BATON_DASHBOARD_TOKEN` or a generated one when unset. */
  token?: string;
}

/**
 * `baton dashboard`: serves the dashboard over the run registry (PGlite under the state
 * directory, ingesting the event spool on every read, or Postgres with `--database-url`) and the
 * chosen engine, through which approve and reject go. Runs until SIGINT or SIGTERM, then closes
 * the server, the engines and the registry within 5 s and exits 0 (runs and open reviews are
 * untouched: they live in the engines and the registry). A run decided here goes on in this
 * process, so the gates it opens next (the report's next review round) are noticed here: to
 * `--review-notices`, else as `baton worker` does (the review page on stdout, the link with its
 * token in `<state-dir>/reviews/notices.jsonl`).
 */
export async function dashboardCommand(opts: DashboardCommandOptions, global: GlobalOptions): Promise<number> {
  const given = opts.token ?? process.env.BATON_DASHBOARD_TOKEN;
  const token = given ?? randomBytes(24).toString('base64url');
  if (token.length < 16) throw new CliError('the dashboard token must be at least 16 characters (--token or BATON_DASHBOARD_TOKEN)');
  const port = Number(opts.port ?? 4680);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port ${opts.port}: use a TCP port number (0 picks a free one)`);
  const ctx = await openContext(global);
  // listening from the start: a signal during startup stops the dashboard too, within the budget
  const stop = stopSignal();
  const closers: (() => Promise<void>)[] = [() => ctx.recorder.close()];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const registry = await openRegistry(ctx.stateDir, global.databaseUrl ?? process.env.DATABASE_URL);
    closers.push(() => registry.close());
    // a gate this process opens (the next review round of a run decided here) needs its token to
    // reach the reviewer: --review-notices (the engine factory adds it), else announce + the notices file
    const say = (line: string): void => void process.stdout.write(line + '\n');
    const notifier: ReviewNotifier = global.connection?.reviewNotifier
      ? (n) => say(`review gate "${n.gate}" of run ${n.runId} opened: ${reviewPage(n.runId, n.gate)}`)
      : (await configuredNotifier(WORKER_REVIEW_NOTICES, ctx.stateDir, say)).notifier;
    const engineCtx: EngineContext = {
      pipelines: ctx.pipelines,
      stateDir: ctx.stateDir,
      blobs: ctx.blobs,
      model: ctx.model,
      logger: ctx.logger,
      observer: ctx.recorder.observer,
      notifier,
      ...(global.connection ? { connection: global.connection } : {}),
      ...(databaseUrlOf(global) ? { databaseUrl: databaseUrlOf(global)! } : {}),
    };
    // the chosen engine, plus the local one so runs made without --engine can be decided too
    const names = [...new Set([global.engine, 'local'])];
    const engines: Engine[] = [];
    for (const name of names) {
      // a deployed app's blobs are in its bucket; the local engine's stay under the state directory
      const blobs = name === 'local' && global.engine === 'stepfunctions' ? createFsBlobStore({ root: join(ctx.stateDir, 'blobs') }) : ctx.blobs;
      const engine = await engineFactory(name)({ ...engineCtx, blobs });
      engines.push(engine);
      closers.push(() => engine.close());
    }
    const { createDashboardServer } = await import('@baton/dashboard');
    const server = createDashboardServer({ registry: registry.registry, engine: engines, token, blobs: ctx.blobs, hostname: opts.host ?? '127.0.0.1', port });
    const url = await server.listen().catch((e: Error) => {
      throw new CliError(`cannot listen on ${opts.host ?? '127.0.0.1'}:${port}: ${e.message}. Pick another --port (0 for any free one).`);
    });
    closers.push(() => server.close());
    process.stdout.write(`baton dashboard on ${url}/ (registry: ${registry.location}; engines: ${names.join(', ')})\n`);
    // a token the operator chose (--token, BATON_DASHBOARD_TOKEN) is never echoed: stdout ends up in logs
    process.stdout.write(given ? `login token: the one in ${opts.token ? '--token' : 'BATON_DASHBOARD_TOKEN'} (not printed)\n` : `login token: ${token}\n`);
    process.stdout.write(`  open ${url}/login and paste it, or send "Authorization: Bearer <token>". Stop with Ctrl-C.\n`);
    const signal = await stop.promise;
    process.stdout.write(`${signal}: stopping the dashboard (runs go on; reviews stay open)\n`);
    const clean = await within(STOP_BUDGET_MS, closeAll);
    process.stdout.write(clean ? 'dashboard stopped\n' : `dashboard stopped (closing took over ${STOP_BUDGET_MS} ms: exiting anyway)\n`);
    return 0;
  } finally {
    stop.dispose();
    await within(STOP_BUDGET_MS, closeAll);
  }
}
