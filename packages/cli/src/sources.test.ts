import { createHostileSourceCorpus } from '@baton/stages';
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baton, workdir } from './test-support/spawn.js';

/** Every file under `dir` (recursive), with its content. */
const files = (dir: string): string[] =>
  (readdirSync(dir, { recursive: true, withFileTypes: true }) as { isFile(): boolean; parentPath: string; name: string }[])
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));

describe('baton run --sources with hostile entries (built CLI, local engine)', () => {
  it('a symlink to /etc/passwd, a dangling symlink and a dot-file are per-file failures naming the file and the reason; the run goes on with the good files', () => {
    const dir = workdir();
    const passwd = readFileSync('/etc/passwd', 'utf8');
    symlinkSync('/etc/passwd', join(dir, 'sources/passwd.txt'));
    symlinkSync('gone.md', join(dir, 'sources/dangling.md'));
    writeFileSync(join(dir, 'sources/.notes.md'), '# Hidden\n\nNot a source.');
    const r = baton(dir, ['run', 'report', '--engine', 'local', '--sources', 'sources', '--out', 'out', '--auto-approve']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: SUCCEEDED/);
    expect(r.stdout).toContain('sections: total 9, ok 9');
    expect(r.stdout).toMatch(
      /! ingest\[\d\]\/ingest-file attempt 1: InvalidInput: source "passwd.txt": symbolic link to "\/etc\/passwd", outside the sources directory: not followed/,
    );
    expect(r.stdout).toMatch(
      /! ingest\[\d\]\/ingest-file attempt 1: InvalidInput: source "dangling.md": dangling symbolic link to "gone.md" \(nothing there\)/,
    );
    expect(r.stdout).toMatch(
      /! ingest\[\d\]\/ingest-file attempt 1: InvalidInput: source ".notes.md": hidden file \(the name starts with "."\): not read as a source/,
    );
    const md = readFileSync(join(dir, 'out/report.md'), 'utf8');
    for (const name of ['passwd.txt', 'dangling.md', '.notes.md']) expect(md).toContain(`REJECTED (InvalidInput): source "${name}"`);
    // nothing of /etc/passwd reached the blob store or the report
    const firstLine = passwd.split('\n')[0]!;
    for (const f of files(join(dir, '.baton/blobs'))) expect(readFileSync(f, 'utf8').includes(firstLine), f).toBe(false);
    expect(md).not.toContain(firstLine);
  });

  it('zip bombs and deep HTML among the sources fail alone', () => {
    const dir = workdir();
    // built here, not committed: 200 MB of zeros declared in ~200 KB, and the rest of the corpus
    for (const c of createHostileSourceCorpus()) writeFileSync(join(dir, 'sources', c.name), c.bytes);
    const r = baton(dir, ['run', 'report', '--engine', 'local', '--sources', 'sources', '--out', 'out', '--auto-approve']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/InvalidInput: source "bomb-200mb.docx": zip content declares \d+ bytes inflated, over the limit of 52428800 bytes/);
    expect(r.stdout).toMatch(/InvalidInput: source "deep.html": HTML nested more than 256 elements deep/);
    expect(r.stdout).toContain('sections: total 9, ok 9');
  });
});
