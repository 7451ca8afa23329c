import { reviewAuditExport, verdictWords, type ReviewAuditExport } from '@baton/registry';
import { resolve } from 'node:path';
import type { GlobalOptions } from '../context.js';
import { CliError } from '../errors.js';
import { openRegistry } from '../registry/open.js';

/**
 * `baton audit <run>`: the run's review audit trail from the run registry (who decided what on
 * which section, when, with which note, on text written by which model and prompt), as lines a
 * person reads, or with `--json` as the dashboard's `audit.json` export.
 */
export async function auditCommand(runId: string, opts: { json?: boolean }, global: GlobalOptions): Promise<number> {
  const registry = await openRegistry(resolve(global.stateDir), global.databaseUrl ?? process.env.DATABASE_URL);
  try {
    const run = await registry.registry.getRun(runId);
    if (!run) throw new CliError(`run "${runId}" is not in the run registry (${registry.location})`);
    const audit = reviewAuditExport(run, await registry.registry.reviewDecisions(runId));
    process.stdout.write(opts.json ? JSON.stringify(audit, null, 2) + '\n' : auditText(audit));
    return 0;
  } finally {
    await registry.close();
  }
}

/** The audit trail as text: one line per verdict, notes quoted on their own line. */
export function auditText(audit: ReviewAuditExport): string {
  const lines = [`Review record of ${audit.title ? `"${audit.title}" ` : ''}(run ${audit.runId}, ${audit.pipeline}, ${audit.status})`];
  if (audit.decisions.length === 0) lines.push('  no review decision is recorded for this run');
  for (const d of audit.decisions) {
    const when = `${d.decidedAt.slice(0, 10)} ${d.decidedAt.slice(11, 19)} UTC`;
    const what = d.sectionId ? `${d.sectionTitle ?? d.sectionId} (${d.sectionId})` : `gate "${d.gate}"`;
    const by =
      d.modelId || d.promptSha256 ? `  [text by ${[d.modelId, d.promptSha256 ? `prompt ${d.promptSha256.slice(0, 12)}` : ''].filter(Boolean).join(', ')}]` : '';
    lines.push(`  ${when}  ${d.decidedBy ?? '(no name)'}${d.round === null ? '' : `  round ${d.round}`}  ${what}: ${verdictWords(d.verdict)}${by}`);
    if (d.note) lines.push(`      "${d.note.replace(/\s+/g, ' ')}"`);
  }
  return lines.join('\n') + '\n';
}
