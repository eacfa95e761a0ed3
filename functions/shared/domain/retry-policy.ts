/**
 * When to try a pending recording again. Exponential from 30 s, capped at 1 h, ±25 % jitter; 30
 * attempts spread over about 24 hours before a record is marked `failed`.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 30,
  baseDelayMs: 30_000,
  maxDelayMs: 3_600_000,
};

/** Delay before attempt `attempts + 1`, given that `attempts` have been made (≥ 1). */
export function retryDelayMs(
  attempts: number,
  policy: RetryPolicy,
  random: () => number,
  hintMs?: number,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const delay = Math.max(exponential, Math.min(hintMs ?? 0, policy.maxDelayMs));
  return Math.round(delay * (0.75 + 0.5 * random()));
}
