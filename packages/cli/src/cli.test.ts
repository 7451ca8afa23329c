import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { baton, batonKilledAfter, workdir } from './test-support/spawn.js';

const TITLES = [
  'Synopsis',
  'Introduction',
  'Study Objectives',
  'Investigational Plan and Study Design',
  'Study Population',
  'Efficacy Results',
  'Safety Results',
  'Discussion',
  'Conclusions',
];
const RUN = ['run', 'report', '--engine', 'local', '--sources', 'sources', '--out', 'out/report'];

async function documentXml(file: string): Promise<string> {
  const zip = await JSZip.loadAsync(readFileSync(file));
  const xml = zip.file('word/document.xml');
  if (!xml) throw new Error('word/document.xml missing');
  return xml.async('string');
}

const runIdOf = (text: string): string => /Run (report-[\w-]+) /.exec(text)?.[1] ?? /run (report-[\w-]+)/.exec(text)![1]!;

describe('baton CLI end to end (built CLI, local engine, offline model)', () => {
  it('runs the report unattended and writes a valid DOCX with every section title and citations, plus Markdown and HTML', async () => {
    const dir = workdir();
    const r = baton(dir, [...RUN, '--auto-approve']);
    expect(r.stderr).toContain('review gate "review" approved automatically (--auto-approve)');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: SUCCEEDED/);
    expect(r.stdout).toContain('sections: total 9, ok 9, failed 0, held 0, repaired 0');
    for (const f of ['report.docx', 'report.md', 'report.html']) {
      expect(existsSync(join(dir, 'out/report', f))).toBe(true);
      expect(r.stdout).toContain(join(dir, 'out/report', f));
    }
    const xml = await documentXml(join(dir, 'out/report/report.docx'));
    for (const t of TITLES) expect(xml).toContain(t);
    expect(xml).toMatch(/\[study-protocol#p\d+\]/);
    expect(xml).toMatch(/\[safety-summary#p\d+\]/);
  });

  it('shows retries and a repaired section when the offline model injects faults', async () => {
    const dir = workdir();
    const r = baton(dir, [...RUN, '--auto-approve', '--faults', 'throttle=synopsis,invalid=objectives']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/sections\[0\]\/generate: ThrottlingException, retry in \d+ ms {2}\[retries 1 ·/);
    expect(r.stderr).toMatch(/sections\[2\]\/validate: FAILED ValidationFailed: section "objectives" failed validation/);
    expect(r.stdout).toMatch(/retries 1, repairs 1,/);
    expect(r.stdout).toContain('sections: total 9, ok 9, failed 0, held 0, repaired 1');
    const status = JSON.parse(baton(dir, ['status', runIdOf(r.stdout), '--json']).stdout) as { retries: { code: string }[]; status: string };
    expect(status.status).toBe('succeeded');
    expect(status.retries.map((x) => x.code)).toEqual(['ThrottlingException']);
  });

  it("--prices puts the run's model cost in the summary and its status; a table without the model, or not JSON, is refused before anything runs", () => {
    const dir = workdir();
    const price = { inputPer1M: 0.8, outputPer1M: 4 };
    writeFileSync(join(dir, 'prices.json'), JSON.stringify({ 'baton-offline-extractive-v1': price }));
    const r = baton(dir, [...RUN, '--auto-approve', '--prices', 'prices.json']);
    expect(r.code, r.stderr).toBe(0);
    const status = JSON.parse(baton(dir, ['status', runIdOf(r.stdout), '--json']).stdout) as {
      attempts: { metrics?: { inputTokens: number; outputTokens: number; cost?: number } }[];
    };
    const priced = status.attempts.filter((a) => (a.metrics?.inputTokens ?? 0) > 0);
    expect(priced.length).toBeGreaterThanOrEqual(9);
    for (const a of priced) expect(a.metrics!.cost).toBeCloseTo((a.metrics!.inputTokens * 0.8 + a.metrics!.outputTokens * 4) / 1e6, 12);
    const total = priced.reduce((sum, a) => sum + a.metrics!.cost!, 0);
    expect(r.stdout).toContain(`, cost $${total.toFixed(4)}`);
    // approve, resume and redrive price the rest of the run as it started: the sidecar keeps the table's file
    const sidecar = JSON.parse(readFileSync(join(dir, '.baton/cli', `${runIdOf(r.stdout)}.json`), 'utf8')) as { prices?: string };
    expect(sidecar.prices).toBe(join(dir, 'prices.json'));
    const other = baton(dir, [...RUN, '--prices', JSON.stringify({ 'another-model': price })]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('the price table has no price for model "baton-offline-extractive-v1"');
    const bad = baton(dir, [...RUN, '--prices', '{nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--prices: not JSON');
  });

  it('reports a bad source file with a typed error, records the failure and keeps every section', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'sources/scan.pdf'), 'this is not a pdf');
    const r = baton(dir, [...RUN, '--auto-approve']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/! ingest\[\d\]\/ingest-file attempt 1: InvalidInput: source "scan.pdf": unreadable PDF: no %PDF header/);
    expect(r.stdout).toContain('sections: total 9, ok 9');
    const md = readFileSync(join(dir, 'out/report/report.md'), 'utf8');
    expect(md).toContain('REJECTED (InvalidInput): source "scan.pdf": unreadable PDF');
  });

  it('fails the run with a clear typed error when no source is usable, and says what to do', () => {
    const dir = workdir();
    const missing = baton(dir, ['run', 'report', '--sources', 'no-such-dir', '--out', 'out']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/baton: cannot read --sources "no-such-dir"/);
    mkdirSync(join(dir, 'bad'));
    writeFileSync(join(dir, 'bad/empty.txt'), '');
    const f = baton(dir, ['run', 'report', '--sources', 'bad', '--out', 'out', '--auto-approve']);
    expect(f.code).toBe(1);
    expect(f.stdout).toMatch(/: FAILED/);
    expect(f.stdout).toContain('error: InvalidInput: no usable source documents: source "empty.txt": empty file (0 bytes)');
    expect(f.stdout).toContain('baton redrive');
  });

  it('without a terminal and without --auto-approve, leaves the run waiting and `baton approve` finishes it', () => {
    const dir = workdir();
    const r = baton(dir, RUN);
    expect(r.code).toBe(4); // waiting for review
    const m = /baton approve (\S+) review --token (\S+)/.exec(r.stderr);
    expect(m).not.toBeNull();
    const [, runId, token] = m!;
    expect(r.stdout).toContain('WAITING');
    expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(false);
    expect(baton(dir, ['status', runId!]).stdout).toContain('waiting for review at gate "review"');
    const wrong = baton(dir, ['approve', runId!, 'review', '--token', 'not-the-token']);
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toMatch(/approve failed: review token rejected/);
    const ok = baton(dir, ['approve', runId!, 'review', '--token', token!, '--reviewer', 'qa', '--comment', 'looks right']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/: SUCCEEDED/);
    expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(true);
    expect(readFileSync(join(dir, 'out/report/report.md'), 'utf8')).toContain('Review: approved by qa (looks right)');
    const again = baton(dir, ['approve', runId!, 'review', '--token', token!]);
    expect(again.code).toBe(8);
    expect(again.stderr).toContain('was already used');
  });

  it('rejecting the gate fails the run with ApprovalRejected', () => {
    const dir = workdir();
    const r = baton(dir, RUN);
    const [, runId, token] = /baton approve (\S+) review --token (\S+)/.exec(r.stderr)!;
    const rej = baton(dir, ['reject', runId!, 'review', '--token', token!, '--comment', 'numbers unclear']);
    expect(rej.code).toBe(1);
    expect(rej.stdout).toContain('error: ApprovalRejected: gate "review" rejected: numbers unclear');
  });

  it('resumes a run killed with SIGKILL without re-running completed steps', async () => {
    const dir = workdir();
    const stderr = await batonKilledAfter(dir, [...RUN, '--auto-approve', '--offline-latency', '400'], /\[plan\] succeeded/);
    const runId = /run (report-[\w-]+) started/.exec(stderr)![1]!;
    const mid = JSON.parse(baton(dir, ['status', runId, '--json']).stdout) as { status: string };
    expect(mid.status).toBe('running');
    const r = baton(dir, ['resume', runId]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/: SUCCEEDED/);
    expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(true);
    const info = JSON.parse(baton(dir, ['status', runId, '--json']).stdout) as { attempts: { stepPath: string }[] };
    const count = (p: string) => info.attempts.filter((a) => a.stepPath === p).length;
    expect(count('plan')).toBe(1);
    expect(count('ingest[0]/ingest-file')).toBe(1);
  });

  it('explains unknown engines, pipelines and commands', () => {
    const dir = workdir();
    const e = baton(dir, ['run', 'report', '--engine', 'nope', '--sources', 'sources']);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain('unknown engine "nope". Known engines: local');
    const p = baton(dir, ['run', 'nope', '--sources', 'sources']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('no pipeline "nope" in "@baton/example-report". Available: report');
    const h = baton(dir, ['run', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('--auto-approve');
    const em = baton(dir, ['run', 'report', '--emulate', 'temporal']);
    expect(em.code).toBe(2);
    expect(em.stderr).toContain("argument 'temporal' is invalid");
    const c = baton(dir, ['frobnicate']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain("unknown command 'frobnicate'");
    const s = baton(dir, ['status', 'report-unknown']);
    expect(s.code).toBe(6); // not found
    expect(s.stderr).toContain('unknown run "report-unknown"');
  });
});

describe('baton redrive', () => {
  it('restarts a failed run from its failed step, reusing every completed step', async () => {
    const { createServer } = await import('node:http');
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const dir = workdir();
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ notify: { kind: 'webhook', url: `http://127.0.0.1:${port}/hook` } }));
    const failed = baton(dir, [...RUN, '--auto-approve', '--input', 'input.json']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/error: ServiceUnavailableException: webhook http:\/\/127\.0\.0\.1:\d+\/hook unreachable/);
    const runId = runIdOf(failed.stdout);
    const received: string[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(port, '127.0.0.1', r));
    try {
      const child = await import('node:child_process');
      const redriven = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const p = child.spawn(process.execPath, [join(import.meta.dirname, '../dist/bin.js'), 'redrive', runId], { cwd: dir });
        let stdout = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.on('exit', (code) => resolve({ code, stdout }));
      });
      expect(redriven.code).toBe(0);
      expect(redriven.stdout).toMatch(/: SUCCEEDED/);
      expect(JSON.parse(received[0]!)).toMatchObject({ type: 'report.completed', runId, sections: { total: 9, ok: 9 } });
      const info = JSON.parse(baton(dir, ['status', runId, '--json']).stdout) as { attempts: { stepPath: string; status: string }[] };
      const byPath = (p: string) => info.attempts.filter((a) => a.stepPath === p);
      expect(byPath('plan')).toHaveLength(1);
      expect(byPath('assemble')).toHaveLength(1);
      expect(byPath('sections[4]/generate')).toHaveLength(1);
      expect(byPath('notify').at(-1)?.status).toBe('succeeded');
      expect(existsSync(join(dir, 'out/report/report.docx'))).toBe(true);
    } finally {
      await new Promise<void>((r) => hook.close(() => r()));
    }
  });
});

describe('baton run in a terminal', () => {
  it('draws progress bars and prompts approve/reject at the review gate (run under a pseudo-terminal with util-linux script)', async () => {
    const { spawn, spawnSync } = await import('node:child_process');
    if (spawnSync('script', ['--version']).status !== 0) throw new Error('this test needs util-linux "script" (Debian: bsdutils, installed by default)');
    const dir = workdir();
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(import.meta.dirname, '../dist/bin.js'))} run report --sources sources --out out/report`;
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    let answered = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        screen += d.toString();
        if (!answered && screen.includes('[a]pprove / [r]eject')) {
          answered = true;
          child.stdin.write('r\nnumbers need a second look\n');
        }
      });
      child.on('exit', resolve);
    });
    const plain = screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(plain).toMatch(/efficacy-results +█+ 4\/4 valid/);
    expect(plain).toContain('Approve gate "review"?');
    expect(plain).toContain('1. Synopsis (synopsis): ok');
    expect(code).toBe(1);
    expect(plain).toContain('error: ApprovalRejected: gate "review" rejected by');
    expect(plain).toContain('numbers need a second look');
  });
});
