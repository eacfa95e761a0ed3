import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { recordHeartbeat } from '../shared/adapters/dynamo-heartbeats.js';
import type { HeartbeatOutcome } from '../shared/domain/heartbeat.js';
import { onceUntilFailure } from '../shared/framework/once.js';
import { remainingTime } from '../shared/framework/remaining-time.js';
import {
  countVobizFailures,
  createObservability,
  METRIC,
  MetricUnit,
} from '../shared/framework/observability.js';
import type { SweepSummary } from '../shared/recovery/backfill-sweep.js';
import type { RedriveItemResult, RedriveSummary } from '../shared/recovery/redrive.js';
import { loadRedriveDependencies, type RedriveDependencies } from './dependencies.js';

const { logger, metrics } = createObservability('redrive');

/** The sweep may use at most this share of a run (and this long), the rest is for archiving. */
const SWEEP_SHARE = 0.25;
const SWEEP_MAX_MS = 2 * 60_000;
/** Pages one scheduled sweep may read: 5,000 recordings in the lookback window. Beyond, the history backfill is the tool. */
const SWEEP_MAX_PAGES = 50;
/** A plain context (local stack, scripts) has no deadline: behave as if this much time were left. */
const DEFAULT_RUN_MS = 5 * 60_000;

export interface RecoveryRunSummary {
  sweep?: Omit<SweepSummary, 'enqueuedIds'>;
  redrive: RedriveSummary;
}

export function createRedriveHandler(load: () => Promise<RedriveDependencies>) {
  const getDependencies = onceUntilFailure(load);

  async function recover(_event: unknown, context: Context): Promise<RecoveryRunSummary> {
    const deps = await getDependencies();
    const remainingMs = remainingTime(context, DEFAULT_RUN_MS);

    const sweep = deps.settings.backfillLookbackMinutes > 0 ? await runSweep(deps, remainingMs()) : undefined;
    await recordHeartbeat(
      deps.heartbeats,
      'backfill-sweep',
      { at: new Date(deps.clock.nowMs()).toISOString(), ...sweepHeartbeat(sweep) },
      (error) => logger.warn('heartbeat not written', { error }),
    );
    const redrive = await deps.redrive({ remainingMs, onItem: logItem });

    metrics.addMetric(METRIC.stored, MetricUnit.Count, redrive.stored);
    metrics.addMetric(METRIC.bytesStored, MetricUnit.Bytes, redrive.bytesStored);
    metrics.addMetric(METRIC.deferred, MetricUnit.Count, redrive.deferred);
    metrics.addMetric(METRIC.failed, MetricUnit.Count, redrive.failed);
    // Emitted on every run, zero included, so the alarm sees "caught up" and not just silence.
    metrics.addMetric(METRIC.overduePending, MetricUnit.Count, redrive.overdue);
    const level = redrive.errors > 0 || redrive.overdue > 0 ? 'warn' : 'info';
    logger[level]('re-drive run finished', { ...redrive });
    return { sweep, redrive };
  }

  return middy<unknown, RecoveryRunSummary>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(recover);
}

async function runSweep(
  deps: RedriveDependencies,
  remainingMs: number,
): Promise<RecoveryRunSummary['sweep']> {
  const nowMs = deps.clock.nowMs();
  const budgetMs = Math.max(1_000, Math.floor(Math.min(SWEEP_MAX_MS, remainingMs * SWEEP_SHARE)));
  const { enqueuedIds, ...summary } = await deps.sweep({
    sinceMs: nowMs - deps.settings.backfillLookbackMinutes * 60_000,
    untilMs: nowMs - deps.settings.backfillMinAgeMinutes * 60_000,
    maxPages: SWEEP_MAX_PAGES,
    signal: AbortSignal.timeout(budgetMs),
  });
  if (summary.enqueued > 0) metrics.addMetric(METRIC.backfilled, MetricUnit.Count, summary.enqueued);
  const trouble = summary.stoppedBy === 'error' || summary.malformed > 0 || summary.errors > 0;
  // A recording found by the sweep means its callback never arrived: worth a look at the webhook setup.
  logger[trouble || summary.enqueued > 0 ? 'warn' : 'info']('backfill sweep finished', {
    ...summary,
    enqueued_ids: enqueuedIds.slice(0, 20),
  });
  return summary;
}

/** What the sweep's heartbeat says: its outcome and a secret-free line of counts or the error. */
export function sweepHeartbeat(sweep: RecoveryRunSummary['sweep']): {
  outcome: HeartbeatOutcome;
  detail: string;
} {
  if (!sweep) return { outcome: 'off', detail: 'BACKFILL_LOOKBACK_MINUTES is 0' };
  const counts = `${sweep.pages} pages, found ${sweep.found}, enqueued ${sweep.enqueued}`;
  if (sweep.stoppedBy === 'error')
    return { outcome: 'error', detail: `${sweep.error ?? 'stopped by an error'} (${counts})` };
  if (sweep.errors > 0)
    return { outcome: 'error', detail: `${sweep.errors} enqueue writes failed (${counts})` };
  return { outcome: 'ok', detail: `${counts}${sweep.stoppedBy ? `, stopped: ${sweep.stoppedBy}` : ''}` };
}

function logItem(item: RedriveItemResult): void {
  const fields = {
    recording_id: item.recordingId,
    result: item.result,
    attempts: item.attempts,
    next_attempt_at: item.nextAttemptAt,
    reason: item.error ? `${item.error.name}: ${item.error.message}`.slice(0, 500) : undefined,
  };
  if (item.result === 'failed' || item.result === 'error' || item.error?.name === 'VobizAuthError')
    logger.error('re-drive item', fields);
  else if (item.result === 'pending') logger.warn('re-drive item', fields);
  else logger.info('re-drive item', fields);
}

export const handler = createRedriveHandler(() =>
  // Every failed call to Vobiz counts, the sweep's List calls included: a rotated token must not be silent.
  loadRedriveDependencies(process.env, countVobizFailures(metrics)),
);
