import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { isStageError } from '../errors.js';
import { createProbeDir, readProbe } from './probe.js';
import type { KitContext } from './suite.js';

/** Run ids every engine must refuse: a path out of the state directory, a separator, a space. */
export const HOSTILE_RUN_IDS = ['../../package', 'team/a', 'rep 1'] as const;

/**
 * Scenario 21: a run id that is not one (see `RUN_ID_PATTERN`) is refused by `start` with
 * `InvalidInput` before anything is written: no run is listed, no stage runs. Ids that only a
 * rewriting engine would confuse (`rep_1`, `rep-1`) are two runs.
 */
export function runIdScenarios({ timeout, engine, output }: KitContext): void {
  it.each(HOSTILE_RUN_IDS)('21. start refuses the run id %j before anything is written', { timeout }, async (id) => {
    const probe = createProbeDir();
    const err = await engine()
      .start('kit-sequence', { probe, value: 1 }, { runId: id })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isStageError(err) ? { code: err.code, retryable: err.retryable } : err).toEqual({ code: 'InvalidInput', retryable: false });
    expect((err as Error).message).toMatch(/invalid run id/);
    expect((await engine().list()).map((r) => r.runId)).not.toContain(id);
    expect(readProbe(probe)).toEqual([]);
  });

  it('21. rep_1 and rep-1 are two runs, each with its own output', { timeout }, async () => {
    const tag = randomBytes(4).toString('hex');
    const ids = [`rep_${tag}`, `rep-${tag}`];
    for (const [i, id] of ids.entries()) await engine().start('kit-sequence', { probe: createProbeDir(), value: i + 10, label: id }, { runId: id });
    const outputs = await Promise.all(ids.map(async (id) => output(await engine().result(id, { timeoutMs: timeout }))));
    expect(outputs.map((o) => [(o.a as { value: unknown }).value, (o.c as { seen: unknown }).seen])).toEqual([
      [11, ids[0]],
      [12, ids[1]],
    ]);
  });
}
