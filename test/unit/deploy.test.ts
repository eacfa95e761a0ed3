import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeSetNotFoundException,
  CloudFormationClient,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  SetStackPolicyCommand,
  type Change,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDeployCommand } from '../../bin/lib/deploy-command.js';
import { deployChangeSet } from '../../bin/lib/deploy.js';
import { VOBIZ_SECRET_PLACEHOLDER_AUTH_ID } from '../../functions/shared/config.js';
import { STATEFUL_RESOURCE_TYPES, statefulChanges, statefulStackPolicy } from '../../infra/stateful.js';
import { textOutput } from '../support/cli-output.js';

const cfn = mockClient(CloudFormationClient);
const lambda = mockClient(LambdaClient);
const secrets = mockClient(SecretsManagerClient);
const STACK = 'VobizRecordingArchive-prod';
const STACK_ID = `arn:aws:cloudformation:ap-south-1:123456789012:stack/${STACK}/abc`;

function change(
  logicalId: string,
  type: string,
  action: 'Add' | 'Modify' | 'Remove',
  replacement?: 'True' | 'False' | 'Conditional',
  details: { name: string; recreation: 'Always' | 'Never' | 'Conditionally' }[] = [],
): Change {
  return {
    Type: 'Resource',
    ResourceChange: {
      Action: action,
      LogicalResourceId: logicalId,
      PhysicalResourceId: action === 'Add' ? undefined : `${logicalId.toLowerCase()}-physical`,
      ResourceType: type,
      ...(replacement ? { Replacement: replacement } : {}),
      Details: details.map((d) => ({
        Target: { Attribute: 'Properties', Name: d.name, RequiresRecreation: d.recreation },
      })),
    },
  };
}

describe('statefulChanges: what a change set would lose', () => {
  it('flags replacement True and Conditional, and removal, of every stateful type; nothing else', () => {
    const changes = [
      change('RecordingsBucket', 'AWS::S3::Bucket', 'Modify', 'True', [
        { name: 'ObjectLockEnabled', recreation: 'Always' },
        { name: 'Tags', recreation: 'Never' },
      ]),
      change('RecordingsTable', 'AWS::DynamoDB::Table', 'Modify', 'Conditional', [
        { name: 'KeySchema', recreation: 'Conditionally' },
      ]),
      change('ConsoleUserPool', 'AWS::Cognito::UserPool', 'Remove'),
      change('ArchiveKey', 'AWS::KMS::Key', 'Modify', 'False'),
      change('WebhookFunction', 'AWS::Lambda::Function', 'Modify', 'True'),
      change('NewTable', 'AWS::DynamoDB::Table', 'Add'),
    ];
    expect(statefulChanges(changes)).toEqual([
      {
        logicalId: 'RecordingsBucket',
        type: 'AWS::S3::Bucket',
        physicalId: 'recordingsbucket-physical',
        action: 'replace',
        replacement: 'True',
        causes: ['ObjectLockEnabled (Always)'],
      },
      {
        logicalId: 'RecordingsTable',
        type: 'AWS::DynamoDB::Table',
        physicalId: 'recordingstable-physical',
        action: 'replace',
        replacement: 'Conditional',
        causes: ['KeySchema (Conditionally)'],
      },
      {
        logicalId: 'ConsoleUserPool',
        type: 'AWS::Cognito::UserPool',
        physicalId: 'consoleuserpool-physical',
        action: 'remove',
        causes: [],
      },
    ]);
    for (const type of STATEFUL_RESOURCE_TYPES)
      expect(statefulChanges([change('X', type, 'Modify', 'True')]), type).toHaveLength(1);
  });

  it('lets through the logical ids allowed on purpose', () => {
    const changes = [change('RecordingsBucket', 'AWS::S3::Bucket', 'Modify', 'True')];
    expect(statefulChanges(changes, { allow: ['RecordingsBucket'] })).toEqual([]);
  });
});

describe('statefulStackPolicy', () => {
  it('allows every update but Replace and Delete of the stateful types', () => {
    expect(statefulStackPolicy()).toEqual({
      Statement: [
        { Effect: 'Allow', Action: 'Update:*', Principal: '*', Resource: '*' },
        {
          Effect: 'Deny',
          Action: ['Update:Replace', 'Update:Delete'],
          Principal: '*',
          Resource: '*',
          Condition: { StringEquals: { ResourceType: [...STATEFUL_RESOURCE_TYPES] } },
        },
      ],
    });
  });

  it('exempts the allowed logical ids with NotResource', () => {
    const deny = statefulStackPolicy({ allow: ['RecordingsBucket'] }).Statement[1]!;
    expect(deny.NotResource).toEqual(['LogicalResourceId/RecordingsBucket']);
    expect(deny.Resource).toBeUndefined();
  });
});

const stack = (status: string, outputs: Record<string, string> = {}) => ({
  StackName: STACK,
  StackId: STACK_ID,
  StackStatus: status as StackStatus,
  CreationTime: new Date(),
  Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
});

const plan = { stackName: STACK, changeSetName: 'cs-1', allow: [] as string[], keepChangeSet: false };
const quick = { stderr: textOutput(), sleep: () => Promise.resolve(), pollMs: 0 };

beforeEach(() => {
  cfn.reset();
  lambda.reset();
  secrets.reset();
  cfn.on(DescribeStackEventsCommand).resolves({ StackEvents: [] });
});

describe('deployChangeSet', () => {
  it('refuses a change set that replaces the bucket: names it, deletes the change set, executes nothing', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      Changes: [
        change('RecordingsBucket', 'AWS::S3::Bucket', 'Modify', 'True', [
          { name: 'ObjectLockEnabled', recreation: 'Always' },
        ]),
      ],
    });
    const stderr = textOutput();
    const outcome = await deployChangeSet(cfn as unknown as CloudFormationClient, plan, { ...quick, stderr });
    expect(outcome).toMatchObject({ outcome: 'refused', changeSetKept: false });
    expect(stderr.text).toContain(
      'refused: RecordingsBucket (AWS::S3::Bucket recordingsbucket-physical) would be replaced (Replacement: True; caused by ObjectLockEnabled (Always))',
    );
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(1);
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(SetStackPolicyCommand)).toHaveLength(0);
  });

  it('keeps the refused change set for inspection when asked', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      Changes: [change('RecordingsTable', 'AWS::DynamoDB::Table', 'Remove')],
    });
    const outcome = await deployChangeSet(
      cfn as unknown as CloudFormationClient,
      { ...plan, keepChangeSet: true },
      quick,
    );
    expect(outcome).toMatchObject({ outcome: 'refused', changeSetKept: true });
    expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(0);
  });

  it('reads every page of the change set before deciding', async () => {
    cfn
      .on(DescribeChangeSetCommand)
      .resolvesOnce({
        Status: 'CREATE_COMPLETE',
        Changes: [change('Fn', 'AWS::Lambda::Function', 'Modify', 'True')],
        NextToken: 'p2',
      })
      .resolvesOnce({
        Status: 'CREATE_COMPLETE',
        Changes: [change('Key', 'AWS::KMS::Key', 'Modify', 'Conditional')],
      });
    const outcome = await deployChangeSet(cfn as unknown as CloudFormationClient, plan, quick);
    expect(outcome).toMatchObject({ outcome: 'refused', changes: [{ logicalId: 'Key' }] });
    expect(cfn.commandCalls(DescribeChangeSetCommand)[1]!.args[0].input.NextToken).toBe('p2');
  });

  it('executes a safe change set, waits for it, then sets the stack policy', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      Changes: [change('WebhookFunction', 'AWS::Lambda::Function', 'Modify', 'True')],
    });
    cfn
      .on(DescribeStacksCommand)
      .resolvesOnce({ Stacks: [stack('UPDATE_COMPLETE')] })
      .resolvesOnce({ Stacks: [stack('UPDATE_IN_PROGRESS')] })
      .resolves({ Stacks: [stack('UPDATE_COMPLETE')] });
    cfn.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        {
          EventId: 'e1',
          StackId: STACK_ID,
          StackName: STACK,
          Timestamp: new Date(Date.now() + 1000),
          LogicalResourceId: 'WebhookFunction',
          ResourceStatus: 'UPDATE_COMPLETE',
        },
      ],
    });
    const stderr = textOutput();
    const outcome = await deployChangeSet(cfn as unknown as CloudFormationClient, plan, { ...quick, stderr });
    expect(outcome).toMatchObject({ outcome: 'deployed', changes: 1 });
    expect(cfn.commandCalls(ExecuteChangeSetCommand)[0]!.args[0].input).toEqual({
      StackName: STACK,
      ChangeSetName: 'cs-1',
    });
    const policy = cfn.commandCalls(SetStackPolicyCommand);
    expect(policy).toHaveLength(1);
    expect(JSON.parse(policy[0]!.args[0].input.StackPolicyBody!)).toEqual(statefulStackPolicy());
    expect(stderr.text.match(/UPDATE_COMPLETE\s+WebhookFunction/g)).toHaveLength(1);
  });

  it('lets an allowed replacement through: relaxes the policy for the run, then restores it', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      Changes: [change('RecordingsBucket', 'AWS::S3::Bucket', 'Modify', 'True')],
    });
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [stack('UPDATE_COMPLETE')] });
    const outcome = await deployChangeSet(
      cfn as unknown as CloudFormationClient,
      { ...plan, allow: ['RecordingsBucket'] },
      quick,
    );
    expect(outcome.outcome).toBe('deployed');
    const bodies = cfn
      .commandCalls(SetStackPolicyCommand)
      .map((c) => JSON.parse(c.args[0].input.StackPolicyBody!) as unknown);
    expect(bodies).toEqual([statefulStackPolicy({ allow: ['RecordingsBucket'] }), statefulStackPolicy()]);
  });

  it('treats a change set that is not there (no changes) as unchanged and still sets the policy', async () => {
    cfn
      .on(DescribeChangeSetCommand)
      .rejects(new ChangeSetNotFoundException({ message: 'not found', $metadata: {} }));
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [stack('UPDATE_COMPLETE')] });
    const outcome = await deployChangeSet(cfn as unknown as CloudFormationClient, plan, quick);
    expect(outcome.outcome).toBe('unchanged');
    expect(cfn.commandCalls(ExecuteChangeSetCommand)).toHaveLength(0);
    expect(cfn.commandCalls(SetStackPolicyCommand)).toHaveLength(1);
  });

  it('reports a rolled-back update with the failed resources, and leaves the policy set', async () => {
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      Changes: [change('Fn', 'AWS::Lambda::Function', 'Modify', 'False')],
    });
    cfn
      .on(DescribeStacksCommand)
      .resolvesOnce({ Stacks: [stack('UPDATE_COMPLETE')] })
      .resolves({ Stacks: [stack('UPDATE_ROLLBACK_COMPLETE')] });
    cfn.on(DescribeStackEventsCommand).resolves({
      StackEvents: [
        {
          EventId: 'e2',
          StackId: STACK_ID,
          StackName: STACK,
          Timestamp: new Date(Date.now() + 1000),
          LogicalResourceId: 'Fn',
          ResourceStatus: 'UPDATE_FAILED',
          ResourceStatusReason: 'Resource handler returned message: "Rate exceeded"',
        },
      ],
    });
    const outcome = await deployChangeSet(cfn as unknown as CloudFormationClient, plan, quick);
    expect(outcome).toMatchObject({
      outcome: 'failed',
      reasons: ['Fn: Resource handler returned message: "Rate exceeded"'],
    });
    expect(cfn.commandCalls(SetStackPolicyCommand)).toHaveLength(1);
  });
});

describe('vobiz-archive deploy (in-process, the CDK step stubbed)', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'deploy-state-'));
  beforeEach(() => {
    process.env.VOBIZ_ARCHIVE_STATE_DIR = stateDir;
  });
  afterEach(() => {
    delete process.env.VOBIZ_ARCHIVE_STATE_DIR;
  });

  it('prepares with the stage and -c settings, deploys, writes the outputs file and says to set the secret', async () => {
    const outputs = {
      WebhookUrl: 'https://a.execute-api.ap-south-1.amazonaws.com/webhooks/vobiz/recording',
      ApiUrl: 'https://a.execute-api.ap-south-1.amazonaws.com',
      VobizSecretArn: 'arn:aws:secretsmanager:ap-south-1:123456789012:secret:vobiz',
      TableName: 'table-1',
      DashboardUrl: 'https://console.aws.amazon.com/cloudwatch/home#dashboards:name=x',
    };
    cfn
      .on(DescribeStacksCommand)
      .resolvesOnce({ Stacks: [stack('UPDATE_COMPLETE', outputs)] })
      .resolves({ Stacks: [stack('UPDATE_COMPLETE', outputs)] });
    cfn.on(DescribeChangeSetCommand).resolves({
      Status: 'CREATE_COMPLETE',
      Changes: [change('Fn', 'AWS::Lambda::Function', 'Modify', 'False')],
    });
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { UnreservedConcurrentExecutions: 900 } });
    secrets.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ auth_id: VOBIZ_SECRET_PLACEHOLDER_AUTH_ID, auth_token: 'x' }),
    });
    const prepared: unknown[] = [];
    const stdout = textOutput();
    const stderr = textOutput();
    const code = await runDeployCommand(
      ['--stage', 'prod', '-c', 'retentionDays=365', '--yes', '--json'],
      { AWS_REGION: 'ap-south-1' },
      { stdout, stderr },
      {
        prepare: (options) => {
          prepared.push(options);
          return Promise.resolve();
        },
        pollMs: 0,
      },
    );
    expect(code, stderr.text).toBe(0);
    expect(prepared).toMatchObject([
      {
        stackName: STACK,
        stage: 'prod',
        context: ['retentionDays=365'],
        approve: true,
        changeSetName: expect.stringMatching(/^vobiz-archive-\d{14}$/),
      },
    ]);
    const summary = JSON.parse(stdout.text) as Record<string, unknown>;
    expect(summary).toMatchObject({
      stage: 'prod',
      outcome: 'deployed',
      secret: 'placeholder',
      stack_policy: 'set',
      throwaway: false,
    });
    expect(summary.next).toEqual(
      expect.arrayContaining(['vobiz-archive set-secret --stage prod', 'vobiz-archive doctor --stage prod']),
    );
    const file = JSON.parse(readFileSync(join(stateDir, 'prod.outputs.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(file).toMatchObject({
      stack_name: STACK,
      stage: 'prod',
      region: 'ap-south-1',
      account: '123456789012',
      outputs,
    });
  });

  it('refuses bad settings before anything runs (exit 2)', async () => {
    const stderr = textOutput();
    const code = await runDeployCommand(
      ['--stage', 'prod', '-c', 'retentionDays=soon'],
      {},
      { stdout: textOutput(), stderr },
      {
        prepare: () => {
          throw new Error('must not run');
        },
      },
    );
    expect(code).toBe(2);
    expect(stderr.text).toContain('retentionDays must be');
    expect(cfn.calls()).toHaveLength(0);
  });

  it('stops before the CDK when the account cannot hold the reserved concurrency of a new stage', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }),
      );
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    const stderr = textOutput();
    const code = await runDeployCommand(
      ['--stage', 'prod'],
      { AWS_REGION: 'ap-south-1' },
      { stdout: textOutput(), stderr },
      {
        prepare: () => {
          throw new Error('must not run');
        },
      },
    );
    expect(code).toBe(1);
    expect(stderr.text).toContain('the account has 10 unreserved');
  });
});
