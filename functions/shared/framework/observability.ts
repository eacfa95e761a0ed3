import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { installSourceMappedStacks } from './stack-traces.js';

export const SERVICE_NAME = 'vobiz-recording-archive';
export const METRICS_NAMESPACE = 'VobizRecordingArchive';

/**
 * One logger and one metrics instance per function container, created at cold start; in a deployed
 * bundle, stack traces are mapped to the sources when one is formatted (stack-traces.ts).
 */
export function createObservability(functionName: string): { logger: Logger; metrics: Metrics } {
  installSourceMappedStacks();
  const logger = new Logger({ serviceName: SERVICE_NAME, persistentKeys: { function: functionName } });
  // Powertools warns on every invocation that adds no metric (e.g. a rejected request): that is normal here.
  const metricsLogger = {
    debug: (...args: unknown[]) => logger.debug(String(args[0])),
    info: (...args: unknown[]) => logger.info(String(args[0])),
    warn: (...args: unknown[]) => logger.debug(String(args[0])),
    error: (...args: unknown[]) => logger.error(String(args[0])),
  };
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: SERVICE_NAME,
    logger: metricsLogger,
  });
  return { logger, metrics };
}

export { MetricUnit };

/**
 * Business metrics (namespace METRICS_NAMESPACE, dimension `service`). The stack alarms on some of
 * them, so their names are part of the contract between functions/ and infra/.
 */
export const METRIC = {
  /** A recording's audio and metadata were archived. */
  stored: 'RecordingStored',
  /** The bytes of audio those recordings stored in S3 (unit Bytes). */
  bytesStored: 'RecordingBytesStored',
  /** An attempt did not finish; the record stays `pending` and will be retried. */
  deferred: 'RecordingDeferred',
  /** A record ran out of attempts and is now `failed` (alarmed). */
  failed: 'RecordingFailed',
  /** A signed callback was recorded (new, duplicate or retried delivery): answered 200. */
  callbackAccepted: 'CallbackAccepted',
  /** A callback was refused: missing/invalid signature or replayed nonce. */
  signatureRejected: 'SignatureRejected',
  /** Vobiz refused our credentials (401/403): configuration must be fixed (alarmed). */
  vobizAuthFailed: 'VobizAuthFailed',
  /** A call to Vobiz's API got a non-2xx answer, or none; dimension `status` (VOBIZ_ERROR_STATUSES). */
  vobizErrors: 'VobizApiErrors',
  /** Backfill sweep: a recording Vobiz lists but no callback told us about, now enqueued. */
  backfilled: 'RecordingBackfilled',
  /** Re-drive: pending records whose next attempt is overdue by more than a few minutes (alarmed). */
  overduePending: 'OverduePendingRecordings',
  /** Lifecycle: a recording was deleted at Vobiz after its archived copy was verified (204 or 404). */
  deletedAtVobiz: 'RecordingDeletedAtVobiz',
  /** Lifecycle: verification of the archived copy failed, so it was kept at Vobiz (alarmed). */
  vobizDeleteRefused: 'VobizDeleteRefused',
  /** Lifecycle: retention removed a recording's audio (metadata kept). */
  expired: 'RecordingExpired',
  /** Lifecycle: a due recording was left alone because it is on legal hold. */
  skippedHeld: 'LifecycleSkippedHeld',
  /** Lifecycle: a delete at Vobiz or an expiry failed for now and will be retried (alarmed when it persists). */
  lifecycleFailed: 'LifecycleFailed',
  /** Lifecycle: items DynamoDB read in one scheduled run (its cost, bounded by the batch size). */
  lifecycleItemsRead: 'LifecycleItemsRead',
  /** A recording was erased (tombstoned). */
  erased: 'RecordingErased',
  /** A legal hold was placed or released. */
  legalHoldPlaced: 'LegalHoldPlaced',
  legalHoldReleased: 'LegalHoldReleased',
  /** An audit entry was copied to the audit bucket (Object Lock). */
  auditCopied: 'AuditEntryCopied',
  /** An audit entry was changed or removed after its insert: evidence written to the audit bucket (alarmed). */
  auditTampered: 'AuditEntryTampered',
  /** A failed recording was queued again through `POST /recordings/{id}/retry`. */
  retried: 'RecordingRetried',
} as const;

/**
 * The `status` dimension of `VobizApiErrors`: the statuses that mean something different to an
 * operator, every other status by its class, and `network` for no answer (timeout, connection). A
 * fixed set, so the metric's cardinality stays bounded whatever Vobiz answers.
 */
export const VOBIZ_ERROR_STATUSES = ['401', '403', '404', '429', '4xx', '5xx', 'network'] as const;
export type VobizErrorStatus = (typeof VOBIZ_ERROR_STATUSES)[number];

export function vobizErrorStatus(status: number | 'network'): VobizErrorStatus {
  if (status === 'network') return 'network';
  const exact = String(status);
  if ((VOBIZ_ERROR_STATUSES as readonly string[]).includes(exact)) return exact as VobizErrorStatus;
  return status >= 500 ? '5xx' : '4xx';
}

/**
 * The observer a function gives its Vobiz client: counts every failed call by status, and refused
 * credentials apart as well (`VobizAuthFailed` is alarmed).
 */
export function countVobizFailures(metrics: Metrics): (status: number | 'network') => void {
  return (status) => {
    if (status === 401 || status === 403) metrics.addMetric(METRIC.vobizAuthFailed, MetricUnit.Count, 1);
    // Its own dimension set ({service, status}), so it goes out as a metric of its own.
    const single = metrics.singleMetric();
    single.addDimension('status', vobizErrorStatus(status));
    single.addMetric(METRIC.vobizErrors, MetricUnit.Count, 1);
  };
}
