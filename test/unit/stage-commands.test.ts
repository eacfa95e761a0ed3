import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dataFates, runDestroyCommand } from '../../bin/lib/destroy-command.js';
import { parseCredentialsInput, runSetSecretCommand } from '../../bin/lib/set-secret-command.js';
import {
  resolveEnv,
  StackOutputs,
  stackNameOf,
  TargetError,
  writeOutputsFile,
} from '../../bin/lib/targets.js';
import { VOBIZ_SECRET_PLACEHOLDER_AUTH_ID } from '../../functions/shared/config.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { textOutput } from '../support/cli-output.js';

const cfn = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const secrets = mockClient(SecretsManagerClient);
const documents = mockClient(DynamoDBDocumentClient);
const STACK = stackNameOf('prod');
const SECRET = 'arn:aws:secretsmanager:ap-south-1:123456789012:secret:vobiz';
const WEBHOOK = 'https://a.execute-api.ap-south-1.amazonaws.com/webhooks/vobiz/recording';
let fake: VobizFake;
let stateDir: string;

beforeAll(async () => {
  fake = await new VobizFake().start();
});
afterAll(() => fake.stop());
beforeEach(() => {
  for (const mock of [cfn, lambda, secrets, documents]) mock.reset();
  stateDir = mkdtempSync(join(tmpdir(), 'stage-state-'));
  process.env.VOBIZ_ARCHIVE_STATE_DIR = stateDir;
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: STACK,
        StackId: `arn:aws:cloudformation:ap-south-1:123456789012:stack/${STACK}/x`,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: Object.entries({
          VobizSecretArn: SECRET,
          WebhookUrl: WEBHOOK,
          VobizApiBaseUrl: fake.baseUrl,
          TableName: 'table-1',
        }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
});
afterEach(() => {
  delete process.env.VOBIZ_ARCHIVE_STATE_DIR;
});

const stdin = (text: string) => Object.assign(Readable.from([text]), { isTTY: false });

describe('set-secret', () => {
  beforeEach(() => {
    cfn.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: ['webhook-fn', 'worker-fn', 'lookup-fn'].map((name) => ({
        LogicalResourceId: name.replace('-fn', ''),
        PhysicalResourceId: name,
        ResourceType: 'AWS::Lambda::Function',
        ResourceStatus: 'UPDATE_COMPLETE',
        LastUpdatedTimestamp: new Date(),
      })),
    });
    lambda.on(GetFunctionConfigurationCommand).callsFake((input: { FunctionName: string }) => ({
      Description: `${input.FunctionName} [Vobiz credentials updated 2026-01-01T00:00:00.000Z]`,
      Environment: {
        Variables: input.FunctionName === 'lookup-fn' ? { TABLE_NAME: 't' } : { VOBIZ_SECRET_ARN: SECRET },
      },
    }));
    lambda.on(UpdateFunctionConfigurationCommand).resolves({});
  });

  async function setSecret(input: string, argv: string[] = []) {
    const stdout = textOutput();
    const stderr = textOutput();
    const code = await runSetSecretCommand(
      ['--stage', 'prod', ...argv],
      { AWS_REGION: 'ap-south-1' },
      {
        stdout,
        stderr,
        stdin: stdin(input),
      },
    );
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('checks with Vobiz, writes the secret, recycles the functions that read it and prints the callback URL', async () => {
    const before = fake.requests.length;
    const result = await setSecret(JSON.stringify({ auth_id: fake.authId, auth_token: fake.authToken }), [
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const listed = fake.requests.slice(before);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ method: 'GET', path: `/api/v1/Account/${fake.authId}/Recording/` });
    expect(secrets.commandCalls(PutSecretValueCommand)[0]!.args[0].input).toEqual({
      SecretId: SECRET,
      SecretString: JSON.stringify({ auth_id: fake.authId, auth_token: fake.authToken }),
    });
    const updates = lambda.commandCalls(UpdateFunctionConfigurationCommand).map((c) => c.args[0].input);
    expect(updates.map((u) => u.FunctionName)).toEqual(['webhook-fn', 'worker-fn']);
    // The previous marker is replaced, not appended to.
    expect(updates[0]!.Description).toMatch(/^webhook-fn \[Vobiz credentials updated \d{4}-[^\]]+\]$/);
    expect(JSON.parse(result.stdout)).toEqual({
      stage: 'prod',
      secret_arn: SECRET,
      auth_id: fake.authId,
      checked_with_vobiz: true,
      recycled: ['webhook-fn', 'worker-fn'],
      callback_url: WEBHOOK,
    });
    expect(result.stdout + result.stderr).not.toContain(fake.authToken);
  });

  it('writes nothing when Vobiz refuses the credentials', async () => {
    const result = await setSecret(`${fake.authId}\nwrong-token\n`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('refused');
    expect(result.stderr).toContain('Nothing was written');
    expect(secrets.commandCalls(PutSecretValueCommand)).toHaveLength(0);
    expect(result.stderr).not.toContain('wrong-token');
  });

  it('refuses the placeholder the stack wrote, before asking anyone (exit 2)', async () => {
    const result = await setSecret(
      JSON.stringify({ auth_id: VOBIZ_SECRET_PLACEHOLDER_AUTH_ID, auth_token: 'x' }),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('that is the placeholder the stack wrote');
    expect(secrets.calls()).toHaveLength(0);
  });

  it('reads JSON or lines, and --auth-id with the token alone', () => {
    expect(
      parseCredentialsInput('{"auth_id":"MA1","auth_token":"t","parent_auth_token":"p"}', undefined),
    ).toEqual({
      authId: 'MA1',
      authToken: 't',
      parentAuthToken: 'p',
    });
    expect(parseCredentialsInput('MA1\nt\n', undefined)).toEqual({ authId: 'MA1', authToken: 't' });
    expect(parseCredentialsInput('t\n', 'MA2')).toEqual({ authId: 'MA2', authToken: 't' });
    expect(() => parseCredentialsInput('MA1\n', undefined)).toThrow('no Auth Token given');
    expect(() => parseCredentialsInput('{"auth_id":"a b","auth_token":"t"}', undefined)).toThrow(
      /Auth ID must be/,
    );
  });
});

describe('destroy', () => {
  const template = {
    Resources: {
      RecordingsBucket: { Type: 'AWS::S3::Bucket', DeletionPolicy: 'Retain' },
      RecordingsTable: { Type: 'AWS::DynamoDB::Table', DeletionPolicy: 'Retain' },
      VobizSecret: { Type: 'AWS::SecretsManager::Secret', DeletionPolicy: 'Delete' },
      WebhookFunction: { Type: 'AWS::Lambda::Function' },
      ApiAccessLogs: { Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'RetainExceptOnCreate' },
    },
  };

  beforeEach(() => {
    documents.on(QueryCommand).resolves({ Items: [] });
    cfn.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: [
        {
          LogicalResourceId: 'RecordingsBucket',
          PhysicalResourceId: 'audio-bucket-1',
          ResourceType: 'AWS::S3::Bucket',
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
    cfn.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify(template) });
    cfn.on(DeleteStackCommand).resolves({});
  });

  async function destroy(argv: string[]) {
    const stdout = textOutput();
    const stderr = textOutput();
    const code = await runDestroyCommand(
      ['--stage', 'prod', ...argv],
      { AWS_REGION: 'ap-south-1' },
      {
        stdout,
        stderr,
        stdin: stdin(''),
      },
      { pollMs: 0 },
    );
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  it('reads the fate of each data resource from the deployed template', () => {
    expect(dataFates(template, new Map([['RecordingsBucket', 'audio-bucket-1']]))).toEqual([
      { logicalId: 'RecordingsBucket', type: 'AWS::S3::Bucket', physicalId: 'audio-bucket-1', fate: 'kept' },
      { logicalId: 'RecordingsTable', type: 'AWS::DynamoDB::Table', fate: 'kept' },
      { logicalId: 'VobizSecret', type: 'AWS::SecretsManager::Secret', fate: 'deleted' },
      { logicalId: 'ApiAccessLogs', type: 'AWS::Logs::LogGroup', fate: 'kept' },
    ]);
  });

  it('refuses while a recording is on legal hold, found through the held index, and deletes nothing', async () => {
    documents.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'HOLD#2' } }).resolves({
      Items: [{ recording_id: 'rec-held' }],
    });
    const result = await destroy(['--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('1 recording is on legal hold (rec-held)');
    for (const call of documents.commandCalls(QueryCommand))
      expect(call.args[0].input).toMatchObject({ TableName: 'table-1', IndexName: 'held', Limit: 20 });
    expect(cfn.commandCalls(DeleteStackCommand)).toHaveLength(0);
  });

  it('says what a retained stage keeps, deletes the stack with --yes and forgets the outputs file', async () => {
    writeOutputsFile({ stack_name: STACK, stage: 'prod', region: 'ap-south-1', written_at: '', outputs: {} });
    cfn
      .on(DescribeStacksCommand)
      .resolvesOnce({
        Stacks: [
          {
            StackName: STACK,
            StackStatus: 'UPDATE_COMPLETE',
            CreationTime: new Date(),
            Outputs: [{ OutputKey: 'TableName', OutputValue: 'table-1' }],
          },
        ],
      })
      .rejects(
        Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }),
      );
    const result = await destroy(['--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /Keeps \(.*\):\n {2}bucket audio-bucket-1\n {2}table table-1\n {2}log group ApiAccessLogs\n/,
    );
    expect(result.stderr).toContain('Deletes, with everything in them:\n  secret VobizSecret');
    expect(cfn.commandCalls(DeleteStackCommand)[0]!.args[0].input).toEqual({ StackName: STACK });
    expect(JSON.parse(result.stdout)).toMatchObject({
      outcome: 'deleted',
      kept: ['bucket audio-bucket-1', 'table table-1', 'log group ApiAccessLogs'],
    });
    expect(existsSync(join(stateDir, 'prod.outputs.json'))).toBe(false);
  });
});

describe('outputs resolution', () => {
  const target = { kind: 'stage' as const, stage: 'prod', stackName: STACK };

  it('fills what the environment lacks from the stage, the environment winning, and says so', async () => {
    const stderr = textOutput();
    const { env } = await resolveEnv(
      target,
      { BUCKET_NAME: 'mine', AWS_REGION: 'ap-south-1' },
      ['TableName', 'BucketName'],
      {
        stderr,
        cloudFormation: () => new CloudFormationClient({ region: 'ap-south-1' }),
      },
    );
    expect(env).toMatchObject({ TABLE_NAME: 'table-1', BUCKET_NAME: 'mine' });
    expect(stderr.text).toBe("note: BUCKET_NAME from the environment overrides stage prod's BucketName\n");
  });

  it('prefers VOBIZ_AUTH_ID/TOKEN in the environment to the stage secret', async () => {
    const { env } = await resolveEnv(
      target,
      { VOBIZ_AUTH_ID: 'MA1', VOBIZ_AUTH_TOKEN: 't', AWS_REGION: 'x' },
      ['VobizSecretArn'],
      { stderr: textOutput() },
    );
    expect(env.VOBIZ_SECRET_ARN).toBeUndefined();
  });

  it('reads the outputs file deploy wrote (and its region) before asking CloudFormation, then cdk-outputs.json', async () => {
    const root = mkdtempSync(join(tmpdir(), 'outputs-root-'));
    writeOutputsFile({
      stack_name: STACK,
      stage: 'prod',
      region: 'eu-west-1',
      written_at: '',
      outputs: { TableName: 'from-file' },
    });
    const fromFile = new StackOutputs(target, () => new CloudFormationClient({}), root);
    expect(await fromFile.load()).toMatchObject({ outputs: { TableName: 'from-file' }, region: 'eu-west-1' });
    expect(cfn.calls()).toHaveLength(0);
    // Another region than the file's: the file is not for it.
    delete process.env.VOBIZ_ARCHIVE_STATE_DIR;
    mkdirSync(root, { recursive: true });
    writeFileSync(
      join(root, 'cdk-outputs.json'),
      JSON.stringify({ [STACK]: { TableName: 'from-cdk-outputs' } }),
    );
    expect(
      (await new StackOutputs(target, () => new CloudFormationClient({}), root).load()).outputs.TableName,
    ).toBe('from-cdk-outputs');
    const other = new StackOutputs(
      { ...target, region: 'ap-south-1' },
      () => new CloudFormationClient({ region: 'ap-south-1' }),
      root,
    );
    expect((await other.load()).outputs.TableName).toBe('table-1');
  });

  it('says what to do when the stage has no stack, or lacks an output', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(Object.assign(new Error('Stack with id x does not exist'), { name: 'ValidationError' }));
    const missing = new StackOutputs(
      { ...target, stage: 'dev', stackName: stackNameOf('dev') },
      () => new CloudFormationClient({ region: 'x' }),
    );
    await expect(missing.require('TableName')).rejects.toThrow(
      new TargetError(
        'there is no stack VobizRecordingArchive-dev in this account and region: deploy it (vobiz-archive deploy --stage dev) or pick --region/--profile',
      ),
    );
    writeOutputsFile({ stack_name: STACK, stage: 'prod', region: 'x', written_at: '', outputs: {} });
    await expect(
      new StackOutputs(target, () => new CloudFormationClient({})).require('UserPoolId'),
    ).rejects.toThrow(/stage prod has no UserPoolId output .*deploy the current version/);
  });
});
