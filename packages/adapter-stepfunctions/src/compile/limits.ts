import { DEFAULT_CLAIM_CHECK_THRESHOLD, STEP_FUNCTIONS_LIMITS } from '@baton/core/engine';
import type { AslDefinition, AslState, CompileIssue } from './types.js';

/** Step Functions' largest state payload (input or output of a state): core's `STEP_FUNCTIONS_LIMITS.maxStateBytes`. */
export const SFN_PAYLOAD_LIMIT = STEP_FUNCTIONS_LIMITS.maxStateBytes;
/** Step Functions' largest execution history (STANDARD). */
export const SFN_HISTORY_LIMIT = 25_000;

/** What a run costs on the happy path for given map item counts. */
export interface RunCost {
  /** State transitions (billed unit of STANDARD workflows). */
  transitions: number;
  /** Execution history events in the parent execution (DISTRIBUTED children keep their own). */
  historyEvents: number;
  /** Lambda invocations (Task states calling a function), in total and by function (`FunctionName` or `Resource`). */
  lambdaInvocations: number;
  invocationsByFunction: Record<string, number>;
}

/**
 * Counts the state transitions and history events of the happy path of a machine: every Task
 * succeeds, a Choice takes its first rule, a loop runs once, a map runs `items[mapState]`
 * iterations (default 1). History is estimated with the events Step Functions records:
 * 2 per state (entered/exited), 3 more per Task (scheduled/started/succeeded), 2 per map iteration.
 */
export function estimateRunCost(definition: Pick<AslDefinition, 'StartAt' | 'States'>, items: Record<string, number> = {}): RunCost {
  const cost: RunCost = { transitions: 0, historyEvents: 0, lambdaInvocations: 0, invocationsByFunction: {} };
  walk(definition.StartAt, definition.States, items, cost, 1);
  return cost;
}

function walk(start: string, states: Record<string, AslState>, items: Record<string, number>, cost: RunCost, times: number): void {
  let name: string | undefined = start;
  const seen = new Set<string>();
  while (name !== undefined && !seen.has(name)) {
    seen.add(name);
    const s: AslState | undefined = states[name];
    if (!s) return;
    cost.transitions += times;
    cost.historyEvents += 2 * times;
    if (s.Type === 'Task') {
      cost.historyEvents += 3 * times;
      const fn = functionOf(s);
      if (fn !== undefined) {
        cost.lambdaInvocations += times;
        cost.invocationsByFunction[fn] = (cost.invocationsByFunction[fn] ?? 0) + times;
      }
    }
    if (s.Type === 'Map') {
      const n = items[name] ?? 1;
      const proc = s.ItemProcessor as { StartAt: string; States: Record<string, AslState>; ProcessorConfig?: { Mode?: string } };
      const child: RunCost = { transitions: 0, historyEvents: 0, lambdaInvocations: 0, invocationsByFunction: cost.invocationsByFunction };
      walk(proc.StartAt, proc.States, items, child, times * n);
      cost.transitions += child.transitions;
      cost.lambdaInvocations += child.lambdaInvocations;
      // DISTRIBUTED children run as their own executions with their own history
      if (proc.ProcessorConfig?.Mode !== 'DISTRIBUTED') cost.historyEvents += child.historyEvents + 2 * times * n;
    }
    if (s.Type === 'Parallel')
      for (const b of s.Branches as { StartAt: string; States: Record<string, AslState> }[]) walk(b.StartAt, b.States, items, cost, times);
    if (s.Type === 'Choice') name = (s.Choices as { Next: string }[])[0]?.Next ?? (s.Default as string | undefined);
    else name = s.End === true ? undefined : (s.Next as string | undefined);
  }
}

/** The Lambda function a Task state calls, if it calls one. */
function functionOf(s: AslState): string | undefined {
  const resource = String(s.Resource ?? '');
  if (resource.startsWith('arn:aws:states:::lambda:invoke')) return String((s.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName ?? resource);
  return resource.includes(':lambda:') || resource.startsWith('${fn_') ? resource : undefined;
}

/**
 * Reports where a pipeline can exceed Step Functions' limits for the given item counts: a map
 * result of N items, each up to its output schema's bound (`itemBounds`, core's `mapItemBounds`) or
 * else the claim-check threshold its items use (`itemThresholds`, core's `mapItemClaimCheckThresholds`; the
 * Lambdas' threshold otherwise), over 256 KB; a STANDARD history over 25,000 events.
 */
export function checkLimits(
  definition: AslDefinition,
  items: Record<string, number>,
  options: {
    type: 'STANDARD' | 'EXPRESS';
    claimCheckThreshold?: number;
    itemBounds?: Record<string, number>;
    itemThresholds?: Readonly<Record<string, number>>;
  } = { type: 'STANDARD' },
): CompileIssue[] {
  const issues: CompileIssue[] = [];
  const threshold = options.claimCheckThreshold ?? DEFAULT_CLAIM_CHECK_THRESHOLD;
  // an item result is at most its schema's bound (see mapItemBounds), and never more than the claim check leaves
  const thresholdOf = (name: string): number => options.itemThresholds?.[name] ?? threshold;
  const perItem = (name: string): number => Math.min(options.itemBounds?.[name] ?? Infinity, thresholdOf(name) + 64);
  const visit = (states: Record<string, AslState>): void => {
    for (const [name, s] of Object.entries(states)) {
      if (s.Type === 'Map') {
        const n = items[name];
        const item = perItem(name);
        if (n !== undefined && s.ResultPath !== null && n * item > SFN_PAYLOAD_LIMIT) {
          const own = thresholdOf(name);
          const why =
            item < own + 64
              ? `${item} bytes an item (its output schema's bound)`
              : own < threshold
                ? `${own} bytes an item (its items' claim-check threshold, the lowest used)`
                : `${threshold} bytes an item (claim-check threshold)`;
          issues.push({
            severity: 'warning',
            step: name,
            message: `map "${name}" with ${n} items can return up to ${n} × ${why} = ${Math.round((n * item) / 1024)} KB, over the 256 KB state limit: keep item outputs small (lower the claim-check threshold to ${Math.floor(SFN_PAYLOAD_LIMIT / n) - 64} bytes) or discard the map result`,
          });
        }
        visit((s.ItemProcessor as { States: Record<string, AslState> }).States);
      }
      if (s.Type === 'Parallel') for (const b of s.Branches as { States: Record<string, AslState> }[]) visit(b.States);
    }
  };
  visit(definition.States);
  const cost = estimateRunCost(definition, items);
  if (options.type === 'STANDARD' && cost.historyEvents > SFN_HISTORY_LIMIT) {
    issues.push({
      severity: 'error',
      step: '(pipeline)',
      message: `about ${cost.historyEvents} history events for ${JSON.stringify(items)} items, over Step Functions' 25,000: run large maps in DISTRIBUTED mode (expectedItems / distributedThreshold)`,
    });
  }
  return issues;
}
