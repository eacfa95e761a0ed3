import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_COPY_FILTER, AUDIT_COPY_TRIGGER } from '../functions/shared/domain/audit-copy.js';
import { ArchiveFunction } from './archive-function.js';
import { addStreamTrigger } from './archive-worker.js';
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

    this.deadLetterQueue = addStreamTrigger(this, {
      fn: this.function,
      store,
      settings,
      filter: AUDIT_COPY_FILTER,
      trigger: AUDIT_COPY_TRIGGER,
    });
  }
}
