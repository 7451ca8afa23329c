import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { copyUnbundled, unbundledPackageDir } from './unbundled.js';

const entry = fileURLToPath(import.meta.url);

describe("a stage's unbundled packages (shipped beside its function's bundle)", () => {
  it('finds the package root as the entry resolves it, and the hook copies it into node_modules', () => {
    const dir = unbundledPackageDir(entry, 'unpdf', 'ingest');
    expect((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string }).name).toBe('unpdf');
    const out = mkdtempSync(join(tmpdir(), "baton-asset-'quoted' "));
    const commands = copyUnbundled([{ name: 'unpdf', dir }]).afterBundling('/in', out);
    for (const c of commands) execSync(c, { shell: '/bin/sh' });
    expect(existsSync(join(out, 'node_modules/unpdf/dist/pdfjs.mjs'))).toBe(true);
  });

  it('refuses a package that cannot be found, or one with dependencies of its own, naming the stage', () => {
    expect(() => unbundledPackageDir(entry, 'no-such-package-baton', 'ingest')).toThrow(
      /stage "ingest": its unbundled package "no-such-package-baton" cannot be found/,
    );
    expect(() => unbundledPackageDir(entry, 'pg', 'store')).toThrow(/stage "store": its unbundled package "pg" has dependencies \(.*pg-pool.*\)/);
  });
});
