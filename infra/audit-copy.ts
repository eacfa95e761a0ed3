import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_COPY_FILTER, AUDIT_COPY_TRIGGER } from '../functions/shared/domain/audit-copy.js';
import { ArchiveFunction } from './archive-function.js';
import type { DataStore } from './data-store.js';
import type { StageSettings } from './settings.js';

export const AUDIT_COPY_ENTRY = fileURLToPath(new URL('../functions/audit-copy/handler.ts', import.meta.url));

export interface AuditCopyProps {
  readonly settings: StageSettings;
  readonly store: DataStore;
}

/**
 * The tamper-evident audit trail: a function on its own stream mapping (filtered to `AUDIT#` items,
 * every event) copies each entry into the audit bucket, where S3 Object Lock keeps it unchanged for
 * `auditRetentionDays`; a change or removal of an entry afterwards is kept there as evidence and alarmed.
 * Its role reads the stream and writes (once) and reads that bucket; it has no access to the table's items.
 */
export class AuditCopy extends Construct {
  readonly function: ArchiveFunction;
  /** Where the mapping sends a batch it gave up on (shard and sequence numbers only; alarmed). */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: AuditCopyProps) {
    super(scope, id);
    const { settings, store } = props;

    this.function = new ArchiveFunction(this, 'Function', {
      entry: AUDIT_COPY_ENTRY,
      description: 'Audit copy: every audit entry into the Object Lock bucket (stream-triggered)',
      timeout: Duration.minutes(1),
      memorySize: 256,
      settings,
    });
    this.function.bind('AUDIT_BUCKET_NAME', store.auditBucket.bucketName, (fn) => store.grantAuditCopy(fn));

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      // Shard and sequence numbers only: no audit content, so SQS-managed keys are enough.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: settings.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is the audit stream mapping's on-failure destination (a dead-letter queue itself); its depth is alarmed.",
    });
    Validations.of(this.function.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'dynamodb:ListStreams (granted for the stream event source) and, with tracing, the X-Ray writes support no resource-level permissions; every other action is scoped.',
    });
    this.function.addEventSource(
      new DynamoEventSource(store.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        filters: [FilterCriteria.filter(AUDIT_COPY_FILTER)],
        batchSize: AUDIT_COPY_TRIGGER.batchSize,
        maxBatchingWindow: Duration.seconds(0),
        reportBatchItemFailures: true,
        bisectBatchOnError: AUDIT_COPY_TRIGGER.bisectOnError,
        retryAttempts: AUDIT_COPY_TRIGGER.maxRetryAttempts,
        onFailure: new SqsDlq(this.deadLetterQueue),
      }),
    );
  }
}
