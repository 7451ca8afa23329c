import { describe, expect, it } from 'vitest';
import { reviewLink } from './review-link.js';

describe('reviewLink', () => {
  it('points at the gate page of the run and carries the token, all encoded', () => {
    const link = reviewLink('https://dash.example.com/baton//', { runId: 'run 1', gate: 'final/review', token: 'a+b=c&d' });
    expect(link).toBe('https://dash.example.com/baton/reviews/run%201/final%2Freview?token=a%2Bb%3Dc%26d');
    const url = new URL(link);
    expect(url.searchParams.get('token')).toBe('a+b=c&d');
  });
});
