import type { Context } from 'aws-lambda';

/**
 * The time an invocation has left, in whole milliseconds: Lambda's own count, or (a context without
 * one: local runs, tests) what is left of `fallbackMs` from now.
 */
export function remainingTime(context: Context | undefined, fallbackMs: number): () => number {
  const fallbackDeadline = Date.now() + fallbackMs;
  return () =>
    Math.floor(
      typeof context?.getRemainingTimeInMillis === 'function'
        ? context.getRemainingTimeInMillis()
        : fallbackDeadline - Date.now(),
    );
}
