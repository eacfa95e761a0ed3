import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { recordHeartbeat } from '../shared/adapters/dynamo-heartbeats.js';
import type { HeartbeatOutcome } from '../shared/domain/heartbeat.js';
import {
  countVobizFailures,
  createObservability,
  METRIC,
  MetricUnit,
} from '../shared/framework/observability.js';
import { onceUntilFailure } from '../shared/framework/once.js';
import { remainingTime } from '../shared/framework/remaining-time.js';
import type { LifecycleItem, LifecycleRunSummary } from '../shared/lifecycle/lifecycle-run.js';
import { loadLifecycleDependencies, type ScheduledLifecycle } from './dependencies.js';

const { logger, metrics } = createObservability('lifecycle');

/** A plain context (local stack, scripts) has no deadline: behave as if this much time were left. */
const DEFAULT_RUN_MS = 4 * 60_000;

/**
 * The scheduled lifecycle run (every 5 minutes in AWS, on an interval in the local stack): verified
 * deletes at Vobiz, retention, and erasures a crashed caller left half done. One summary line per run,
 * one line per recording acted on, and the metrics the stack alarms on.
 */
export function createLifecycleHandler(load: () => Promise<ScheduledLifecycle>) {
  const getDependencies = onceUntilFailure(load);

  async function runLifecycle(_event: unknown, context: Context): Promise<LifecycleRunSummary> {
    const deps = await getDependencies();
    const remainingMs = remainingTime(context, DEFAULT_RUN_MS);
    const heartbeat = (run: { outcome: HeartbeatOutcome; detail: string }) =>
      recordHeartbeat(deps.heartbeats, 'lifecycle', { at: new Date().toISOString(), ...run }, (error) =>
        logger.warn('heartbeat not written', { error }),
      );
    let summary: LifecycleRunSummary;
    try {
      summary = await deps.run({ remainingMs, onItem: logItem });
    } catch (error) {
      await heartbeat({ outcome: 'error', detail: `${(error as Error).name}: ${(error as Error).message}` });
      throw error;
    }
    await heartbeat(lifecycleHeartbeat(summary));
    const { vobiz, expiry } = summary;
    const owed = summary.erasures.vobiz;
    metrics.addMetric(
      METRIC.deletedAtVobiz,
      MetricUnit.Count,
      (vobiz?.deleted ?? 0) + (vobiz?.alreadyAbsent ?? 0) + owed.deleted + owed.alreadyAbsent,
    );
    metrics.addMetric(METRIC.vobizDeleteRefused, MetricUnit.Count, (vobiz?.refused ?? 0) + owed.refused);
    metrics.addMetric(METRIC.expired, MetricUnit.Count, expiry?.expired ?? 0);
    metrics.addMetric(
      METRIC.skippedHeld,
      MetricUnit.Count,
      (vobiz?.skippedHeld ?? 0) + (expiry?.skippedHeld ?? 0) + (expiry?.heldAtS3 ?? 0),
    );
    // Emitted every run, zero included, so the alarm sees recovery and not just silence.
    metrics.addMetric(
      METRIC.lifecycleFailed,
      MetricUnit.Count,
      (vobiz?.deferred ?? 0) +
        (vobiz?.errors ?? 0) +
        owed.deferred +
        owed.errors +
        (expiry?.deferred ?? 0) +
        (expiry?.errors ?? 0) +
        summary.erasures.errors,
    );
    metrics.addMetric(METRIC.lifecycleItemsRead, MetricUnit.Count, summary.itemsRead);
    const trouble =
      (vobiz?.refused ?? 0) +
        (vobiz?.errors ?? 0) +
        owed.refused +
        owed.errors +
        (expiry?.errors ?? 0) +
        summary.erasures.errors >
        0 || (vobiz?.stoppedBy ?? owed.stoppedBy) !== undefined;
    logger[trouble ? 'warn' : 'info']('lifecycle run finished', { ...summary });
    return summary;
  }

  return middy<unknown, LifecycleRunSummary>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(runLifecycle);
}

/** What the lifecycle's heartbeat says: its outcome and a secret-free line of counts or the trouble. */
export function lifecycleHeartbeat(summary: LifecycleRunSummary): {
  outcome: HeartbeatOutcome;
  detail: string;
} {
  const { vobiz, expiry, erasures } = summary;
  const counts =
    `deleted at Vobiz ${(vobiz?.deleted ?? 0) + (vobiz?.alreadyAbsent ?? 0)}, expired ${expiry?.expired ?? 0}, ` +
    `erasures finished ${erasures.finished}`;
  const errors = (vobiz?.errors ?? 0) + (expiry?.errors ?? 0) + erasures.errors;
  if (vobiz?.stoppedBy) return { outcome: 'error', detail: `stopped: ${vobiz.stoppedBy} (${counts})` };
  if (errors > 0) return { outcome: 'error', detail: `${errors} errors (${counts})` };
  return { outcome: 'ok', detail: counts };
}

function logItem(item: LifecycleItem): void {
  const result = item.result;
  const fields: Record<string, unknown> = {
    recording_id: item.recordingId,
    step: item.step,
    result: result.outcome,
  };
  if ('reason' in result) fields.reason = result.reason;
  if ('error' in result && result.error)
    fields.reason = `${result.error.name}: ${result.error.message}`.slice(0, 500);
  if ('verifiedBy' in result) fields.verified_by = result.verifiedBy;
  if ('vobiz' in result) fields.vobiz = result.vobiz;
  if (result.outcome === 'refused' || result.outcome === 'error') logger.error('lifecycle item', fields);
  else if (result.outcome === 'deferred' || result.outcome === 'held_at_s3')
    logger.warn('lifecycle item', fields);
  else logger.info('lifecycle item', fields);
}

export const handler = createLifecycleHandler(() =>
  loadLifecycleDependencies(process.env, countVobizFailures(metrics)),
);
