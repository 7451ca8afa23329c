import { describe, expect, it } from 'vitest';
import { createJsonLogger, redact, silentLogger } from './logger.js';

function capture(level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: Record<string, unknown>[] = [];
  const logger = createJsonLogger({
    ...(level ? { level } : {}),
    write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
    bindings: { service: 'baton' },
  });
  return { logger, lines };
}

describe('createJsonLogger', () => {
  it('writes one JSON object per line with level, time, msg and the bindings of every ancestor', () => {
    const { logger, lines } = capture();
    const step = logger.child({ runId: 'run-1', executionId: 'exec-9' }).child({ stepPath: 'sections[2]/generate', attempt: 2 });
    step.info('stage started', { stage: 'generate' });
    step.warn('slow');
    step.error('failed', { code: 'StageFailed' });
    logger.info('engine up');
    expect(lines).toHaveLength(4);
    for (const line of lines.slice(0, 3)) {
      expect(line).toMatchObject({ service: 'baton', runId: 'run-1', executionId: 'exec-9', stepPath: 'sections[2]/generate', attempt: 2 });
      expect(typeof line.time).toBe('string');
      expect(Number.isNaN(Date.parse(line.time as string))).toBe(false);
    }
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['info', 'stage started'],
      ['warn', 'slow'],
      ['error', 'failed'],
      ['info', 'engine up'],
    ]);
    expect(lines[0]!.stage).toBe('generate');
    expect(lines[3]).not.toHaveProperty('runId');
  });

  it('a child binding overrides its parent, and msg cannot be overwritten by a field', () => {
    const { logger, lines } = capture();
    logger.child({ attempt: 1 }).child({ attempt: 2 }).info('real', { msg: 'fake' });
    expect(lines[0]).toMatchObject({ attempt: 2, msg: 'real' });
  });

  it('drops lines below the level', () => {
    const { logger, lines } = capture('warn');
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(lines.map((l) => l.msg)).toEqual(['w', 'e']);
    const all = capture('debug');
    all.logger.debug('d');
    expect(all.lines).toHaveLength(1);
  });

  it('redacts secret-looking fields at any depth, in bindings too', () => {
    const { logger, lines } = capture();
    logger.child({ apiKey: 'k-1' }).info('call', {
      headers: { Authorization: 'Bearer abc', 'x-api-key': 'k-2' },
      password: 'p',
      reviewToken: 't',
      list: [{ clientSecret: 's' }],
      credentials: { id: 'x' },
    });
    const text = JSON.stringify(lines[0]);
    for (const secret of ['k-1', 'Bearer abc', 'k-2', '"p"', '"t"', '"s"', '"x"']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      apiKey: '[redacted]',
      headers: { Authorization: '[redacted]', 'x-api-key': '[redacted]' },
      password: '[redacted]',
      reviewToken: '[redacted]',
    });
  });

  it('keeps token counts: usage metering is not a secret', () => {
    const { logger, lines } = capture();
    logger.info('usage', { inputTokens: 120, outputTokens: 30, maxTokens: 1000, token: 'secret-value' });
    expect(lines[0]).toMatchObject({ inputTokens: 120, outputTokens: 30, maxTokens: 1000, token: '[redacted]' });
  });

  it('writes to stderr by default', () => {
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      writes.push(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      createJsonLogger().info('to stderr');
    } finally {
      process.stderr.write = original;
    }
    expect(writes).toHaveLength(1);
    expect(writes[0]!.endsWith('\n')).toBe(true);
    expect(JSON.parse(writes[0]!)).toMatchObject({ level: 'info', msg: 'to stderr' });
  });
});

describe('redact', () => {
  it('leaves scalars, and truncates (never leaks) what lies past the depth limit', () => {
    expect(redact('token')).toBe('token');
    expect(redact(null)).toBeNull();
    let deep: Record<string, unknown> = { password: 'x' };
    for (let i = 0; i < 12; i++) deep = { d: deep };
    const text = JSON.stringify(redact(deep));
    expect(text).not.toContain('"x"');
    expect(text).toContain('[truncated]');
  });
});

describe('silentLogger', () => {
  it('accepts every call and returns itself as child', () => {
    silentLogger.debug('a');
    silentLogger.info('a');
    silentLogger.warn('a');
    silentLogger.error('a');
    expect(silentLogger.child({ runId: 'x' })).toBe(silentLogger);
  });
});
