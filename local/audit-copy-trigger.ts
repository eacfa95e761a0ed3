import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { AUDIT_COPY_FILTER, AUDIT_COPY_TRIGGER } from '../functions/shared/domain/audit-copy.js';
import { startStreamTrigger, type StreamTrigger, type StreamTriggerOptions } from './stream-trigger.js';

/**
 * The audit copy's event source mapping, locally: the same filter, batch size and retries as in AWS
 * (infra/audit-copy.ts), over DynamoDB Local's stream, one batch at a time. s3rver has no Object Lock
 * retention: the local copy is write-once (If-None-Match) but not locked.
 */
export function startAuditCopyTrigger(
  options: Pick<
    StreamTriggerOptions,
    'endpoint' | 'tableName' | 'checkpointFile' | 'onError' | 'onDiscard'
  > & {
    handler: (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>;
  },
): Promise<StreamTrigger> {
  return startStreamTrigger({
    ...options,
    functionName: 'audit-copy',
    filter: AUDIT_COPY_FILTER,
    batchSize: AUDIT_COPY_TRIGGER.batchSize,
    maxRetryAttempts: AUDIT_COPY_TRIGGER.maxRetryAttempts,
    bisectOnError: AUDIT_COPY_TRIGGER.bisectOnError,
    parallelizationFactor: 1,
    maxConcurrency: 1,
    timeoutMs: 60_000,
  });
}
