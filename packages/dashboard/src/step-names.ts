import type { RunDetail } from '@baton/registry';

/** What map items are called, keyed by the item's path segment (`sections[2]`, `ingest[0]`) or, inside a loop iteration, its full path (`review-rounds@0/rewrite[0]`). */
export type StepNames = ReadonlyMap<string, string>;

const LABEL_KEYS = ['title', 'name', 'heading', 'fileName', 'filename'] as const;

/**
 * Names for a run's map items, so a step reads "sections › Efficacy results" or "ingest ›
 * protocol.pdf" instead of "item 3": section titles from the run's reviews (the section versions
 * kept when a gate opened, or the payload's `task.title`), and, for a map named like an array of the
 * run input (or, failing that, the only input array of the same length), each element's
 * title / name / heading.
 */
export function stepNamesOf(run: RunDetail): StepNames {
  const names = new Map<string, string>();
  for (const review of run.reviews) {
    for (const v of Object.values(review.sectionVersions ?? {})) if (v.index !== undefined && v.title) names.set(`sections[${v.index}]`, v.title);
    const sections = (review.payload as { sections?: unknown } | null)?.sections;
    if (Array.isArray(sections)) {
      sections.forEach((s: unknown, i) => {
        const title = (
          (s as { output?: { task?: { title?: unknown } }; task?: { title?: unknown } } | null)?.output?.task ??
          (s as { task?: { title?: unknown } } | null)?.task
        )?.title;
        if (typeof title === 'string' && !names.has(`sections[${i}]`)) names.set(`sections[${i}]`, title);
      });
    }
  }
  rewriteNames(run, names);
  const counts = new Map<string, number>();
  for (const s of run.steps) {
    // the engines record a map item's inner steps (`ingest[0]/ingest-file`), not always the item itself
    const m = /^([^/[\]]+)\[(\d+)\](?:\/|$)/.exec(s.stepPath);
    if (m) counts.set(m[1]!, Math.max(counts.get(m[1]!) ?? 0, Number(m[2]) + 1));
  }
  const arrays = labelledArrays(run.inputRef);
  for (const [map, count] of counts) {
    const own = arrays.get(map);
    const sameLength = [...arrays.values()].filter((a) => a.length === count);
    const labels = own ?? (sameLength.length === 1 ? sameLength[0] : undefined);
    labels?.forEach((label, i) => {
      if (label && !names.has(`${map}[${i}]`)) names.set(`${map}[${i}]`, label);
    });
  }
  return names;
}

/**
 * A review loop's rewrite: the items of a map in loop iteration `<loop>@i` are the sections the gate
 * of that iteration asks about again (a section sent back is rewritten, then shown again), in the
 * same order. Named by the gate's section titles, keyed by the item's full path
 * (`review-rounds@0/rewrite[0]`), only when the map has exactly as many items as the gate has
 * sections (a section left without a verdict is asked again without a rewrite: then nothing is guessed).
 */
function rewriteNames(run: RunDetail, names: Map<string, string>): void {
  for (const review of run.reviews) {
    const iteration = /^(.*@\d+)\/[^/]+$/.exec(review.stepPath)?.[1];
    const ids = review.sections;
    if (!iteration || !ids?.length) continue;
    const items = new Map<string, number>();
    for (const s of run.steps) {
      if (!s.stepPath.startsWith(`${iteration}/`)) continue;
      const m = /^([^/[\]@]+)\[(\d+)\](?:\/|$)/.exec(s.stepPath.slice(iteration.length + 1));
      if (m) items.set(m[1]!, Math.max(items.get(m[1]!) ?? 0, Number(m[2]) + 1));
    }
    for (const [map, count] of items) {
      if (count !== ids.length) continue;
      ids.forEach((id, i) => names.set(`${iteration}/${map}[${i}]`, review.sectionVersions?.[id]?.title ?? id));
    }
  }
}

/** Top-level arrays of the input whose elements carry a label, by key. */
function labelledArrays(input: unknown): Map<string, (string | undefined)[]> {
  const out = new Map<string, (string | undefined)[]>();
  if (typeof input !== 'object' || input === null) return out;
  for (const [key, value] of Object.entries(input)) {
    if (!Array.isArray(value) || value.length === 0) continue;
    const labels = value.map((v: unknown) => {
      if (typeof v !== 'object' || v === null) return undefined;
      const found = LABEL_KEYS.map((k) => (v as Record<string, unknown>)[k]).find((x) => typeof x === 'string' && x.trim());
      return typeof found === 'string' ? found : undefined;
    });
    if (labels.some((l) => l !== undefined)) out.set(key, labels);
  }
  return out;
}
