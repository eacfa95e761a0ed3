import type { CfnElement } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { buildStack, type Built } from './build.js';
import { actionsOf, permissionsOf, resourcesFor, RESOURCE } from './iam.js';

const prod = buildStack('prod');
const kms = buildStack('prod', { encryption: 'kms' });
const external = buildStack('staging', {
  vobizSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf',
  vobizSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;

const logicalId = (built: Built) =>
  built.stack.getLogicalId(built.stack.redrive.function.node.defaultChild as CfnElement);
const functionProps = (built: Built) =>
  built.template.toJSON().Resources[logicalId(built)].Properties as Props;
const permissions = permissionsOf(prod.template, prod.stack, prod.stack.redrive.function);
const DUE_INDEX = JSON.stringify({
  'Fn::Join': ['', [{ 'Fn::GetAtt': ['RecordingsTable', 'Arn'] }, '/index/due']],
});

describe('re-drive function', () => {
  it('runs for up to 15 minutes with the house defaults and no reserved concurrency (leases make overlap safe)', () => {
    const props = functionProps(prod);
    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 900,
      TracingConfig: { Mode: 'Active' },
    });
    expect(props.ReservedConcurrentExecutions).toBeUndefined();
    expect(props.LoggingConfig.LogGroup.Ref).toMatch(/^RedriveFunctionLogs/);
  });

  it('is wired to the table, bucket, Vobiz secret, API base URL and media origins, never to plain credentials', () => {
    const env = functionProps(prod).Environment.Variables as Props;
    expect(env).toMatchObject({
      TABLE_NAME: { Ref: 'RecordingsTable' },
      BUCKET_NAME: { Ref: 'RecordingsBucket' },
      VOBIZ_SECRET_ARN: { Ref: 'VobizSecret' },
      VOBIZ_API_BASE_URL: 'https://api.vobiz.ai',
      ALLOWED_MEDIA_ORIGINS: 'https://*.vobiz.ai',
    });
    expect(Object.keys(env).filter((name) => /TOKEN|AUTH_ID/.test(name))).toEqual([]);
  });

  it('shares the maxAttempts stage setting with the archive worker and takes the sweep window from the stage', () => {
    expect(functionProps(prod).Environment.Variables.MAX_ATTEMPTS).toBeUndefined();
    const tuned = buildStack('prod', { maxAttempts: '12', backfillLookbackMinutes: '0' });
    expect(functionProps(tuned).Environment.Variables).toMatchObject({
      MAX_ATTEMPTS: '12',
      BACKFILL_LOOKBACK_MINUTES: '0',
    });
    const worker = tuned.template.toJSON().Resources[
      tuned.stack.getLogicalId(tuned.stack.worker.function.node.defaultChild as CfnElement)
    ].Properties as Props;
    expect(worker.Environment.Variables.MAX_ATTEMPTS).toBe('12');
  });

  it('is invoked every minute by a schedule, without replays of failed runs', () => {
    const rules = Object.values(prod.template.findResources('AWS::Events::Rule')).map(
      (r) => r.Properties as Props,
    );
    const schedule = rules.find((r) => r.ScheduleExpression === 'rate(1 minute)');
    expect(schedule).toMatchObject({ State: 'ENABLED' });
    expect(schedule!.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': [logicalId(prod), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      }),
    ]);
    prod.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [logicalId(prod), 'Arn'] },
    });
    prod.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(prod) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('has its errors and throttles alarmed like every other function', () => {
    const alarms = Object.values(prod.template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties as Props,
    );
    const mine = alarms.filter(
      (a) => a.Namespace === 'AWS/Lambda' && JSON.stringify(a.Dimensions).includes(logicalId(prod)),
    );
    expect(mine.map((a) => a.MetricName as string).sort()).toEqual(['Errors', 'Throttles']);
  });
});

describe('re-drive role: least privilege', () => {
  it('may read and write items on the table (as the webhook) and batch-get them for the sweep', () => {
    for (const action of [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:BatchGetItem',
    ]) {
      expect(resourcesFor(permissions, action), action).toEqual([RESOURCE.table]);
    }
  });

  it('may query the due index only: not the table, not the other indexes', () => {
    expect(resourcesFor(permissions, 'dynamodb:Query')).toEqual([DUE_INDEX]);
  });

  it('may put audio (and abort its multipart uploads) under recordings/ only', () => {
    expect(resourcesFor(permissions, 's3:PutObject')).toEqual([RESOURCE.audio]);
    expect(resourcesFor(permissions, 's3:AbortMultipartUpload')).toEqual([RESOURCE.audio]);
  });

  it('cannot read audio back, delete, list, scan, batch-write or condition-check, and holds no wildcard action', () => {
    const actions = actionsOf(permissions);
    for (const forbidden of [
      'dynamodb:ConditionCheckItem',
      's3:GetObject',
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:ListBucket',
      'dynamodb:Scan',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:DeleteTable',
      'secretsmanager:PutSecretValue',
    ]) {
      expect(actions.has(forbidden), forbidden).toBe(false);
    }
    expect([...actions].filter((action) => action.includes('*'))).toEqual([]);
  });

  it('may read the Vobiz secret and no other secret (not the lookup cursor key)', () => {
    expect(resourcesFor(permissions, 'secretsmanager:GetSecretValue')).toEqual([
      JSON.stringify({ Ref: 'VobizSecret' }),
    ]);
  });

  it('may encrypt with the customer-managed key when the stage uses one', () => {
    const actions = actionsOf(permissionsOf(kms.template, kms.stack, kms.stack.redrive.function));
    for (const action of ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'])
      expect(actions.has(action), action).toBe(true);
  });

  it('reads an external Vobiz secret by ARN, decrypting its key only through Secrets Manager', () => {
    const externalPermissions = permissionsOf(
      external.template,
      external.stack,
      external.stack.redrive.function,
    );
    expect(resourcesFor(externalPermissions, 'secretsmanager:GetSecretValue')).toEqual([
      JSON.stringify('arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf'),
    ]);
    expect(resourcesFor(externalPermissions, 'kms:Decrypt')).toEqual([
      JSON.stringify('arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'),
    ]);
    expect(functionProps(external).Environment.Variables.VOBIZ_SECRET_ARN).toBe(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf',
    );
  });
});
