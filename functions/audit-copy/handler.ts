import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createS3Client } from '../shared/adapters/aws-clients.js';
import { AUDIT_COPY_ENV } from './config.js';
import { S3WriteOnce } from '../shared/adapters/s3-write-once.js';
import { auditEventOf, copyAuditEvent, type WriteOnceStore } from '../shared/audit/copy-audit-event.js';
import { createObservability, METRIC, MetricUnit } from '../shared/framework/observability.js';

const { logger, metrics } = createObservability('audit-copy');

/**
 * Copies every change to an audit item from the table's stream into the audit bucket (Object Lock,
 * compliance mode): inserts as the entries, anything after as evidence of tampering (alarmed). A record
 * that cannot be written is handed back from there on (ReportBatchItemFailures); after the mapping's
 * retries its batch goes to the dead-letter queue (alarmed).
 */
export function createAuditCopyHandler(store: () => WriteOnceStore) {
  async function copyBatch(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const failures: DynamoDBBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records ?? []) {
      const sequence = record.dynamodb?.SequenceNumber ?? '';
      if (failures.length > 0) {
        failures.push({ itemIdentifier: sequence });
        continue;
      }
      const audit = auditEventOf(record);
      if (!audit) {
        logger.error('stream record without audit keys: skipped', { event_id: record.eventID });
        continue;
      }
      try {
        const result = await copyAuditEvent(audit, store());
        if (result.outcome === 'tampering') {
          metrics.addMetric(METRIC.auditTampered, MetricUnit.Count, 1);
          logger.error('audit entry changed after it was written: evidence kept', {
            event: result.event,
            key: result.key,
          });
        } else if (result.outcome === 'copied') metrics.addMetric(METRIC.auditCopied, MetricUnit.Count, 1);
      } catch (error) {
        logger.error('audit copy failed: handed back to the trigger', { error: error as Error });
        failures.push({ itemIdentifier: sequence });
      }
    }
    return { batchItemFailures: failures };
  }

  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .handler(copyBatch);
}

let s3Store: WriteOnceStore | undefined;

export const handler = createAuditCopyHandler(() => {
  const bucket = AUDIT_COPY_ENV.AUDIT_BUCKET_NAME.read(process.env);
  return (s3Store ??= new S3WriteOnce(createS3Client(), bucket));
});
