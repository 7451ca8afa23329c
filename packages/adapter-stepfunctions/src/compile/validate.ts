import { createRequire } from 'node:module';
import type { AslDefinition } from './types.js';

/** The verdict of asl-validator on a definition. */
export interface AslValidation {
  isValid: boolean;
  errors: { message: string; path?: string }[];
  errorsText: string;
}

type Validator = (
  definition: unknown,
  options?: { checkPaths: boolean; checkArn: boolean },
) => {
  isValid: boolean;
  errors: { message?: string; path?: string; Message?: string; 'Error code'?: string }[];
  errorsText: (separator?: string) => string;
};

const require = createRequire(import.meta.url);

/**
 * Validates a definition with asl-validator (on a deep copy: it mutates what it checks). Both
 * checks are passed explicitly, since a partial options object switches the others off.
 * asl-validator does not check `JitterStrategy` or `MaxDelaySeconds` values, nor unknown retrier
 * fields: {@link checkRetriers} does.
 */
export function validateAsl(definition: AslDefinition, options: { checkArn?: boolean } = {}): AslValidation {
  const validator = require('asl-validator') as Validator;
  const result = validator(structuredClone(definition), { checkPaths: true, checkArn: options.checkArn ?? true });
  const errors = [
    ...result.errors.map((e) => ({
      message: e.Message ? `${e['Error code'] ?? 'error'}: ${e.Message}` : (e.message ?? JSON.stringify(e)),
      ...(e.path ? { path: e.path } : {}),
    })),
    ...checkRetriers(definition),
  ];
  return { isValid: errors.length === 0, errors, errorsText: errors.map((e) => `${e.path ?? ''} ${e.message}`.trim()).join('\n') };
}

const RETRIER_FIELDS = new Set(['ErrorEquals', 'IntervalSeconds', 'MaxAttempts', 'BackoffRate', 'MaxDelaySeconds', 'JitterStrategy', 'Comment']);

/** Checks what asl-validator lets through in retriers: unknown fields, jitter values, delay bounds. */
export function checkRetriers(definition: Pick<AslDefinition, 'States'>): { message: string; path: string }[] {
  const out: { message: string; path: string }[] = [];
  const visit = (states: Record<string, Record<string, unknown>>, at: string): void => {
    for (const [name, s] of Object.entries(states)) {
      const retry = (s.Retry as Record<string, unknown>[] | undefined) ?? [];
      retry.forEach((r, i) => {
        const path = `${at}${name}.Retry[${i}]`;
        for (const k of Object.keys(r)) if (!RETRIER_FIELDS.has(k)) out.push({ path, message: `unknown retrier field "${k}"` });
        if (r.JitterStrategy !== undefined && r.JitterStrategy !== 'FULL' && r.JitterStrategy !== 'NONE')
          out.push({ path, message: `JitterStrategy must be FULL or NONE` });
        if (
          r.MaxDelaySeconds !== undefined &&
          !(Number.isInteger(r.MaxDelaySeconds) && (r.MaxDelaySeconds as number) >= 1 && (r.MaxDelaySeconds as number) < 31_622_400)
        ) {
          out.push({ path, message: 'MaxDelaySeconds must be a whole number of seconds in [1, 31622400)' });
        }
        if (r.IntervalSeconds !== undefined && !(Number.isInteger(r.IntervalSeconds) && (r.IntervalSeconds as number) >= 1))
          out.push({ path, message: 'IntervalSeconds must be a whole number >= 1' });
      });
      const proc = s.ItemProcessor as { States: Record<string, Record<string, unknown>> } | undefined;
      if (proc) visit(proc.States, `${at}${name}.`);
      for (const b of (s.Branches as { States: Record<string, Record<string, unknown>> }[] | undefined) ?? []) visit(b.States, `${at}${name}.`);
    }
  };
  visit(definition.States as Record<string, Record<string, unknown>>, '');
  return out;
}
