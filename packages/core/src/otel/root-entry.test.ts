import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = dirname(dirname(fileURLToPath(import.meta.url)));

// every module specifier the files reachable from `entry` import at run time (type-only imports are erased)
function runtimeImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else external.add(spec);
    }
  };
  visit(entry);
  return external;
}

describe('entries and optional peers', () => {
  it('the root entry loads none of OpenTelemetry, pino or Powertools; the otel entry loads only the API', () => {
    const root = [...runtimeImports(join(src, 'index.ts'))];
    expect(root.filter((s) => /opentelemetry|pino|powertools/.test(s))).toEqual([]);
    expect(root).toContain('zod');
    const otel = [...runtimeImports(join(src, 'otel/index.ts'))].filter((s) => !s.startsWith('node:'));
    expect(otel).toEqual(['@opentelemetry/api']);
  });
});
