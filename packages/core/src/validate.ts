import { ALL_ERRORS, FATAL_CODES, isFatalCode } from './errors.js';
import { childBlocks, walkSteps, type CatchIR, type PipelineIR, type Predicate, type StepIR } from './ir.js';
import { isValidPath, selectionPaths } from './paths.js';
import type { RetryPolicy } from './retry.js';
import type { AnyStage } from './stage.js';

/** One problem found in a pipeline definition. */
export interface PipelineIssue {
  /** Step id the issue belongs to, when there is one. */
  stepId?: string;
  message: string;
}

/** Thrown when a pipeline definition cannot run; `issues` lists every problem found. */
export class PipelineValidationError extends Error {
  readonly code = 'InvalidPipeline';
  constructor(
    readonly pipeline: string,
    readonly issues: PipelineIssue[],
  ) {
    super(`pipeline "${pipeline}" is invalid:\n${issues.map((i) => `  - ${i.stepId ? `[${i.stepId}] ` : ''}${i.message}`).join('\n')}`);
    this.name = 'PipelineValidationError';
  }
}

/** Options of {@link validatePipelineIR}. */
export interface ValidateOptions {
  /** Refuse what this engine cannot run (approval gates in Express workflows). */
  target?: 'stepfunctions-express';
}

/** Codes any task can fail with, whatever its stage (any deployment can be misconfigured: the fatal codes). */
const TASK_CODES = ['StageFailed', 'States.Timeout', 'InvalidInput', 'States.Runtime', ...FATAL_CODES, ALL_ERRORS];

/**
 * Checks a pipeline IR against the stages it names and returns every issue: unknown stage,
 * bad path, duplicate step id, unreachable step, catch of a code nothing throws, bad retry or
 * map settings. An empty list means the pipeline can run.
 */
export function validatePipelineIR(ir: PipelineIR, stages: ReadonlyMap<string, AnyStage>, options: ValidateOptions = {}): PipelineIssue[] {
  const issues: PipelineIssue[] = [];
  const add = (stepId: string | undefined, message: string): void => {
    issues.push(stepId === undefined ? { message } : { stepId, message });
  };
  if (ir.steps.length === 0) add(undefined, 'the pipeline has no steps');
  const seen = new Set<string>();
  walkSteps(ir.steps, (step) => {
    if (seen.has(step.id)) add(step.id, `duplicate step id "${step.id}": step ids must be unique in a pipeline`);
    seen.add(step.id);
    if (!/^[A-Za-z0-9][\w.-]*$/.test(step.id)) add(step.id, `step id "${step.id}" must be letters, digits, ".", "-" or "_"`);
    checkStep(step, stages, add, options);
  });
  checkReachability(ir.steps, add);
  return issues;
}

function checkStep(step: StepIR, stages: ReadonlyMap<string, AnyStage>, add: (id: string, m: string) => void, options: ValidateOptions): void {
  const path = (p: string | null | undefined, what: string): void => {
    if (typeof p === 'string' && !isValidPath(p)) add(step.id, `bad path "${p}" in ${what}`);
  };
  if ('resultPath' in step) path(step.resultPath, 'resultPath');
  if ('retry' in step && step.retry) checkRetry(step.id, step.retry, add);
  switch (step.kind) {
    case 'task':
      if (!stages.has(step.stage)) {
        add(step.id, `unknown stage "${step.stage}" (registered: ${[...stages.keys()].join(', ') || 'none'})`);
      }
      for (const p of selectionPaths(step.input)) {
        path(p, 'input');
        if (p.startsWith('$$.Map')) add(step.id, `"${p}" is only available in a map's itemSelector (as on Step Functions): select the item or its index there`);
      }
      if (step.timeoutMs !== undefined && !(step.timeoutMs > 0)) add(step.id, 'timeoutMs must be positive');
      break;
    case 'map':
      path(step.items, 'items');
      for (const p of selectionPaths(step.itemSelector)) path(p, 'itemSelector');
      if (step.maxConcurrency !== undefined && !(Number.isInteger(step.maxConcurrency) && step.maxConcurrency >= 0)) {
        add(step.id, 'maxConcurrency must be a whole number >= 0');
      }
      if (step.toleratedFailurePercentage !== undefined && !(step.toleratedFailurePercentage >= 0 && step.toleratedFailurePercentage <= 100)) {
        add(step.id, 'toleratedFailurePercentage must be between 0 and 100');
      }
      if (step.steps.length === 0) add(step.id, 'a map needs at least one step per item');
      break;
    case 'parallel':
      if (step.branches.length === 0) add(step.id, 'a parallel step needs at least one branch');
      break;
    case 'choice':
      if (step.branches.length === 0) add(step.id, 'a choice needs at least one branch');
      for (const b of step.branches) for (const p of predicatePaths(b.when)) path(p, 'predicate');
      break;
    case 'loop':
      if (!(Number.isInteger(step.maxIterations) && step.maxIterations >= 1)) add(step.id, 'maxIterations must be a whole number >= 1');
      for (const p of predicatePaths(step.until)) path(p, 'until');
      break;
    case 'wait':
      if ([step.seconds, step.secondsPath, step.until].filter((v) => v !== undefined).length !== 1) {
        add(step.id, 'a wait needs exactly one of seconds, secondsPath or until');
      }
      path(step.secondsPath, 'secondsPath');
      break;
    case 'approval':
      if (!(step.timeoutSeconds > 0)) add(step.id, 'timeoutSeconds must be positive');
      if (step.reviewer !== undefined && step.reviewerPath !== undefined) {
        add(step.id, `approval gate "${step.gate}" has both reviewer and reviewerPath: give one (a fixed reviewer, or where the state holds it)`);
      }
      path(step.reviewerPath, 'reviewerPath');
      path(step.sectionsPath, 'sectionsPath');
      for (const p of selectionPaths(step.payload)) path(p, 'payload');
      if (options.target === 'stepfunctions-express') {
        add(step.id, `approval gate "${step.gate}" cannot run in an EXPRESS workflow (no task tokens, 5-minute limit): use STANDARD`);
      }
      break;
    default:
      break;
  }
  if ('catch' in step && step.catch) checkCatch(step, step.catch, stages, add);
}

function checkRetry(id: string, retry: RetryPolicy[], add: (id: string, m: string) => void): void {
  retry.forEach((r, i) => {
    if (r.errors.length === 0) add(id, `retrier ${i} lists no errors`);
    if (r.errors.includes(ALL_ERRORS) && (r.errors.length > 1 || i !== retry.length - 1)) {
      add(id, `retrier ${i}: "States.ALL" must be alone in the last retrier`);
    }
    if (r.maxAttempts !== undefined && !(Number.isInteger(r.maxAttempts) && r.maxAttempts >= 0))
      add(id, `retrier ${i}: maxAttempts must be a whole number >= 0`);
    if (r.intervalMs !== undefined && !(r.intervalMs > 0)) add(id, `retrier ${i}: intervalMs must be positive`);
    if (r.backoffRate !== undefined && !(r.backoffRate >= 1)) add(id, `retrier ${i}: backoffRate must be >= 1`);
    if (r.maxDelayMs !== undefined && !(r.maxDelayMs > 0)) add(id, `retrier ${i}: maxDelayMs must be positive`);
  });
}

function checkCatch(step: StepIR, catchers: CatchIR[], stages: ReadonlyMap<string, AnyStage>, add: (id: string, m: string) => void): void {
  const possible = new Set(throwable(step, stages));
  catchers.forEach((c, i) => {
    if (c.errors.includes(ALL_ERRORS) && (c.errors.length > 1 || i !== catchers.length - 1)) {
      add(step.id, `catcher ${i}: "States.ALL" must be alone in the last catcher`);
    }
    for (const code of c.errors) {
      if (!possible.has(code)) {
        add(step.id, `catch of "${code}", which nothing in this step throws (it can throw: ${[...possible].join(', ')}); declare it in the stage's "throws"`);
      }
    }
    if (typeof c.resultPath === 'string' && !isValidPath(c.resultPath)) add(step.id, `bad path "${c.resultPath}" in catch resultPath`);
  });
}

/** Codes a step can fail with after its own retries: what a catch on it may name. */
export function throwable(step: StepIR, stages: ReadonlyMap<string, AnyStage>): string[] {
  switch (step.kind) {
    case 'task': {
      const stage = stages.get(step.stage);
      const retryCodes = (step.retry ?? stage?.retry ?? []).flatMap((r) => r.errors);
      return [...new Set([...TASK_CODES, ...(stage?.throws ?? []), ...retryCodes, ...(stage?.retry ?? []).flatMap((r) => r.errors)])];
    }
    case 'map': {
      const items = step.steps.flatMap((s) => uncaught(s, stages));
      // without a tolerance the first failed item fails the map with its own error; with one, the
      // threshold's error, or a fatal item error whatever the threshold
      if (step.toleratedFailureCount === undefined && step.toleratedFailurePercentage === undefined) {
        return [...new Set(['States.Runtime', ...items, ALL_ERRORS])];
      }
      return [...new Set(['States.ExceedToleratedFailureThreshold', 'States.Runtime', ...items.filter(isFatalCode), ALL_ERRORS])];
    }
    case 'approval':
      return ['ApprovalRejected', 'ApprovalTimedOut', 'States.Runtime', ALL_ERRORS];
    case 'fail':
      return [step.error, ALL_ERRORS];
    default: {
      const codes = new Set<string>(['States.Runtime', ALL_ERRORS]);
      for (const block of childBlocks(step)) for (const s of block) for (const c of uncaught(s, stages)) codes.add(c);
      return [...codes];
    }
  }
}

function uncaught(step: StepIR, stages: ReadonlyMap<string, AnyStage>): string[] {
  const codes = throwable(step, stages);
  const caught = 'catch' in step && step.catch ? step.catch.flatMap((c) => c.errors) : [];
  // States.ALL catches everything but the fatal codes, which only a catcher naming them catches
  return codes.filter((c) => !caught.includes(c) && !(caught.includes(ALL_ERRORS) && !isFatalCode(c)));
}

function checkReachability(steps: StepIR[], add: (id: string, m: string) => void): void {
  const terminal = steps.findIndex((s) => s.kind === 'succeed' || s.kind === 'fail');
  if (terminal >= 0 && terminal < steps.length - 1) {
    for (const s of steps.slice(terminal + 1)) add(s.id, `unreachable step "${s.id}": it follows the ${steps[terminal]!.kind} step "${steps[terminal]!.id}"`);
  }
  for (const s of steps) for (const block of childBlocks(s)) checkReachability(block, add);
}

function predicatePaths(p: Predicate): string[] {
  if ('and' in p) return p.and.flatMap(predicatePaths);
  if ('or' in p) return p.or.flatMap(predicatePaths);
  if ('not' in p) return predicatePaths(p.not);
  return [p.path];
}
