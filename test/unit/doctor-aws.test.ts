import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runDoctor, type Check } from '../../bin/lib/doctor.js';
import { awsProbes } from '../../bin/lib/doctor-probes.js';
import { stackNameOf } from '../../bin/lib/targets.js';
import { VOBIZ_SECRET_PLACEHOLDER_AUTH_ID } from '../../functions/shared/config.js';
import { VobizFake } from '../../local/vobiz-fake.js';

const cfn = mockClient(CloudFormationClient);
const cloudwatch = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);
const secrets = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);
const documents = mockClient(DynamoDBDocumentClient);

const NOW = Date.parse('2026-12-04T12:00:00Z');
const STACK = stackNameOf('prod');
const WEBHOOK = 'https://a.execute-api.ap-south-1.amazonaws.com/webhooks/vobiz/recording';
const DLQ = 'https://sqs.ap-south-1.amazonaws.com/123456789012/dlq';
let fake: VobizFake;

beforeAll(async () => {
  fake = await new VobizFake().start();
});
afterAll(() => fake.stop());

/** A healthy stage; each test breaks one thing. */
beforeEach(() => {
  for (const mock of [cfn, cloudwatch, lambda, secrets, sqs, documents]) mock.reset();
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: STACK,
        StackId: `arn:aws:cloudformation:ap-south-1:123456789012:stack/${STACK}/x`,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(NOW - 30 * 86_400_000),
        LastUpdatedTime: new Date(NOW - 86_400_000),
        Outputs: Object.entries({
          TableName: 'table-1',
          WebhookUrl: WEBHOOK,
          VobizSecretArn: 'arn:aws:secretsmanager:ap-south-1:123456789012:secret:vobiz',
          VobizApiBaseUrl: fake.baseUrl,
          ArchiveWorkerFunctionName: 'worker-fn',
          WebhookFunctionName: 'webhook-fn',
          ArchiveDeadLetterQueueUrl: DLQ,
          RedriveLogGroup: '/aws/lambda/redrive-fn',
        }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ auth_id: fake.authId, auth_token: fake.authToken }),
  });
  lambda.on(ListEventSourceMappingsCommand).resolves({
    EventSourceMappings: [
      {
        UUID: 'esm-1',
        State: 'Enabled',
        EventSourceArn: 'arn:aws:dynamodb:ap-south-1:123456789012:table/table-1/stream/2026',
        LastProcessingResult: 'OK',
      },
    ],
  });
  lambda.on(GetAccountSettingsCommand).resolves({
    AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 965 },
  });
  lambda
    .on(GetFunctionConcurrencyCommand, { FunctionName: 'webhook-fn' })
    .resolves({ ReservedConcurrentExecutions: 25 });
  lambda
    .on(GetFunctionConcurrencyCommand, { FunctionName: 'worker-fn' })
    .resolves({ ReservedConcurrentExecutions: 10 });
  sqs.on(GetQueueAttributesCommand).resolves({
    Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' },
  });
  cfn.on(ListStackResourcesCommand).resolves({
    StackResourceSummaries: [
      {
        LogicalResourceId: 'AlarmsWebhookErrors',
        PhysicalResourceId: `${STACK}-AlarmsWebhookErrors-1`,
        ResourceType: 'AWS::CloudWatch::Alarm',
        ResourceStatus: 'UPDATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
      },
      {
        LogicalResourceId: 'AlarmsVobizAuthFailed',
        PhysicalResourceId: `${STACK}-AlarmsVobizAuthFailed-2`,
        ResourceType: 'AWS::CloudWatch::Alarm',
        ResourceStatus: 'UPDATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
      },
      {
        LogicalResourceId: 'RecordingsTable',
        PhysicalResourceId: 'table-1',
        ResourceType: 'AWS::DynamoDB::Table',
        ResourceStatus: 'UPDATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
      },
    ],
  });
  cloudwatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: [
      { AlarmName: `${STACK}-AlarmsWebhookErrors-1`, StateValue: 'OK' },
      { AlarmName: `${STACK}-AlarmsVobizAuthFailed-2`, StateValue: 'OK' },
    ],
  });
  documents.on(QueryCommand).resolves({ Count: 0 });
  documents.on(GetCommand).callsFake((input: { Key: { pk: string } }) => ({
    Item: {
      job: input.Key.pk.slice('HEARTBEAT#'.length),
      last_run_at: new Date(NOW - 60_000).toISOString(),
      outcome: 'ok',
      detail: 'found 0',
    },
  }));
});

/** The webhook refuses an unsigned POST with 401, as it does; tests change the status. */
const webhook = (status: number) =>
  ((url: string) =>
    url === WEBHOOK ? Promise.resolve(new Response('{}', { status })) : fetch(url)) as typeof fetch;

async function doctor(webhookStatus = 401): Promise<Record<string, Check>> {
  const probes = awsProbes(
    { kind: 'stage', stage: 'prod', stackName: STACK, region: 'ap-south-1' },
    { AWS_REGION: 'ap-south-1' },
  );
  const checks = await runDoctor(probes, { nowMs: NOW, fetch: webhook(webhookStatus) });
  return Object.fromEntries(checks.map((c) => [c.name, c]));
}

describe('doctor --stage (AWS, mocked)', () => {
  it('holds every check on a healthy stage, each saying what it saw', async () => {
    const checks = await doctor();
    expect(Object.keys(checks)).toEqual([
      'stack',
      'secret',
      'vobiz-token',
      'webhook',
      'archive-trigger',
      'dead-letter-queue',
      'pending',
      'failed',
      'alarms',
      'backfill-sweep',
      'lifecycle',
      'concurrency',
    ]);
    for (const check of Object.values(checks))
      expect(check, check.name).toMatchObject({ ok: true, fix: null });
    expect(checks['vobiz-token']!.detail).toContain(`accepts auth id ${fake.authId}`);
    expect(checks.concurrency!.detail).toBe(
      'account limit 1000, unreserved 965; reserved: webhook 25, archive worker 10',
    );
    expect(checks.alarms!.detail).toBe('0 of 2 alarms in ALARM');
    // Bounded reads: every count is one query per shard with a Limit, on the by-status index.
    for (const call of documents.commandCalls(QueryCommand))
      expect(call.args[0].input).toMatchObject({ IndexName: 'by-status', Select: 'COUNT', Limit: 1_000 });
    expect(lambda.commandCalls(ListEventSourceMappingsCommand)[0]!.args[0].input).toEqual({
      FunctionName: 'worker-fn',
    });
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]!.args[0].input.QueueUrl).toBe(DLQ);
  });

  it('names the placeholder secret, skips the Vobiz call and says set-secret', async () => {
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ auth_id: VOBIZ_SECRET_PLACEHOLDER_AUTH_ID, auth_token: 'generated' }),
    });
    const calls = fake.requests.length;
    const checks = await doctor();
    expect(checks.secret).toEqual({
      name: 'secret',
      ok: false,
      detail: 'the secret still holds the placeholder the stack wrote',
      fix: 'vobiz-archive set-secret --stage prod',
    });
    expect(checks['vobiz-token']).toMatchObject({ ok: false, fix: 'vobiz-archive set-secret --stage prod' });
    expect(fake.requests.length).toBe(calls);
  });

  it('names a token Vobiz refuses', async () => {
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ auth_id: fake.authId, auth_token: 'rotated-at-vobiz' }),
    });
    const checks = await doctor();
    expect(checks['vobiz-token']).toMatchObject({ ok: false, fix: 'vobiz-archive set-secret --stage prod' });
    expect(checks['vobiz-token']!.detail).toContain('refused');
  });

  it('fails the webhook check on a 5xx, with where to look', async () => {
    const checks = await doctor(502);
    expect(checks.webhook).toMatchObject({ ok: false, detail: expect.stringContaining('got HTTP 502') });
    expect(checks.webhook!.fix).toContain('the WebhookLogGroup output');
  });

  it('gives the exact command to enable a disabled stream mapping', async () => {
    lambda.on(ListEventSourceMappingsCommand).resolves({
      EventSourceMappings: [
        { UUID: 'esm-9', State: 'Disabled', EventSourceArn: 'arn:aws:dynamodb:x:1:table/t/stream/s' },
      ],
    });
    expect((await doctor())['archive-trigger']).toMatchObject({
      ok: false,
      fix: 'aws lambda update-event-source-mapping --uuid esm-9 --enabled',
    });
  });

  it('counts the dead-letter queue, visible and in flight', async () => {
    sqs.on(GetQueueAttributesCommand).resolves({
      Attributes: { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '1' },
    });
    const check = (await doctor())['dead-letter-queue']!;
    expect(check).toMatchObject({ ok: false, detail: expect.stringContaining('3 batches') });
    expect(check.fix).toContain(`aws sqs purge-queue --queue-url ${DLQ}`);
  });

  it('lists the alarms in ALARM by their logical ids', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        { AlarmName: `${STACK}-AlarmsWebhookErrors-1`, StateValue: 'OK' },
        { AlarmName: `${STACK}-AlarmsVobizAuthFailed-2`, StateValue: 'ALARM' },
      ],
    });
    const checks = await doctor();
    expect(checks.alarms).toMatchObject({
      ok: false,
      detail: '1 of 2 alarms in ALARM: AlarmsVobizAuthFailed',
    });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input.AlarmNames).toEqual([
      `${STACK}-AlarmsWebhookErrors-1`,
      `${STACK}-AlarmsVobizAuthFailed-2`,
    ]);
  });

  it('reports failed and long-pending recordings from the status index (at least, when capped)', async () => {
    documents
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'STATUS#failed#3' } })
      .resolves({ Count: 2 });
    documents
      .on(QueryCommand, {
        KeyConditionExpression: '#pk = :pk AND #sk < :sk',
        ExpressionAttributeValues: { ':pk': 'STATUS#pending#0' },
      })
      .resolves({ Count: 1_000, LastEvaluatedKey: { pk: 'x' } });
    const checks = await doctor();
    expect(checks.failed).toMatchObject({ ok: false, detail: '2 recordings failed (attempts used up)' });
    expect(checks.failed!.fix).toContain('vobiz-archive retry --stage prod --all-failed');
    expect(checks.pending).toMatchObject({ ok: false });
    expect(checks.pending!.detail).toMatch(/^at least 1000 recordings pending for more than 10 minutes/);
  });

  it('calls a heartbeat late after three periods and a run, and an errored run a failure', async () => {
    documents.on(GetCommand, { Key: { pk: 'HEARTBEAT#lifecycle', sk: 'HEARTBEAT' } }).resolves({
      Item: { job: 'lifecycle', last_run_at: new Date(NOW - 60 * 60_000).toISOString(), outcome: 'ok' },
    });
    documents.on(GetCommand, { Key: { pk: 'HEARTBEAT#backfill-sweep', sk: 'HEARTBEAT' } }).resolves({
      Item: {
        job: 'backfill-sweep',
        last_run_at: new Date(NOW - 30_000).toISOString(),
        outcome: 'error',
        detail: 'Vobiz refused the credentials (HTTP 401)',
      },
    });
    const checks = await doctor();
    expect(checks.lifecycle).toMatchObject({
      ok: false,
      detail: expect.stringContaining('late (expected every 300 s)'),
    });
    expect(checks['backfill-sweep']).toMatchObject({
      ok: false,
      detail: expect.stringContaining('error (Vobiz refused'),
    });
    expect(checks['backfill-sweep']!.fix).toContain('/aws/lambda/redrive-fn');
  });

  it('says the first run is still to come on a stack younger than a late period', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: STACK,
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(NOW - 60_000),
          Outputs: [{ OutputKey: 'TableName', OutputValue: 't' }],
        },
      ],
    });
    documents.on(GetCommand).resolves({});
    const checks = await doctor();
    expect(checks.lifecycle).toMatchObject({
      ok: true,
      detail: expect.stringMatching(/^no lifecycle run yet/),
    });
  });

  it('stops at the stack check when there is no stack, saying to deploy', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }),
      );
    const checks = await doctor();
    expect(Object.keys(checks)).toEqual(['stack']);
    expect(checks.stack).toMatchObject({ ok: false, fix: 'vobiz-archive deploy --stage prod' });
  });

  it('fails the concurrency check when a function is throttled to 0 or the account has no headroom', async () => {
    lambda
      .on(GetFunctionConcurrencyCommand, { FunctionName: 'worker-fn' })
      .resolves({ ReservedConcurrentExecutions: 0 });
    expect((await doctor()).concurrency).toMatchObject({
      ok: false,
      detail: expect.stringContaining('archive worker is throttled to 0'),
    });
    lambda
      .on(GetFunctionConcurrencyCommand, { FunctionName: 'worker-fn' })
      .resolves({ ReservedConcurrentExecutions: 10 });
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 100, UnreservedConcurrentExecutions: 65 } });
    expect((await doctor()).concurrency).toMatchObject({
      ok: false,
      fix: expect.stringContaining('Service Quotas'),
    });
  });

  it('reports a read it is not allowed as a failed check, not a crash', async () => {
    sqs
      .on(GetQueueAttributesCommand)
      .rejects(
        Object.assign(new Error('not authorized to sqs:GetQueueAttributes'), { name: 'AccessDenied' }),
      );
    const check = (await doctor())['dead-letter-queue']!;
    expect(check).toMatchObject({
      ok: false,
      detail: expect.stringContaining('could not check: AccessDenied'),
    });
    expect(check.fix).toContain('permission');
  });
});
