import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { onceUntilFailure } from '../../functions/shared/framework/once.js';
import { remainingTime } from '../../functions/shared/framework/remaining-time.js';

describe('onceUntilFailure', () => {
  it('loads once and shares the value between calls', async () => {
    const load = vi.fn(() => Promise.resolve({ table: 't' }));
    const get = onceUntilFailure(load);
    const [a, b] = await Promise.all([get(), get()]);
    expect(await get()).toBe(a);
    expect(b).toBe(a);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed load: the next call tries again', async () => {
    const load = vi
      .fn<() => Promise<string>>()
      .mockRejectedValueOnce(new Error('throttled'))
      .mockResolvedValue('loaded');
    const get = onceUntilFailure(load);
    await expect(get()).rejects.toThrow('throttled');
    await expect(get()).resolves.toBe('loaded');
    await expect(get()).resolves.toBe('loaded');
    expect(load).toHaveBeenCalledTimes(2);
  });
});

describe('remainingTime', () => {
  afterEach(() => vi.useRealTimers());

  it("reads Lambda's own count, in whole milliseconds", () => {
    let left = 1234.7;
    const context = { getRemainingTimeInMillis: () => left } as unknown as Context;
    const remaining = remainingTime(context, 60_000);
    expect(remaining()).toBe(1234);
    left = 10.2;
    expect(remaining()).toBe(10);
  });

  it('counts down from the fallback when the context has no deadline (local runs)', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const remaining = remainingTime({} as Context, 60_000);
    expect(remaining()).toBe(60_000);
    vi.advanceTimersByTime(15_000);
    expect(remaining()).toBe(45_000);
    expect(remainingTime(undefined, 5_000)()).toBe(5_000);
  });
});
