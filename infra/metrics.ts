import { Duration } from 'aws-cdk-lib';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  METRIC,
  METRICS_NAMESPACE,
  SERVICE_NAME,
  type VobizErrorStatus,
} from '../functions/shared/framework/observability.js';

/**
 * The metrics the alarms and the dashboard both read, defined once: the functions' business metrics
 * (names from functions/shared/framework/observability.ts) and the AWS metrics CDK has no method for.
 */

/** Alarms and dashboard look at 5-minute periods. */
export const PERIOD = Duration.minutes(5);

export type BusinessMetricName = (typeof METRIC)[keyof typeof METRIC];

/** A business metric (namespace VobizRecordingArchive, dimension `service`). */
export function business(
  metricName: BusinessMetricName,
  statistic: 'Sum' | 'Maximum',
  options: Pick<MetricOptions, 'label' | 'color'> = {},
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic,
    period: PERIOD,
    ...options,
  });
}

/** Failed calls to Vobiz with one `status` (the functions' countVobizFailures emits these). */
export function vobizErrors(status: VobizErrorStatus): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: METRIC.vobizErrors,
    dimensionsMap: { service: SERVICE_NAME, status },
    statistic: 'Sum',
    period: PERIOD,
    label: status,
  });
}

/** The age of the oldest stream record a stream-triggered function has not taken yet. */
export function iteratorAge(fn: IFunction): Metric {
  return fn.metric('IteratorAge', { period: PERIOD, statistic: 'Maximum' });
}

/** A function's failed invocations (unhandled errors, timeouts). */
export function functionErrors(fn: IFunction, label?: string): Metric {
  return fn.metricErrors({ period: PERIOD, statistic: 'Sum', label });
}

/** A function's refused invocations (reserved or account concurrency exhausted). */
export function functionThrottles(fn: IFunction, label?: string): Metric {
  return fn.metricThrottles({ period: PERIOD, statistic: 'Sum', label });
}

/** Messages waiting in a dead-letter queue. */
export function queueDepth(queue: IQueue): Metric {
  return queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum' });
}
