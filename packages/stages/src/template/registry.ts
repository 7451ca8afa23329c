import { StageError } from '@baton/core';
import { clinicalStudyReport } from './clinical.js';
import { ReportTemplate, type ReportTemplateInput } from './types.js';

const templates = new Map<string, ReportTemplate>();

/**
 * Validates a report template and registers it by id, so stages can find it by name in any
 * worker process that imported the module defining it.
 *
 * @example
 * ```ts
 * defineReportTemplate({ id: 'memo', version: 1, title: 'Memo', system: '…', sections: [...] });
 * ```
 */
export function defineReportTemplate(input: ReportTemplateInput): ReportTemplate {
  const template = ReportTemplate.parse(input);
  const types = new Set<string>();
  for (const s of template.sections) {
    if (types.has(s.type)) throw new Error(`template "${template.id}" has two sections of type "${s.type}"`);
    types.add(s.type);
  }
  templates.set(template.id, template);
  return template;
}

/** A registered template, or `InvalidInput` listing the known ones. */
export function getReportTemplate(id: string): ReportTemplate {
  const t = templates.get(id);
  if (!t) throw new StageError('InvalidInput', `unknown report template "${id}"; known: ${[...templates.keys()].join(', ')}`);
  return t;
}

defineReportTemplate(clinicalStudyReport);
