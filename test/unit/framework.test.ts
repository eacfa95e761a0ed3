import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  countVobizFailures,
  createObservability,
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAME,
  VOBIZ_ERROR_STATUSES,
  vobizErrorStatus,
} from '../../functions/shared/framework/observability.js';
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

describe('Vobiz failures as metrics', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('buckets statuses into a fixed set: the telling ones, the class of the rest, and network', () => {
    expect([401, 403, 404, 429, 400, 418, 500, 503, 'network' as const].map(vobizErrorStatus)).toEqual([
      '401',
      '403',
      '404',
      '429',
      '4xx',
      '4xx',
      '5xx',
      '5xx',
      'network',
    ]);
    expect(VOBIZ_ERROR_STATUSES).toEqual(['401', '403', '404', '429', '4xx', '5xx', 'network']);
  });

  it('emits VobizApiErrors with a status dimension beside service, and VobizAuthFailed for 401/403', () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    const { metrics } = createObservability('test');
    const count = countVobizFailures(metrics);
    count(503);
    count(401);
    metrics.publishStoredMetrics();
    const emitted = lines.map(
      (line) =>
        JSON.parse(line) as {
          _aws: {
            CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
          };
          [key: string]: unknown;
        },
    );
    const errors = emitted.filter((e) => e[METRIC.vobizErrors] !== undefined);
    expect(errors.map((e) => e.status)).toEqual(['5xx', '401']);
    for (const e of errors) {
      expect(e.service).toBe(SERVICE_NAME);
      expect(e._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [expect.arrayContaining(['service', 'status'])],
      });
      expect(e._aws.CloudWatchMetrics[0]!.Dimensions[0]).toHaveLength(2);
    }
    const auth = emitted.filter((e) => e[METRIC.vobizAuthFailed] !== undefined);
    expect(auth).toHaveLength(1);
    expect(auth[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['service']]);
  });
});
