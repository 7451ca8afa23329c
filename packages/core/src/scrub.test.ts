import { describe, expect, it } from 'vitest';
import { StageError, serializeError } from './errors.js';
import { createJsonLogger } from './ports/logger.js';
import { scrubSecrets } from './scrub.js';

const SECRETS = ['hunter2', 'sess-9f8e7d6c5b4a', 'AKIAIOSFODNN7EXAMPLE', 'sk-proj-abcdefghijklmnop1234', 'c2VjcmV0OnBhc3N3b3Jk', 'tok_live_123456789'];

/** What a proxy that echoes the request's headers answered in issue 15. */
const ECHOING_PROXY = [
  '502 Bad Gateway from upstream; request was: POST /v1/chat/completions',
  'Authorization: Bearer sess-9f8e7d6c5b4a',
  'x-api-key: sk-proj-abcdefghijklmnop1234',
  'Cookie: session_id=sess-9f8e7d6c5b4a; theme=dark',
  'Proxy-Authorization: Basic c2VjcmV0OnBhc3N3b3Jk',
  '{"headers":{"authorization":"Bearer sess-9f8e7d6c5b4a","X-Amz-Security-Token":"tok_live_123456789"}}',
  'upstream redis://default:hunter2@cache.internal:6379/0 url=https://api.example.com/v1?api_key=tok_live_123456789&model=x',
  'credentials AKIAIOSFODNN7EXAMPLE',
].join('\n');

describe('scrubSecrets', () => {
  it('removes every credential of an echoed request and keeps the rest readable', () => {
    const out = scrubSecrets(ECHOING_PROXY);
    for (const s of SECRETS) expect(out).not.toContain(s);
    expect(out).toContain('502 Bad Gateway from upstream');
    expect(out).toContain('redis://default:[redacted]@cache.internal:6379/0');
    expect(out).toContain('model=x');
    expect(out).toContain('theme=dark');
  });

  it('leaves ordinary error texts and usage figures alone', () => {
    for (const text of [
      'ThrottlingException: Rate exceeded',
      'inputTokens: 120, outputTokens: 40',
      'the review token is not valid for gate "editor"',
      'tokenHash: 3f2a',
    ]) {
      expect(scrubSecrets(text)).toBe(text);
    }
  });
});

describe('where errors are recorded', () => {
  it('serializeError scrubs the message and every string of the details', () => {
    const e = new StageError('ServiceUnavailableException', `openai-compatible: HTTP 502: ${ECHOING_PROXY}`, {
      details: { body: ECHOING_PROXY, httpStatus: 502 },
    });
    const text = JSON.stringify(serializeError(e));
    for (const s of SECRETS) expect(text).not.toContain(s);
    expect(serializeError(e)).toMatchObject({ code: 'ServiceUnavailableException', retryable: true, details: { httpStatus: 502 } });
  });

  it('the JSON logger scrubs strings, not only secret-named fields', () => {
    const lines: string[] = [];
    createJsonLogger({ write: (l) => void lines.push(l) }).error('attempt failed', { error: ECHOING_PROXY });
    for (const s of SECRETS) expect(lines[0]).not.toContain(s);
  });
});
