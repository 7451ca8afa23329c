import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createReviewToken } from '@baton/core/engine';
import { sameHex, sha256Hex } from './sha256.js';

const node = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('sha256Hex (pure JS, for the update validator)', () => {
  it('matches node:crypto on edge lengths, unicode and review tokens', () => {
    const inputs = [
      '',
      'abc',
      'a'.repeat(55),
      'a'.repeat(56),
      'a'.repeat(63),
      'a'.repeat(64),
      'a'.repeat(1000),
      'héllo wörld ✓ 😀',
      randomBytes(40).toString('base64url'),
    ];
    for (const s of inputs) expect(sha256Hex(s), JSON.stringify(s).slice(0, 20)).toBe(node(s));
    for (let i = 0; i < 20; i++) {
      const { token, hash } = createReviewToken();
      expect(sha256Hex(token)).toBe(hash);
    }
  });
  it('sameHex compares whole strings', () => {
    expect(sameHex('abcd', 'abcd')).toBe(true);
    expect(sameHex('abcd', 'abce')).toBe(false);
    expect(sameHex('abcd', 'abc')).toBe(false);
  });
});
