import type { ReportTemplateInput } from './types.js';

const BASE = `You are writing the section "{{sectionTitle}}" of the report "{{reportTitle}}".
Use only the source excerpts below. Every paragraph must cite the ids of the excerpts it uses
(for example "study-protocol#p4"). Report numbers exactly as the sources give them, with their units.
Other sections of the report, which you may cross-reference by id: {{sections}}.

Source excerpts:
{{excerpts}}

Answer with JSON matching this schema:
{{schema}}`;

const PERCENT = { unit: '%', min: 0, max: 100 };

/**
 * The reference template: a clinical-study-style report (loosely after ICH E3) with nine
 * section types. It is data: prompts, schemas by name, rules and required sources.
 */
export const clinicalStudyReport: ReportTemplateInput = {
  id: 'clinical-study-report',
  version: 1,
  title: 'Clinical Study Report',
  system: 'You write sections of regulated clinical study reports. You are factual, cite every claim, never speculate and answer only with the requested JSON.',
  prohibitedTerms: ['cure', 'miracle', 'guaranteed', 'completely safe'],
  denylist: ['as an ai (language )?model', 'ignore (all )?previous instructions', "i (can(no|')t|am unable to) (help|assist)", '<script', 'lorem ipsum'],
  sections: [
    {
      type: 'synopsis',
      title: 'Synopsis',
      schema: 'narrative',
      prompt: BASE + '\nSummarise the study: design, population, primary endpoint and main result.',
      keywords: ['study', 'randomised', 'primary', 'endpoint', 'patients', 'result'],
      requiredSources: ['study-protocol'],
    },
    {
      type: 'introduction',
      title: 'Introduction',
      schema: 'narrative',
      prompt: BASE + '\nDescribe the disease background and the rationale for the investigational product.',
      keywords: ['background', 'disease', 'rationale', 'hypertension', 'mechanism', 'product'],
      requiredSources: ['investigator-brochure'],
    },
    {
      type: 'objectives',
      title: 'Study Objectives',
      schema: 'narrative',
      prompt: BASE + '\nState the primary and secondary objectives.',
      keywords: ['objective', 'primary', 'secondary', 'evaluate', 'assess'],
      requiredSources: ['study-protocol'],
    },
    {
      type: 'study-design',
      title: 'Investigational Plan and Study Design',
      schema: 'narrative',
      prompt: BASE + '\nDescribe the design, randomisation, blinding, treatment arms and visit schedule.',
      keywords: ['design', 'randomised', 'double-blind', 'placebo', 'arm', 'week', 'visit', 'dose'],
      requiredSources: ['study-protocol'],
    },
    {
      type: 'study-population',
      title: 'Study Population',
      schema: 'metrics',
      prompt: BASE + '\nDescribe enrolment, disposition and baseline characteristics, with figures.',
      keywords: ['enrolled', 'randomised', 'completed', 'discontinued', 'baseline', 'age', 'female', 'participants'],
      requiredSources: ['efficacy-results'],
      rules: { ranges: [PERCENT, { unit: 'years', min: 18, max: 100 }], prohibitedTerms: [], minParagraphs: 1 },
    },
    {
      type: 'efficacy-results',
      title: 'Efficacy Results',
      schema: 'metrics',
      prompt: BASE + '\nReport the primary and secondary efficacy results with their figures and confidence intervals.',
      keywords: ['efficacy', 'reduction', 'mmhg', 'systolic', 'difference', 'confidence', 'p-value', 'responders'],
      requiredSources: ['efficacy-results'],
      rules: { ranges: [PERCENT, { unit: 'mmHg', min: -60, max: 60 }], prohibitedTerms: ['statistically proven'], minParagraphs: 1 },
    },
    {
      type: 'safety-results',
      title: 'Safety Results',
      schema: 'metrics',
      prompt: BASE + '\nReport adverse events, serious adverse events, discontinuations and laboratory findings with figures.',
      keywords: ['adverse', 'event', 'serious', 'headache', 'dizziness', 'discontinued', 'safety', 'laboratory'],
      requiredSources: ['safety-summary'],
      rules: { ranges: [PERCENT], prohibitedTerms: ['no side effects'], minParagraphs: 1 },
    },
    {
      type: 'discussion',
      title: 'Discussion',
      schema: 'narrative',
      prompt: BASE + '\nDiscuss the results against the objectives and the limitations of the study; cross-reference the results sections.',
      keywords: ['limitation', 'consistent', 'effect', 'benefit', 'risk', 'interpretation'],
      requiredSources: [],
    },
    {
      type: 'conclusions',
      title: 'Conclusions',
      schema: 'narrative',
      prompt: BASE + '\nState the conclusions supported by the results, without overstatement.',
      keywords: ['conclusion', 'reduced', 'tolerated', 'primary', 'endpoint', 'met'],
      requiredSources: [],
    },
  ],
};
