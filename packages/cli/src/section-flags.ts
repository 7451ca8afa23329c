import type { SectionVerdict } from '@baton/core';
import { CliError } from './errors.js';

const KINDS = ['approve', 'send-back', 'accept-missing'] as const;

/**
 * Parses one `--section <id>=<verdict>[:<note>]` value into the verdicts gathered so far (for
 * commander's repeatable options). The note is everything after the first `:` following the verdict,
 * so it may hold colons. Refuses, with a message saying the form: a missing `=`, an unknown verdict,
 * a send-back without a note, the same section twice. Whether the section exists and the note's
 * length are the engine's to check (before the token is used).
 *
 * @example
 * ```ts
 * parseSectionFlag('efficacy=send-back:the 10 mg arm is missing', {});
 * // { efficacy: { verdict: 'send-back', note: 'the 10 mg arm is missing' } }
 * ```
 */
export function parseSectionFlag(value: string, previous: Record<string, SectionVerdict> = {}): Record<string, SectionVerdict> {
  const eq = value.indexOf('=');
  const id = eq < 0 ? '' : value.slice(0, eq).trim();
  if (!id)
    throw new CliError(
      `--section "${value}": write <section id>=approve|send-back|accept-missing[:note], e.g. --section efficacy=send-back:"add the 10 mg arm"`,
    );
  const rest = value.slice(eq + 1);
  const colon = rest.indexOf(':');
  const kind = (colon < 0 ? rest : rest.slice(0, colon)).trim();
  const note = colon < 0 ? '' : rest.slice(colon + 1).trim();
  if (!(KINDS as readonly string[]).includes(kind)) throw new CliError(`--section ${id}: "${kind}" is not a verdict; use approve, send-back or accept-missing`);
  if (kind === 'send-back' && !note)
    throw new CliError(`--section ${id}=send-back needs a note saying what to change: --section ${id}=send-back:"<what to change>"`);
  if (id in previous) throw new CliError(`--section ${id} is given twice; give each section one verdict`);
  return { ...previous, [id]: { verdict: kind as SectionVerdict['verdict'], ...(note ? { note } : {}) } };
}
