import type { CfnElement } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { AUDIT_COPY_FILTER, AUDIT_COPY_TRIGGER } from '../../functions/shared/domain/audit-copy.js';
import { TTL_ATTRIBUTE } from '../../functions/shared/domain/table.js';
import { METRIC } from '../../functions/shared/framework/observability.js';
import { LIFECYCLE_FAILURE_PERIODS } from '../../infra/alarms.js';
import { resolveStageSettings } from '../../infra/settings.js';
import { buildStack, type Built } from './build.js';
import { actionsOf, allows, permissionsOf, resourcesFor, RESOURCE, statementsByRole } from './iam.js';
import { STAGE_VARIANTS } from './stages.js';

const prod = buildStack('prod');
const dev = buildStack('dev');
const tuned = buildStack('prod', { retentionDays: '1095', deleteFromVobizAfterDays: '0' });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;

const logicalId = (built: Built, fn: IFunction) =>
  built.stack.getLogicalId(fn.node.defaultChild as CfnElement);
const functionProps = (built: Built, fn: IFunction) =>
  built.template.toJSON().Resources[logicalId(built, fn)].Properties as Props;
const scheduled = permissionsOf(prod.template, prod.stack, prod.stack.lifecycle.scheduled);
const api = permissionsOf(prod.template, prod.stack, prod.stack.lifecycle.apiFunction);
const index = (name: string) =>
  JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['RecordingsTable', 'Arn'] }, `/index/${name}`]] });
const BUCKET = JSON.stringify({ 'Fn::GetAtt': ['RecordingsBucket', 'Arn'] });

describe('recordings bucket: Object Lock for legal holds', () => {
  it('enables Object Lock on the versioned bucket, with no default retention (holds are per version)', () => {
    for (const built of [prod, dev]) {
      const bucket = built.template.findResources('AWS::S3::Bucket').RecordingsBucket!.Properties as Props;
      // Only the nested configuration: it turns Object Lock on for a bucket that already exists, while the
      // top-level ObjectLockEnabled would replace it (upgrade.test.ts diffs a released template).
      expect(bucket.ObjectLockEnabled).toBeUndefined();
      expect(bucket.ObjectLockConfiguration).toEqual({ ObjectLockEnabled: 'Enabled' });
      expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    }
    const logs = prod.template.findResources('AWS::S3::Bucket').AccessLogsBucket!.Properties as Props;
    expect(logs.ObjectLockEnabled).toBeUndefined();
  });
});

describe('scheduled lifecycle function', () => {
  it('runs every 5 minutes, without replays, with a timeout shorter than the interval', () => {
    const props = functionProps(prod, prod.stack.lifecycle.scheduled);
    expect(props).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Timeout: 240 });
    const rule = Object.values(prod.template.findResources('AWS::Events::Rule'))
      .map((r) => r.Properties as Props)
      .find((r) => r.ScheduleExpression === 'rate(5 minutes)');
    expect(rule!.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [logicalId(prod, prod.stack.lifecycle.scheduled), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      }),
    ]);
  });

  it('gets retention and the delete at Vobiz from the stage: off by default, retention 30 days on throwaway stages', () => {
    const env = (built: Built) =>
      functionProps(built, built.stack.lifecycle.scheduled).Environment.Variables as Props;
    expect(env(prod).VOBIZ_DELETE_AFTER_DAYS).toBeUndefined();
    expect(env(prod).RETENTION_DAYS).toBeUndefined();
    expect(env(dev).RETENTION_DAYS).toBe('30');
    expect(env(tuned)).toMatchObject({ VOBIZ_DELETE_AFTER_DAYS: '0', RETENTION_DAYS: '1095' });
    expect(env(prod)).toMatchObject({
      TABLE_NAME: { Ref: 'RecordingsTable' },
      BUCKET_NAME: { Ref: 'RecordingsBucket' },
      VOBIZ_SECRET_ARN: { Ref: 'VobizSecret' },
    });
  });

  it('may query the due, expiry and by-status indexes only, and read, put and update items on the table', () => {
    expect(resourcesFor(scheduled, 'dynamodb:Query').sort()).toEqual(
      [index('due'), index('expiry'), index('by-status')].sort(),
    );
    for (const action of ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'])
      expect(resourcesFor(scheduled, action), action).toEqual([RESOURCE.table]);
  });

  it('may verify and delete audio versions under recordings/ and list a key’s versions, but not write audio or touch holds', () => {
    for (const action of [
      's3:GetObject',
      's3:GetObjectVersion',
      's3:GetObjectLegalHold',
      's3:DeleteObjectVersion',
    ])
      expect(resourcesFor(scheduled, action), action).toEqual([RESOURCE.audio]);
    expect(resourcesFor(scheduled, 's3:ListBucketVersions')).toEqual([BUCKET]);
    for (const forbidden of [
      's3:PutObject',
      's3:DeleteObject',
      's3:PutObjectLegalHold',
      's3:ListBucket',
      'dynamodb:Scan',
      'dynamodb:DeleteItem',
    ])
      expect(actionsOf(scheduled).has(forbidden), forbidden).toBe(false);
    expect([...actionsOf(scheduled)].filter((a) => a.includes('*'))).toEqual([]);
  });

  it('lists versions only with the recordings/ prefix', () => {
    const statement = Object.values(prod.template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Props[])
      .filter((s) => s.Action === 's3:ListBucketVersions');
    expect(statement).toHaveLength(2);
    for (const s of statement) expect(s.Condition).toEqual({ StringLike: { 's3:prefix': ['recordings/*'] } });
  });
});

describe('lifecycle API function and routes', () => {
  const routes = Object.values(prod.template.findResources('AWS::ApiGatewayV2::Route')).map(
    (r) => r.Properties as Props,
  );
  const integrations = prod.template.findResources('AWS::ApiGatewayV2::Integration');

  it('serves PUT/DELETE legal-hold and DELETE /recordings/{id}, each its own IAM route key, apart from the GET routes', () => {
    const apiFn = logicalId(prod, prod.stack.lifecycle.apiFunction);
    for (const key of [
      'PUT /recordings/{recording_id}/legal-hold',
      'DELETE /recordings/{recording_id}/legal-hold',
      'ANY /recordings/{recording_id}/legal-hold',
      'DELETE /recordings/{recording_id}',
    ]) {
      const route = routes.find((r) => r.RouteKey === key);
      expect(route?.AuthorizationType, key).toBe('AWS_IAM');
      const integrationId = /"Ref":"([^"]+)"/.exec(JSON.stringify(route!.Target))?.[1];
      expect(JSON.stringify(integrations[integrationId!]!.Properties.IntegrationUri), key).toContain(apiFn);
    }
  });

  it('may hold, verify and delete versions, and read, put and update items; no Query, no Scan, no audio writes', () => {
    for (const action of [
      's3:PutObjectLegalHold',
      's3:GetObjectLegalHold',
      's3:DeleteObjectVersion',
      's3:GetObjectVersion',
    ])
      expect(resourcesFor(api, action), action).toEqual([RESOURCE.audio]);
    expect(resourcesFor(api, 's3:ListBucketVersions')).toEqual([BUCKET]);
    for (const forbidden of [
      'dynamodb:Query',
      'dynamodb:Scan',
      'dynamodb:DeleteItem',
      's3:PutObject',
      's3:DeleteObject',
    ])
      expect(actionsOf(api).has(forbidden), forbidden).toBe(false);
    expect(functionProps(prod, prod.stack.lifecycle.apiFunction).Timeout).toBeLessThan(30);
  });

  it('leaves the lookup able to write only audit items, and the ingest roles unable to delete versions or touch holds', () => {
    const lookup = permissionsOf(prod.template, prod.stack, prod.stack.lookup.function);
    for (const fn of [
      prod.stack.lookup.function,
      prod.stack.worker.function,
      prod.stack.redrive.function,
      prod.stack.webhook.function,
    ]) {
      const actions = actionsOf(permissionsOf(prod.template, prod.stack, fn));
      for (const forbidden of [
        's3:DeleteObjectVersion',
        's3:ListBucketVersions',
        's3:PutObjectLegalHold',
        's3:GetObjectVersion',
      ])
        expect(actions.has(forbidden), `${fn.node.path} ${forbidden}`).toBe(false);
    }
    expect(
      [...actionsOf(lookup)].filter((a) => /^(dynamodb|s3):.*(Put|Update|Delete|Write)/.test(a)),
    ).toEqual(['dynamodb:PutItem']);
  });
});

describe.each(STAGE_VARIANTS)(
  'audit items cannot be changed or deleted by any role ($name)',
  ({ stage, raw }) => {
    const built = buildStack(stage, raw);
    const byRole = statementsByRole(built.template);
    const roleOf = (fn: IFunction) => built.stack.getLogicalId(fn.role!.node.defaultChild as CfnElement);
    const lifecycleRoles = new Set(
      [built.stack.lifecycle.scheduled, built.stack.lifecycle.apiFunction].map(roleOf),
    );
    // Who listened (the lookup) and who retried (the retry API) are audited by the function that acts.
    const auditWriters = new Set([
      ...lifecycleRoles,
      roleOf(built.stack.lookup.function),
      roleOf(built.stack.retryApi.function),
    ]);

    it('no role may UpdateItem, DeleteItem, BatchWriteItem or PartiQL-change an AUDIT# item; writers still may change REC# items', () => {
      expect(byRole.size).toBeGreaterThanOrEqual(6);
      let writers = 0;
      for (const [role, statements] of byRole) {
        for (const action of [
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:PartiQLUpdate',
          'dynamodb:PartiQLDelete',
        ])
          expect(allows(statements, action, RESOURCE.table, 'AUDIT#2'), `${role} ${action}`).toBe(false);
        if (allows(statements, 'dynamodb:UpdateItem', RESOURCE.table, 'REC#r1')) writers++;
      }
      // The denial is targeted: the worker, the re-drive, both lifecycle functions and the retry API
      // still update records.
      expect(writers).toBe(5);
    });

    it('only the lifecycle, lookup and retry roles may put an AUDIT# item (their code puts it only if it does not exist)', () => {
      for (const [role, statements] of byRole) {
        expect(allows(statements, 'dynamodb:PutItem', RESOURCE.table, 'AUDIT#0'), role).toBe(
          auditWriters.has(role),
        );
      }
    });

    it('the lookup and retry roles may put nothing but AUDIT# items, and none carrying the TTL attribute', () => {
      for (const fn of [built.stack.lookup.function, built.stack.retryApi.function]) {
        const statements = byRole.get(roleOf(fn))!;
        expect(
          allows(statements, 'dynamodb:PutItem', RESOURCE.table, 'AUDIT#1', ['pk', 'sk', 'action']),
        ).toBe(true);
        expect(
          allows(statements, 'dynamodb:PutItem', RESOURCE.table, 'AUDIT#1', ['pk', 'sk', TTL_ATTRIBUTE]),
          fn.node.path,
        ).toBe(false);
        for (const key of ['REC#r1', 'NONCE#n', 'TIME#0'])
          expect(allows(statements, 'dynamodb:PutItem', RESOURCE.table, key), `${fn.node.path} ${key}`).toBe(
            false,
          );
      }
    });
  },
);

describe('lifecycle alarms', () => {
  const alarms = Object.values(prod.template.findResources('AWS::CloudWatch::Alarm')).map(
    (a) => a.Properties as Props,
  );

  it('fire on a refused verification at once and on lifecycle failures that persist', () => {
    expect(alarms.find((a) => a.MetricName === METRIC.vobizDeleteRefused)).toMatchObject({
      Threshold: 0,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(alarms.find((a) => a.MetricName === METRIC.lifecycleFailed)).toMatchObject({
      Threshold: 0,
      EvaluationPeriods: LIFECYCLE_FAILURE_PERIODS,
      DatapointsToAlarm: LIFECYCLE_FAILURE_PERIODS,
    });
  });

  it('watch both lifecycle functions for errors and throttles', () => {
    for (const fn of [prod.stack.lifecycle.scheduled, prod.stack.lifecycle.apiFunction]) {
      const mine = alarms.filter(
        (a) => a.Namespace === 'AWS/Lambda' && JSON.stringify(a.Dimensions).includes(logicalId(prod, fn)),
      );
      expect(mine.map((a) => a.MetricName as string).sort()).toEqual(['Errors', 'Throttles']);
    }
  });
});

describe.each(STAGE_VARIANTS)('the immutable audit trail ($name)', ({ stage, raw }) => {
  const built = buildStack(stage, raw);
  const resources = built.template.toJSON().Resources as Record<string, { Type: string; Properties: Props }>;
  const byRole = statementsByRole(built.template);
  const copier = built.stack.auditCopy.function;
  const copierRole = built.stack.getLogicalId(copier.role!.node.defaultChild as CfnElement);
  const lifecycleRoles = [built.stack.lifecycle.scheduled, built.stack.lifecycle.apiFunction].map((fn) =>
    built.stack.getLogicalId(fn.role!.node.defaultChild as CfnElement),
  );
  const AUDIT_OBJECTS = JSON.stringify({
    'Fn::Join': ['', [{ 'Fn::GetAtt': ['AuditBucket', 'Arn'] }, '/*']],
  });

  it('keeps every copy in a versioned bucket in Object Lock compliance mode for auditRetentionDays', () => {
    const bucket = resources.AuditBucket!;
    const days = resolveStageSettings(stage, raw).auditRetentionDays;
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: days } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    expect(days).toBe(stage === 'dev' ? 1 : 2555);
    expect(built.template.toJSON().Resources.AuditBucket.DeletionPolicy).toBe('Retain');
    const policy = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::S3::BucketPolicy' && JSON.stringify(r.Properties.Bucket) === '{"Ref":"AuditBucket"}',
    )!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:PutObject',
        Principal: { AWS: '*' },
        Condition: { Null: { 's3:if-none-match': 'true' } },
      }),
    );
  });

  it('the copier reads the stream and writes and reads the audit bucket, and nothing else', () => {
    const allowed = permissionsOf(built.template, built.stack, copier);
    const actions = [...actionsOf(allowed)].sort();
    const expected = [
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:ListStreams',
      's3:GetObject',
      's3:PutObject',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      ...(raw.tracing === 'false' ? [] : ['xray:PutTelemetryRecords', 'xray:PutTraceSegments']),
      // DescribeKey and Decrypt come with reading a stream of a table encrypted with the key.
      ...(raw.encryption === 'kms'
        ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']
        : []),
    ].sort();
    expect(actions).toEqual(expected);
    expect(resourcesFor(allowed, 's3:PutObject')).toEqual([AUDIT_OBJECTS]);
    expect(resourcesFor(allowed, 's3:GetObject')).toEqual([AUDIT_OBJECTS]);
    expect(resourcesFor(allowed, 'dynamodb:GetRecords')).toEqual([
      JSON.stringify({ 'Fn::GetAtt': ['RecordingsTable', 'StreamArn'] }),
    ]);
  });

  it('no other role may write or read the audit bucket', () => {
    for (const [role, statements] of byRole) {
      if (role === copierRole) continue;
      const touches = statements.some(
        (s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes('"AuditBucket"'),
      );
      expect(touches, role).toBe(false);
    }
  });

  it('has its own stream mapping for every event on AUDIT# items, retried, with a dead-letter queue', () => {
    const copierId = built.stack.getLogicalId(copier.node.defaultChild as CfnElement);
    const mapping = Object.values(resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::EventSourceMapping' &&
        JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: copierId }),
    )!.Properties;
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['RecordingsTable', 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: AUDIT_COPY_TRIGGER.maxRetryAttempts,
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(AUDIT_COPY_FILTER) }] },
    });
    expect(JSON.stringify(mapping.DestinationConfig)).toContain(
      built.stack.getLogicalId(built.stack.auditCopy.deadLetterQueue.node.defaultChild as CfnElement),
    );
  });

  it('the lifecycle roles may put an audit item, but not one carrying the TTL attribute', () => {
    for (const role of lifecycleRoles) {
      const statements = byRole.get(role)!;
      expect(allows(statements, 'dynamodb:PutItem', RESOURCE.table, 'AUDIT#1', ['pk', 'sk', 'action'])).toBe(
        true,
      );
      expect(
        allows(statements, 'dynamodb:PutItem', RESOURCE.table, 'AUDIT#1', ['pk', 'sk', TTL_ATTRIBUTE]),
        role,
      ).toBe(false);
      // Records keep their TTL-free puts and nonces keep theirs: the denial is on audit keys only.
      expect(allows(statements, 'dynamodb:PutItem', RESOURCE.table, 'REC#r1', ['pk', TTL_ATTRIBUTE])).toBe(
        true,
      );
    }
  });

  it('alarms on copies given up and on tampering, and names the bucket in an output', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const dlq = built.stack.getLogicalId(
      built.stack.auditCopy.deadLetterQueue.node.defaultChild as CfnElement,
    );
    expect(
      alarms.some(
        (a) =>
          a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          JSON.stringify(a.Properties.Dimensions).includes(dlq),
      ),
    ).toBe(true);
    expect(alarms.find((a) => a.Properties.MetricName === METRIC.auditTampered)?.Properties).toMatchObject({
      Threshold: 0,
      EvaluationPeriods: 1,
    });
    expect(built.template.toJSON().Outputs.AuditBucketName.Value).toEqual({ Ref: 'AuditBucket' });
  });
});

describe('retry API function and route', () => {
  const retry = permissionsOf(prod.template, prod.stack, prod.stack.retryApi.function);
  const routes = Object.values(prod.template.findResources('AWS::ApiGatewayV2::Route')).map(
    (r) => r.Properties as Props,
  );

  it('serves POST /recordings/{id}/retry (its own IAM route key) and ANY for the 405, with its own function', () => {
    const integrations = prod.template.findResources('AWS::ApiGatewayV2::Integration');
    for (const key of ['POST /recordings/{recording_id}/retry', 'ANY /recordings/{recording_id}/retry']) {
      const route = routes.find((r) => r.RouteKey === key);
      expect(route?.AuthorizationType, key).toBe('AWS_IAM');
      const integrationId = /"Ref":"([^"]+)"/.exec(JSON.stringify(route!.Target))?.[1];
      expect(JSON.stringify(integrations[integrationId!]!.Properties.IntegrationUri), key).toContain(
        logicalId(prod, prod.stack.retryApi.function),
      );
    }
    expect(functionProps(prod, prod.stack.retryApi.function)).toMatchObject({
      Timeout: 10,
      Environment: { Variables: expect.objectContaining({ TABLE_NAME: { Ref: 'RecordingsTable' } }) },
    });
  });

  it('may get and update records and put audit items; no Query, no audio, no Vobiz secret', () => {
    expect(resourcesFor(retry, 'dynamodb:GetItem')).toEqual([RESOURCE.table]);
    expect(resourcesFor(retry, 'dynamodb:UpdateItem')).toEqual([RESOURCE.table]);
    expect([...actionsOf(retry)].filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(
      [...actionsOf(retry)].filter((a) => a.startsWith('s3:') || a.startsWith('secretsmanager:')),
    ).toEqual([]);
  });
});
