import { describe, expect, it } from 'vitest';
import { createTestClock, realClock } from './clock.js';

describe('createTestClock', () => {
  it('starts where told and only moves on advance', async () => {
    const clock = createTestClock(1000);
    expect(clock.now()).toBe(1000);
    await clock.advance(250);
    expect(clock.now()).toBe(1250);
  });

  it('fires sleeps in due order, with now() at each due time, and leaves later ones pending', async () => {
    const clock = createTestClock();
    const fired: [string, number][] = [];
    void clock.sleep(300).then(() => fired.push(['c', clock.now()]));
    void clock.sleep(100).then(() => fired.push(['a', clock.now()]));
    void clock.sleep(200).then(() => fired.push(['b', clock.now()]));
    void clock.sleep(1000).then(() => fired.push(['late', clock.now()]));
    expect(clock.pending).toBe(4);
    await clock.advance(500);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 200],
      ['c', 300],
    ]);
    expect(clock.pending).toBe(1);
    expect(clock.now()).toBe(500);
  });

  it('fires a sleep scheduled by a woken sleeper within the same advance', async () => {
    const clock = createTestClock();
    const fired: number[] = [];
    void clock.sleep(100).then(async () => {
      fired.push(clock.now());
      await clock.sleep(100);
      fired.push(clock.now());
    });
    await clock.advance(250);
    expect(fired).toEqual([100, 200]);
  });

  it('treats a negative sleep as due now', async () => {
    const clock = createTestClock(50);
    let done = false;
    void clock.sleep(-10).then(() => (done = true));
    await clock.advance(0);
    expect(done).toBe(true);
  });

  it('rejects on abort and forgets the sleeper', async () => {
    const clock = createTestClock();
    const ctrl = new AbortController();
    const p = clock.sleep(100, ctrl.signal);
    expect(clock.pending).toBe(1);
    ctrl.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(clock.pending).toBe(0);
    const reason = new Error('shutdown');
    await expect(clock.sleep(1, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('aborting a sleep that already fired leaves the other sleepers alone', async () => {
    const clock = createTestClock();
    const ctrl = new AbortController();
    let other = false;
    const first = clock.sleep(10, ctrl.signal);
    void clock.sleep(1000).then(() => (other = true));
    await clock.advance(10);
    await first;
    ctrl.abort();
    expect(clock.pending).toBe(1);
    await clock.advance(1000);
    expect(other).toBe(true);
  });
});

describe('realClock', () => {
  it('sleeps and can be aborted', async () => {
    const before = realClock.now();
    await realClock.sleep(5);
    expect(realClock.now()).toBeGreaterThanOrEqual(before);
    const ctrl = new AbortController();
    const p = realClock.sleep(60_000, ctrl.signal);
    ctrl.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    await expect(realClock.sleep(10, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
});
