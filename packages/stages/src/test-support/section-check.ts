import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckContext } from '../report/rules.js';
import { getReportTemplate } from '../template/registry.js';

/** The rules' context for a section type of the clinical template, with the given source paragraph ids and hosts. */
export function clinicalCheckContext(type: string, paragraphIds: ReadonlySet<string>, sourceHosts?: ReadonlySet<string>): CheckContext {
  const template = getReportTemplate('clinical-study-report');
  const section = template.sections.find((s) => s.type === type);
  if (!section) throw new Error(`no section type ${type}`);
  return {
    task: { sectionId: type, type, title: section.title, template: template.id, contextRefs: [], outputKey: 'k', missingSources: [] },
    template,
    section,
    sectionIndex: template.sections.map((s) => ({ sectionId: s.type, title: s.title })),
    paragraphIds,
    ...(sourceHosts ? { sourceHosts } : {}),
  };
}

/** The safety corpus of `test-corpus/safety/` (written by its generate.mts), with the context its sections are checked in. */
export function loadSafetyCorpus() {
  const dir = join(import.meta.dirname, '..', '..', 'test-corpus', 'safety');
  const load = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
  const sources = load<{ sourceHosts: string[]; paragraphs: { id: string }[] }>('sources.json');
  const paragraphIds = new Set(sources.paragraphs.map((p) => p.id));
  const sourceHosts = new Set(sources.sourceHosts);
  return {
    benign: load<{ id: string; sectionType: string; answer: string }[]>('benign.json'),
    offScript: load<{ id: string; class: string; variant: string; sectionType: string; answer: string }[]>('off-script.json'),
    contextFor: (type: string): CheckContext => clinicalCheckContext(type, paragraphIds, sourceHosts),
  };
}
