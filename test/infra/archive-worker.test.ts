import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_TRIGGER_FILTER } from '../../functions/shared/domain/archive-trigger.js';
import { METRIC } from '../../functions/shared/framework/observability.js';
import { buildStack } from './build.js';
import { actionsOf, permissionsOf, resourcesFor, RESOURCE } from './iam.js';

const prod = buildStack('prod');
const small = buildStack('prod', { archiveConcurrency: '3', maxAttempts: '12' });
const kms = buildStack('prod', { encryption: 'kms' });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;

function workerProps(built: typeof prod): Props {
  const fn = built.stack.worker.function;
  return built.template.toJSON().Resources[built.stack.getLogicalId(fn.node.defaultChild as CfnElement)]
    .Properties as Props;
}

/** The worker's stream mapping (the audit copy has its own on the same stream). */
function mapping(built: typeof prod): Props {
  const worker = built.stack.getLogicalId(built.stack.worker.function.node.defaultChild as CfnElement);
  const mappings = Object.values(built.template.findResources('AWS::Lambda::EventSourceMapping')).filter(
    (m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: worker }),
  );
  expect(mappings).toHaveLength(1);
  return mappings[0]!.Properties as Props;
}

const workerPermissions = permissionsOf(prod.template, prod.stack, prod.stack.worker.function);

describe('archive worker function', () => {
  it('runs up to 15 minutes, Node 22 on arm64, with reserved concurrency = archiveConcurrency', () => {
    expect(workerProps(prod)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 900,
      ReservedConcurrentExecutions: 10,
    });
    expect(workerProps(small).ReservedConcurrentExecutions).toBe(3);
  });

  it('is wired to the table, bucket, Vobiz secret, API base URL, media origins and attempts', () => {
    const env = workerProps(prod).Environment.Variables;
    expect(env).toMatchObject({
      TABLE_NAME: { Ref: 'RecordingsTable' },
      BUCKET_NAME: { Ref: 'RecordingsBucket' },
      VOBIZ_SECRET_ARN: { Ref: 'VobizSecret' },
      VOBIZ_API_BASE_URL: 'https://api.vobiz.ai',
      ALLOWED_MEDIA_ORIGINS: 'https://*.vobiz.ai',
    });
    expect(workerProps(small).Environment.Variables.MAX_ATTEMPTS).toBe('12');
    for (const name of Object.keys(env)) expect(name).not.toMatch(/TOKEN|AUTH_ID|PASSWORD/);
  });
});

describe('the stream hand-off', () => {
  it('the table streams new images (the insert of a pending record is the enqueue)', () => {
    const table = prod.template.findResources('AWS::DynamoDB::Table').RecordingsTable!.Properties as Props;
    expect(table.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
  });

  it('maps the stream to the worker with the filter, partial failures, bisect, bounded retries and a DLQ', () => {
    const props = mapping(prod);
    expect(props).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['RecordingsTable', 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      ParallelizationFactor: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } } },
    });
    expect(props.FilterCriteria.Filters).toEqual([{ Pattern: JSON.stringify(ARCHIVE_TRIGGER_FILTER) }]);
    // Fewer than 10 allowed at once: one shard's parallel batches never exceed the reserved concurrency.
    expect(mapping(small).ParallelizationFactor).toBe(3);
  });

  it('keeps the dead-letter queue encrypted, TLS-only, for 14 days, and alarms on its depth', () => {
    for (const built of [prod, kms]) {
      built.template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      const policies = JSON.stringify(built.template.findResources('AWS::SQS::QueuePolicy'));
      expect(policies).toContain('aws:SecureTransport');
    }
    const alarms = Object.values(prod.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as Props,
    );
    expect(alarms.find((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toMatchObject({
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms.find((a) => a.MetricName === 'IteratorAge')).toMatchObject({
      Namespace: 'AWS/Lambda',
      Statistic: 'Maximum',
      Threshold: 600_000,
    });
  });
});

describe('archive worker role: least privilege', () => {
  it('may get, put and update items on the table itself (claim, renew, store), not its indexes', () => {
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'])
      expect(resourcesFor(workerPermissions, action), action).toEqual([RESOURCE.table]);
  });

  it('may read the table stream, send to its DLQ, put audio under recordings/ and read the Vobiz secret', () => {
    const streamArn = JSON.stringify({ 'Fn::GetAtt': ['RecordingsTable', 'StreamArn'] });
    for (const action of ['dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:DescribeStream'])
      expect(resourcesFor(workerPermissions, action), action).toEqual([streamArn]);
    expect(resourcesFor(workerPermissions, 'sqs:SendMessage')).toHaveLength(1);
    expect(resourcesFor(workerPermissions, 's3:PutObject')).toEqual([RESOURCE.audio]);
    expect(resourcesFor(workerPermissions, 's3:AbortMultipartUpload')).toEqual([RESOURCE.audio]);
    expect(resourcesFor(workerPermissions, 'secretsmanager:GetSecretValue')).toEqual([
      JSON.stringify({ Ref: 'VobizSecret' }),
    ]);
  });

  it('cannot read audio back, delete, scan, query or batch anything', () => {
    const actions = actionsOf(workerPermissions);
    for (const forbidden of [
      's3:GetObject',
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:ListBucket',
      'dynamodb:Scan',
      'dynamodb:Query',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:BatchGetItem',
    ]) {
      expect(actions.has(forbidden), forbidden).toBe(false);
    }
  });
});

describe('who writes audio', () => {
  it('the webhook cannot touch S3; the archive worker (and its retries, the re-drive) are the only writers', () => {
    const { stack, template } = prod;
    const functions = {
      webhook: stack.webhook.function,
      worker: stack.worker.function,
      redrive: stack.redrive.function,
      lookup: stack.lookup.function,
    };
    const writers = Object.entries(functions)
      .filter(([, fn]) => actionsOf(permissionsOf(template, stack, fn)).has('s3:PutObject'))
      .map(([name]) => name);
    expect(writers).toEqual(['worker', 'redrive']);
    const webhookActions = [...actionsOf(permissionsOf(template, stack, functions.webhook))];
    expect(webhookActions.filter((action) => action.startsWith('s3:'))).toEqual([]);
  });
});

describe('a rotated or wrong auth token is never silent', () => {
  it('alarms when callbacks are refused and none is accepted, for three periods', () => {
    const alarms = Object.values(prod.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as Props,
    );
    const alarm = alarms.find((a) => JSON.stringify(a.Metrics ?? []).includes(METRIC.signatureRejected));
    expect(alarm).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 0 });
    const metrics = JSON.stringify(alarm!.Metrics);
    expect(metrics).toContain(METRIC.callbackAccepted);
    expect(metrics).toContain('IF(FILL(rejected, 0) > 0 AND FILL(accepted, 0) == 0, 1, 0)');
  });
});
