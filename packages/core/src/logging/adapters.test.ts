import { Writable } from 'node:stream';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePipeline } from '../builder.js';
import { createLocalEngine } from '../local/engine.js';
import { defineStage } from '../stage.js';
import { fromPino } from './pino.js';
import { fromPowertools } from './powertools.js';

const SECRETS = ['hunter2', 'abc.def.ghi', 'k-123'];

function pinoLines(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level }, stream) };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('fromPino (real pino)', () => {
  it("writes pino's line shape with Baton's bindings and fields, and pino's levels", async () => {
    const { lines, logger } = pinoLines('info');
    const log = fromPino(logger).child({ runId: 'r-1', executionId: 'e-1' }).child({ stepPath: 'sections[1]/generate', attempt: 2 });
    log.debug('hidden');
    log.info('stage started', { stage: 'generate' });
    log.error('failed', { code: 'ThrottlingException' });
    await flush();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 30,
      msg: 'stage started',
      runId: 'r-1',
      executionId: 'e-1',
      stepPath: 'sections[1]/generate',
      attempt: 2,
      stage: 'generate',
    });
    expect(typeof lines[0]!.time).toBe('number');
    expect(lines[1]).toMatchObject({ level: 50, msg: 'failed', code: 'ThrottlingException', attempt: 2 });
  });

  it('redacts secret-looking fields, bindings and credentials inside messages before pino sees them', async () => {
    const { lines, logger } = pinoLines();
    fromPino(logger)
      .child({ apiKey: 'k-123' })
      .warn('connecting to redis://:hunter2@cache:6379', { headers: { Authorization: 'Bearer abc.def.ghi' }, inputTokens: 12 });
    await flush();
    const text = JSON.stringify(lines);
    for (const s of SECRETS) expect(text).not.toContain(s);
    expect(lines[0]).toMatchObject({
      apiKey: '[redacted]',
      headers: { Authorization: '[redacted]' },
      inputTokens: 12,
      msg: 'connecting to redis://:[redacted]@cache:6379',
    });
  });

  it("carries a stage's ctx.log lines on the local engine with runId, stepPath and attempt", async () => {
    const { lines, logger } = pinoLines();
    const say = defineStage({
      name: 'say',
      version: 1,
      input: z.object({}),
      output: z.object({}),
      async run(_i, ctx) {
        ctx.log.info('hello from the stage', { password: 'hunter2' });
        return {};
      },
    });
    const engine = createLocalEngine({ pipelines: [definePipeline({ name: 'say', version: 1 }).task('say', say).build()], logger: fromPino(logger) });
    const { runId } = await engine.start('say', {});
    await engine.result(runId);
    await engine.close();
    await flush();
    expect(lines.find((l) => l.msg === 'hello from the stage')).toMatchObject({ runId, stepPath: 'say', attempt: 1, password: '[redacted]' });
  });
});

describe('fromPowertools (real @aws-lambda-powertools/logger)', () => {
  afterEach(() => vi.restoreAllMocks());

  function powertoolsLines() {
    const lines: Record<string, unknown>[] = [];
    // Powertools writes each line through its own Console: debug and info to stdout, warn and error to stderr
    const capture = (chunk: string | Uint8Array): boolean => {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    return { lines, logger: new PowertoolsLogger({ serviceName: 'stages', logLevel: 'INFO' }) };
  }

  it("writes Powertools' line shape with Baton's bindings as persistent keys of a child", () => {
    const { lines, logger } = powertoolsLines();
    const root = fromPowertools(logger);
    const step = root.child({ runId: 'r-1' }).child({ stepPath: 'plan', attempt: 1 });
    step.debug('hidden');
    step.info('stage started', { stage: 'plan' });
    root.warn('engine line');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'INFO', message: 'stage started', service: 'stages', runId: 'r-1', stepPath: 'plan', attempt: 1, stage: 'plan' });
    expect(lines[1]).toMatchObject({ level: 'WARN', message: 'engine line' });
    expect(lines[1]).not.toHaveProperty('runId');
  });

  it('redacts secrets in fields, bindings and messages', () => {
    const { lines, logger } = powertoolsLines();
    fromPowertools(logger).child({ apiKey: 'k-123' }).error('proxy said authorization: Bearer abc.def.ghi', { password: 'hunter2' });
    const text = JSON.stringify(lines);
    for (const s of SECRETS) expect(text).not.toContain(s);
    expect(lines[0]).toMatchObject({ apiKey: '[redacted]', password: '[redacted]', level: 'ERROR' });
  });
});
