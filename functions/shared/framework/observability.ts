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
  stored: 'RecordingStored',
  bytesStored: 'RecordingBytesStored',
  deferred: 'RecordingDeferred',
  failed: 'RecordingFailed',
  callbackAccepted: 'CallbackAccepted',
  signatureRejected: 'SignatureRejected',
  vobizAuthFailed: 'VobizAuthFailed',
  vobizErrors: 'VobizApiErrors',
  backfilled: 'RecordingBackfilled',
  overduePending: 'OverduePendingRecordings',
  deletedAtVobiz: 'RecordingDeletedAtVobiz',
  vobizDeleteRefused: 'VobizDeleteRefused',
  expired: 'RecordingExpired',
  skippedHeld: 'LifecycleSkippedHeld',
  lifecycleFailed: 'LifecycleFailed',
  lifecycleItemsRead: 'LifecycleItemsRead',
  erased: 'RecordingErased',
  legalHoldPlaced: 'LegalHoldPlaced',
  legalHoldReleased: 'LegalHoldReleased',
  auditCopied: 'AuditEntryCopied',
  auditTampered: 'AuditEntryTampered',
  retried: 'RecordingRetried',
} as const;

/**
 * The `status` dimension of `VobizApiErrors`: the statuses that mean something different to an
 * operator, every other status by its class, and `network` for no answer (timeout, connection). A
 * fixed set, so the metric's cardinality stays bounded whatever Vobiz answers.
 */
export const VOBIZ_ERROR_STATUSES = ['401', '403', '404', '429', '4xx', '5xx', 'network'] as const;
export type VobizErrorStatus = (typeof VOBIZ_ERROR_STATUSES)[number];

/** When each business metric is emitted (Markdown; docs/reference/alarms.md is generated from it). */
export const METRIC_EMITTED_WHEN: Record<keyof typeof METRIC, string> = {
  callbackAccepted: 'a signed callback was recorded (new, duplicate or retried delivery): answered 200',
  signatureRejected: 'a callback was refused: missing or invalid signature, or a replayed nonce',
  stored: "a recording's audio and metadata were archived",
  bytesStored:
    'the bytes of audio an archived recording stored in S3 (unit Bytes), from the archive worker and the re-drive',
  deferred: 'an attempt did not finish; the record stays `pending` and is retried',
  failed: 'a record ran out of attempts and is now `failed`',
  vobizAuthFailed: 'Vobiz refused our credentials (401/403), in any call',
  vobizErrors:
    "a call to Vobiz's API got an answer other than 2xx, or none; dimensions `service` and `status` (" +
    VOBIZ_ERROR_STATUSES.map((status) => `\`${status}\``).join(', ') +
    ': a fixed set). A `404` to a delete (already gone) is not counted; each retry attempt counts; 401 and 403 also count in `VobizAuthFailed`',
  backfilled: 'the backfill sweep enqueued a recording no callback announced',
  overduePending: 'every re-drive run, zero included: pending records more than 5 minutes past due',
  deletedAtVobiz: 'the lifecycle deleted a recording at Vobiz after verifying the copy (204 or 404)',
  vobizDeleteRefused: 'verification of the archived copy failed, so it was kept at Vobiz',
  expired: "retention removed a recording's audio (metadata kept)",
  skippedHeld: 'a due recording was left alone because it is on legal hold',
  lifecycleFailed: 'a delete at Vobiz or an expiry failed for now and will be retried',
  lifecycleItemsRead:
    'per scheduled lifecycle run: items DynamoDB read (its cost, bounded by the batch size)',
  erased: 'a recording was erased (tombstoned)',
  legalHoldPlaced: 'a legal hold was placed',
  legalHoldReleased: 'a legal hold was released',
  auditCopied: 'an audit entry was copied to the audit bucket (Object Lock)',
  auditTampered:
    'an audit entry was changed or removed after it was written: evidence kept under `tampering/` in the audit bucket',
  retried: 'a failed recording was queued again through `POST /recordings/{recording_id}/retry`',
};

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
