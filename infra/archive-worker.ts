import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ARCHIVE_TRIGGER,
  ARCHIVE_TRIGGER_FILTER,
  MAX_PARALLELIZATION_FACTOR,
} from '../functions/shared/domain/archive-trigger.js';
import { ArchiveFunction } from './archive-function.js';
import type { DataStore } from './data-store.js';
import type { StageSettings } from './settings.js';
import type { VobizSecret } from './vobiz-secret.js';

export const ARCHIVE_WORKER_ENTRY = fileURLToPath(
  new URL('../functions/archive-worker/handler.ts', import.meta.url),
);

/** Lambda's maximum: large recordings finish here, not in the re-drive. */
export const ARCHIVE_WORKER_TIMEOUT = Duration.minutes(15);

export interface ArchiveWorkerProps {
  readonly settings: StageSettings;
  readonly store: DataStore;
  readonly vobizSecret: VobizSecret;
}

/**
 * The archive worker, started by the table's stream: the insert of a `pending` record (a callback's or
 * the backfill's) is the enqueue, so no crash between two writes can strand a recorded notification.
 *
 * Concurrency: `archiveConcurrency` is the function's reserved concurrency (a hard cap on invocations,
 * each archiving its batch one recording at a time, so at most that many downloads at Vobiz) and the
 * mapping's parallelization factor (batches per stream shard at once, at most 10). A small table's
 * stream has one shard, so the cap is what is reached; a stream with more shards than
 * archiveConcurrency / 10 is held at the cap by throttling, which the mapping retries.
 */
export class ArchiveWorker extends Construct {
  readonly function: ArchiveFunction;
  /** Where the mapping sends a batch it gave up on (metadata only: the records stay in the table, due). */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ArchiveWorkerProps) {
    super(scope, id);
    const { settings, store, vobizSecret } = props;

    this.function = new ArchiveFunction(this, 'Function', {
      entry: ARCHIVE_WORKER_ENTRY,
      description: 'Archive worker: Retrieve Recording, stream the audio to S3, index it (stream-triggered)',
      timeout: ARCHIVE_WORKER_TIMEOUT,
      // One recording at a time: ~3 parts of 6 MiB in memory; the rest is CPU for hashing and TLS.
      memorySize: 512,
      settings,
      reservedConcurrentExecutions: settings.archiveConcurrency,
    });
    this.function
      .bind('TABLE_NAME', store.table.tableName, (fn) => store.grantTable(fn, 'ingest'))
      .bind('BUCKET_NAME', store.bucket.bucketName, (fn) => store.grantAudio(fn, 'ingest'))
      .bind('VOBIZ_SECRET_ARN', vobizSecret.secretArn, (fn) => vobizSecret.grantRead(fn))
      .bind('VOBIZ_API_BASE_URL', settings.vobizApiBaseUrl)
      .bind('ALLOWED_MEDIA_ORIGINS', settings.allowedMediaOrigins);
    if (settings.maxAttempts !== undefined) this.function.bind('MAX_ATTEMPTS', String(settings.maxAttempts));

    this.deadLetterQueue = addStreamTrigger(this, {
      fn: this.function,
      store,
      settings,
      filter: ARCHIVE_TRIGGER_FILTER,
      trigger: ARCHIVE_TRIGGER,
      parallelizationFactor: Math.min(MAX_PARALLELIZATION_FACTOR, settings.archiveConcurrency),
    });
  }
}

export interface StreamTriggerProps {
  readonly fn: ArchiveFunction;
  readonly store: DataStore;
  readonly settings: StageSettings;
  readonly filter: Record<string, unknown>;
  readonly trigger: {
    readonly batchSize: number;
    readonly maxRetryAttempts: number;
    readonly bisectOnError: boolean;
  };
  readonly parallelizationFactor?: number;
}

/**
 * A function started by the table's stream: a filtered mapping from the oldest record, partial batch
 * failures, bisect, bounded retries, and a dead-letter queue (returned) for the batches it gives up on.
 */
export function addStreamTrigger(scope: Construct, props: StreamTriggerProps): Queue {
  const { fn, store, settings, trigger } = props;
  const deadLetterQueue = new Queue(scope, 'DeadLetterQueue', {
    // SQS-managed keys even with `encryption: kms`: the messages hold shard and sequence numbers only
    // (no item data), and a KMS-encrypted queue would give the function kms:*Encrypt* wildcards.
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: settings.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      "This queue is a stream mapping's on-failure destination (a dead-letter queue itself); its depth is alarmed.",
  });
  // Reading the stream: dynamodb:ListStreams has no resource-level permissions (the mapping's grant).
  Validations.of(fn.role!).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'dynamodb:ListStreams (granted for the stream event source) and, with tracing, the X-Ray writes support no resource-level permissions; every other action is scoped.',
  });
  fn.addEventSource(
    new DynamoEventSource(store.table, {
      startingPosition: StartingPosition.TRIM_HORIZON,
      filters: [FilterCriteria.filter(props.filter)],
      batchSize: trigger.batchSize,
      maxBatchingWindow: Duration.seconds(0),
      ...(props.parallelizationFactor ? { parallelizationFactor: props.parallelizationFactor } : {}),
      reportBatchItemFailures: true,
      bisectBatchOnError: trigger.bisectOnError,
      retryAttempts: trigger.maxRetryAttempts,
      onFailure: new SqsDlq(deadLetterQueue),
    }),
  );
  return deadLetterQueue;
}
