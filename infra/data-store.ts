import { Duration, RemovalPolicy, Validations, type Acknowledgment, type CfnResource } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, Grant, PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  type BucketProps,
  type CfnBucket,
  BucketEncryption,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
  type LifecycleRule,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { STREAM_VIEW_TYPE } from '../functions/shared/domain/archive-trigger.js';
import { AUDIT_PARTITION_PREFIX } from '../functions/shared/domain/audit.js';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../functions/shared/domain/table.js';
import type { LifecycleSettings, StageSettings } from './settings.js';

/** Every object the functions write lives under this prefix (design.md: `recordings/{account}/…`). */
export const AUDIO_PREFIX = 'recordings/';

/**
 * Logical ids of the stateful resources, pinned so that refactoring the construct tree can never make
 * CloudFormation replace (and lose) the archive. A test asserts them.
 */
export const STATEFUL_LOGICAL_IDS = {
  table: 'RecordingsTable',
  bucket: 'RecordingsBucket',
  accessLogsBucket: 'AccessLogsBucket',
  auditBucket: 'AuditBucket',
  key: 'ArchiveKey',
} as const;

/**
 * Exactly what each function may do with the data. `notify` (the webhook) only puts items: the record
 * of a notification and its nonces; `ingest` (the archive worker, the re-drive) records and stores but
 * cannot read audio back or delete anything; `lookup` reads, and puts only audit items (who listened:
 * one per audio link); `retry` (POST /recordings/{id}/retry) reads and updates records and puts only
 * audit items; `lifecycle` (the scheduled run) verifies versions and deletes them (retention,
 * unfinished erasures) but cannot place or lift a legal hold; `lifecycleApi` (holds, erasure) verifies,
 * holds and deletes versions. Only the two lifecycle levels may list a key's versions (`listsVersions`).
 * `auditPutOnly`: PutItem is allowed on `AUDIT#` partition keys only. Nobody may Scan, and nobody may
 * change or delete an audit item (see `grantTable`).
 */
export const ACCESS = {
  notify: {
    table: ['dynamodb:PutItem'],
    audio: [],
    listsVersions: false,
    writesAudit: false,
    auditPutOnly: false,
  },
  ingest: {
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    audio: ['s3:PutObject', 's3:AbortMultipartUpload'],
    listsVersions: false,
    writesAudit: false,
    auditPutOnly: false,
  },
  lookup: {
    table: ['dynamodb:GetItem', 'dynamodb:Query'],
    audio: ['s3:GetObject'],
    listsVersions: false,
    writesAudit: true,
    auditPutOnly: true,
  },
  retry: {
    table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
    audio: [],
    listsVersions: false,
    writesAudit: true,
    auditPutOnly: true,
  },
  lifecycle: {
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    audio: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectLegalHold', 's3:DeleteObjectVersion'],
    listsVersions: true,
    writesAudit: true,
    auditPutOnly: false,
  },
  lifecycleApi: {
    table: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
    audio: [
      's3:GetObject',
      's3:GetObjectVersion',
      's3:GetObjectLegalHold',
      's3:PutObjectLegalHold',
      's3:DeleteObjectVersion',
    ],
    listsVersions: true,
    writesAudit: true,
    auditPutOnly: false,
  },
} as const;

/**
 * Denied on audit items (partition keys `AUDIT#…`) to every role that may write the table: no role can
 * change or delete an audit entry. Roles that never write one may not put one either; the lifecycle
 * roles put them only with `attribute_not_exists` (IAM cannot require a condition expression).
 */
export const AUDIT_IMMUTABLE_ACTIONS = [
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
] as const;
export const AUDIT_PUT_ACTIONS = ['dynamodb:PutItem', 'dynamodb:PartiQLInsert'] as const;

/** What the audit copier may do in the audit bucket: write an object once, and read it back to compare. */
export const AUDIT_COPY_ACTIONS = ['s3:PutObject', 's3:GetObject'] as const;

export type AccessLevel = keyof typeof ACCESS;

export interface DataStoreProps {
  readonly settings: StageSettings;
}

/** The archive's state: the DynamoDB table (index and idempotency), the S3 bucket (audio), an optional KMS key. */
export class DataStore extends Construct {
  readonly table: Table;
  readonly bucket: Bucket;
  readonly accessLogsBucket: Bucket;
  /** The immutable copy of the audit trail (Object Lock, compliance mode; see infra/audit-copy.ts). */
  readonly auditBucket: Bucket;
  /** Customer-managed key when `encryption: kms`; otherwise AWS-owned/S3-managed encryption. */
  readonly key?: Key;

  constructor(scope: Construct, id: string, props: DataStoreProps) {
    super(scope, id);
    const { settings } = props;
    const removalPolicy = settings.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    if (settings.encryption === 'kms') {
      this.key = new Key(this, 'Key', {
        description: `vobiz-recording-archive ${settings.stageName}: audio, index and secrets`,
        enableKeyRotation: true,
        removalPolicy,
        pendingWindow: Duration.days(settings.throwaway ? 7 : 30),
      });
      pin(this.key, STATEFUL_LOGICAL_IDS.key);
    }

    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The insert of a pending record is what starts the archive worker (infra/archive-worker.ts).
      stream: StreamViewType[STREAM_VIEW_TYPE],
      timeToLiveAttribute: TTL_ATTRIBUTE,
      deletionProtection: !settings.throwaway,
      removalPolicy,
      ...(this.key
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.key }
        : { encryption: TableEncryption.AWS_MANAGED }),
    });
    for (const index of Object.values(INDEXES)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      });
    }
    pin(this.table, STATEFUL_LOGICAL_IDS.table);

    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      // Server access log delivery supports SSE-S3 only.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(settings.throwaway ? 7 : 365) }],
      removalPolicy,
      autoDeleteObjects: settings.throwaway,
    });
    pin(this.accessLogsBucket, STATEFUL_LOGICAL_IDS.accessLogsBucket);

    this.bucket = new Bucket(this, 'Bucket', {
      ...this.dataBucketProps('recordings-bucket/'),
      lifecycleRules: lifecycleRules(settings.lifecycle),
      removalPolicy,
      autoDeleteObjects: settings.throwaway,
    });
    // Legal holds are S3 Object Lock legal holds on object versions (no default retention period). Only
    // the nested configuration ("Update requires: No interruption") turns it on for new and existing
    // versioned buckets alike; the top-level ObjectLockEnabled (the L2's `objectLockEnabled`) would make
    // CloudFormation replace a bucket deployed without it. Once on, it can never be switched off.
    (this.bucket.node.defaultChild as CfnBucket).objectLockConfiguration = { objectLockEnabled: 'Enabled' };
    pin(this.bucket, STATEFUL_LOGICAL_IDS.bucket);

    this.auditBucket = new Bucket(this, 'Audit', {
      ...this.dataBucketProps('audit-bucket/'),
      // A new bucket, so Object Lock is on from its creation. Compliance mode: no one, root included,
      // can shorten the retention or delete a locked version before it ends.
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(settings.auditRetentionDays)),
      // A throwaway stage's copies go once unlocked, so the bucket left behind by a destroy empties itself.
      lifecycleRules: settings.throwaway
        ? [
            {
              id: 'expire-unlocked-copies',
              expiration: Duration.days(settings.auditRetentionDays + 1),
              noncurrentVersionExpiration: Duration.days(1),
            },
          ]
        : [],
      // Always retained: locked versions cannot be deleted, so a destroy could not remove it anyway.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Every write must be conditional (If-None-Match: *): an existing copy is never replaced by a newer
    // version, even by a principal that may write to the bucket.
    this.auditBucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyUnconditionalWrites',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.auditBucket.arnForObjects('*')],
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
    pin(this.auditBucket, STATEFUL_LOGICAL_IDS.auditBucket);
  }

  /** What the recordings and audit buckets share: private, TLS only, versioned, encrypted like the table, logged. */
  private dataBucketProps(accessLogsPrefix: string): BucketProps {
    return {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      ...(this.key
        ? { encryption: BucketEncryption.KMS, encryptionKey: this.key, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: accessLogsPrefix,
    };
  }

  /**
   * Grants one function its access level to the table (and its indexes, for lookup). A level that writes
   * gets, in the same call, the denial that keeps audit items unchangeable.
   */
  grantTable(grantee: IGrantable, level: AccessLevel): void {
    const resourceArns =
      level === 'lookup' ? [this.table.tableArn, `${this.table.tableArn}/index/*`] : [this.table.tableArn];
    const access = ACCESS[level];
    Grant.addToPrincipal({ grantee, actions: [...access.table], resourceArns });
    if (access.auditPutOnly) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['dynamodb:PutItem'],
          resources: [this.table.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${AUDIT_PARTITION_PREFIX}*`] },
          },
        }),
      );
    }
    const writes =
      access.auditPutOnly ||
      (access.table as readonly string[]).some(
        (action) => action !== 'dynamodb:GetItem' && action !== 'dynamodb:Query',
      );
    if (writes) {
      const auditKeys = { 'dynamodb:LeadingKeys': [`${AUDIT_PARTITION_PREFIX}*`] };
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          effect: Effect.DENY,
          actions: [...AUDIT_IMMUTABLE_ACTIONS, ...(access.writesAudit ? [] : AUDIT_PUT_ACTIONS)],
          resources: [this.table.tableArn],
          conditions: { 'ForAnyValue:StringLike': auditKeys },
        }),
      );
      // An audit item with the TTL attribute would be deleted by TTL: the roles that put audit items may
      // not put one that carries it (`dynamodb:Attributes` lists a PutItem's attribute names).
      if (ACCESS[level].writesAudit) {
        grantee.grantPrincipal.addToPrincipalPolicy(
          new PolicyStatement({
            effect: Effect.DENY,
            actions: ['dynamodb:PutItem'],
            resources: [this.table.tableArn],
            conditions: {
              'ForAnyValue:StringLike': auditKeys,
              'ForAnyValue:StringEquals': { 'dynamodb:Attributes': [TTL_ATTRIBUTE] },
            },
          }),
        );
      }
    }
    if (level === 'lookup') {
      acknowledgeOn(grantee, {
        id: `AwsSolutions-IAM5[Resource::<${STATEFUL_LOGICAL_IDS.table}.Arn>/index/*]`,
        reason:
          "Query on the table's own secondary indexes (the list routes are served by them); the wildcard covers index names only.",
      });
    }
    this.grantKey(grantee);
  }

  /**
   * Grants one function its access level to the audio objects (under `recordings/` only), and for the
   * lifecycle levels the listing of a key's versions, limited to that prefix.
   */
  grantAudio(grantee: IGrantable, level: Exclude<AccessLevel, 'notify'>): void {
    Grant.addToPrincipal({
      grantee,
      actions: [...ACCESS[level].audio],
      resourceArns: [this.bucket.arnForObjects(`${AUDIO_PREFIX}*`)],
    });
    if (ACCESS[level].listsVersions) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['s3:ListBucketVersions'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${AUDIO_PREFIX}*`] } },
        }),
      );
    }
    acknowledgeOn(grantee, {
      id: `AwsSolutions-IAM5[Resource::<${STATEFUL_LOGICAL_IDS.bucket}.Arn>/${AUDIO_PREFIX}*]`,
      reason:
        'Object keys are per recording (recordings/{account}/{date}/{id}); the wildcard is limited to the audio prefix.',
    });
    this.grantKey(grantee);
  }

  /**
   * The audit copier's access to the audit bucket: write each object once and read it back (to tell a
   * redelivered event from a differing write). Nothing else may write there.
   */
  grantAuditCopy(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: [...AUDIT_COPY_ACTIONS],
      resourceArns: [this.auditBucket.arnForObjects('*')],
    });
    acknowledgeOn(grantee, {
      id: `AwsSolutions-IAM5[Resource::<${STATEFUL_LOGICAL_IDS.auditBucket}.Arn>/*]`,
      reason:
        'One object per audit entry or piece of evidence, keys derived from the entry; the bucket holds nothing else.',
    });
    if (this.key) this.key.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
  }

  /**
   * Every level writes the table (the lookup its who-listened entries), so each may encrypt as well as
   * decrypt (multipart uploads and DynamoDB need Decrypt too). No wildcards.
   */
  private grantKey(grantee: IGrantable): void {
    if (!this.key) return;
    this.key.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey');
  }
}

function lifecycleRules(lifecycle: LifecycleSettings): LifecycleRule[] {
  const transitions = [
    ...(lifecycle.infrequentAccessAfterDays !== undefined
      ? [
          {
            storageClass: StorageClass.INFREQUENT_ACCESS,
            transitionAfter: Duration.days(lifecycle.infrequentAccessAfterDays),
          },
        ]
      : []),
    ...(lifecycle.glacierAfterDays !== undefined
      ? [
          {
            storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL,
            transitionAfter: Duration.days(lifecycle.glacierAfterDays),
          },
        ]
      : []),
  ];
  // No expiration here: retention is the application's (the lifecycle function), so that records never
  // point at audio that S3 removed behind their back.
  return [
    {
      id: 'audio',
      prefix: AUDIO_PREFIX,
      transitions,
      noncurrentVersionExpiration: Duration.days(lifecycle.noncurrentVersionExpireAfterDays),
    },
    // An ingest cut off by its timeout leaves parts behind; the re-drive starts a new upload.
    { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
  ];
}

export function pin(construct: Construct, logicalId: string): void {
  (construct.node.defaultChild as CfnResource).overrideLogicalId(logicalId);
}

/** A finding caused by a grant is acknowledged on the principal (role) that received it. */
function acknowledgeOn(grantee: IGrantable, acknowledgment: Acknowledgment): void {
  const principal = grantee.grantPrincipal;
  if (principal instanceof Construct) Validations.of(principal).acknowledge(acknowledgment);
}
