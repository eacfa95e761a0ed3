import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'vobiz-recording-archive';
export const METRICS_NAMESPACE = 'VobizRecordingArchive';

/** One logger and one metrics instance per function container, created at cold start. */
export function createObservability(functionName: string): { logger: Logger; metrics: Metrics } {
  const logger = new Logger({ serviceName: SERVICE_NAME, persistentKeys: { function: functionName } });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  return { logger, metrics };
}

export { MetricUnit };
