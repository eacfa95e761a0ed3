import {
  CloudFormationClient,
  paginateListStackResources,
  type Stack,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { checkVobizCredentials } from '../../functions/shared/adapters/vobiz-check.js';
import {
  AUTH_ID_PATTERN,
  VOBIZ_SECRET_PLACEHOLDER_AUTH_ID,
  type VobizCredentials,
} from '../../functions/shared/config.js';
import { HEARTBEAT_SCHEDULES } from '../../functions/shared/domain/heartbeat.js';
import type { DoctorProbes } from './doctor.js';
import {
  awsConfig,
  describeStack,
  localEnv,
  stageOutputs,
  TargetError,
  type LocalHealth,
  type Target,
} from './targets.js';

type Env = Record<string, string | undefined>;

const DEFAULT_VOBIZ_API = 'https://api.vobiz.ai';
/** Lambda keeps this many executions unreserved in every account. */
const UNRESERVED_FLOOR = 100;

const USABLE = /^(CREATE|UPDATE|IMPORT)_COMPLETE$|^UPDATE_ROLLBACK_COMPLETE$/;

/** Secret parsing for doctor and set-secret: what the stack's secret holds, in words. */
export function inspectSecret(
  secretString: string | undefined,
): { state: 'set'; credentials: VobizCredentials } | { state: 'placeholder' | 'invalid'; detail: string } {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(secretString ?? '') as Record<string, unknown>;
  } catch {
    return { state: 'invalid', detail: 'the secret is not JSON {"auth_id", "auth_token"}' };
  }
  if (value.auth_id === VOBIZ_SECRET_PLACEHOLDER_AUTH_ID)
    return { state: 'placeholder', detail: 'the secret still holds the placeholder the stack wrote' };
  if (typeof value.auth_id !== 'string' || !AUTH_ID_PATTERN.test(value.auth_id))
    return { state: 'invalid', detail: 'the secret has no valid auth_id' };
  if (typeof value.auth_token !== 'string' || !value.auth_token)
    return { state: 'invalid', detail: 'the secret has no auth_token' };
  return {
    state: 'set',
    credentials: {
      authId: value.auth_id,
      authToken: value.auth_token,
      ...(typeof value.parent_auth_token === 'string' && value.parent_auth_token
        ? { parentAuthToken: value.parent_auth_token }
        : {}),
    },
  };
}

/** Every resource of the stack (ListStackResources, all pages). */
export async function stackResources(
  cfn: CloudFormationClient,
  stackName: string,
): Promise<StackResourceSummary[]> {
  const resources: StackResourceSummary[] = [];
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: stackName }))
    resources.push(...(page.StackResourceSummaries ?? []));
  return resources;
}

/** Doctor's view of a deployed stage. */
export function awsProbes(target: Extract<Target, { kind: 'stage' }>, env: Env): DoctorProbes {
  const config = awsConfig(env);
  const cfn = new CloudFormationClient(config);
  const stage = target.stage;
  let stack: Stack | undefined;
  let outputs: Record<string, string> = {};
  let credentials: VobizCredentials | undefined;
  const output = (name: string): string => {
    const value = name === 'TableName' && env.TABLE_NAME ? env.TABLE_NAME : outputs[name];
    if (!value)
      throw new TargetError(
        `the stack has no ${name} output: deploy the current version (vobiz-archive deploy --stage ${stage})`,
      );
    return value;
  };
  const lambda = () => new LambdaClient(config);
  const dynamo = new DynamoDBClient(awsConfig(env, 'dynamodb'));
  const table = {
    documents: createDocumentClient(dynamo),
    get tableName() {
      return output('TableName');
    },
  };
  const logGroup = (name: string) => outputs[name] ?? `the ${name} output`;

  return {
    where: `stage ${stage} (${target.stackName}${env.AWS_REGION ? ` in ${env.AWS_REGION}` : ''})`,
    async stack() {
      try {
        stack = await describeStack(cfn, target.stackName);
      } catch (error) {
        if (error instanceof TargetError)
          return { ok: false, detail: error.message, fix: `vobiz-archive deploy --stage ${stage}` };
        throw error;
      }
      outputs = stageOutputs(stack);
      const status = stack.StackStatus ?? 'UNKNOWN';
      if (USABLE.test(status))
        return {
          ok: true,
          detail: `${target.stackName} is ${status}${status === 'UPDATE_ROLLBACK_COMPLETE' ? ' (the last deploy was rolled back; the previous version runs)' : ''}`,
          fix: null,
        };
      return {
        ok: false,
        detail: `${target.stackName} is ${status}`,
        fix: status.endsWith('_IN_PROGRESS')
          ? 'a deployment is running: run doctor again when it has finished'
          : `see the stack's events (aws cloudformation describe-stack-events --stack-name ${target.stackName}), then vobiz-archive deploy --stage ${stage}`,
      };
    },
    async secret() {
      const arn = env.VOBIZ_SECRET_ARN ?? output('VobizSecretArn');
      const secrets = new SecretsManagerClient(config);
      try {
        const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
        const inspected = inspectSecret(SecretString);
        if (inspected.state === 'set') {
          credentials = inspected.credentials;
          return { ok: true, detail: `the secret holds auth id ${inspected.credentials.authId}`, fix: null };
        }
        return { ok: false, detail: inspected.detail, fix: `vobiz-archive set-secret --stage ${stage}` };
      } finally {
        secrets.destroy();
      }
    },
    async vobiz() {
      if (!credentials) return 'not-set';
      return checkVobizCredentials(
        outputs.VobizApiBaseUrl ?? env.VOBIZ_API_BASE_URL ?? DEFAULT_VOBIZ_API,
        credentials,
      );
    },
    get webhookUrl() {
      return output('WebhookUrl');
    },
    async trigger() {
      const client = lambda();
      try {
        const worker = output('ArchiveWorkerFunctionName');
        const { EventSourceMappings = [] } = await client.send(
          new ListEventSourceMappingsCommand({ FunctionName: worker }),
        );
        const mapping = EventSourceMappings.find((m) => m.EventSourceArn?.includes(':dynamodb:'));
        if (!mapping)
          return {
            ok: false,
            detail: `${worker} has no DynamoDB stream mapping`,
            fix: `vobiz-archive deploy --stage ${stage}`,
          };
        const detail = `the stream mapping ${mapping.UUID} is ${mapping.State}${mapping.LastProcessingResult ? `, last result ${mapping.LastProcessingResult}` : ''}`;
        if (mapping.State === 'Enabled') return { ok: true, detail, fix: null };
        return {
          ok: false,
          detail,
          fix:
            mapping.State === 'Disabled'
              ? `aws lambda update-event-source-mapping --uuid ${mapping.UUID} --enabled`
              : 'the mapping is changing state: run doctor again in a minute',
        };
      } finally {
        client.destroy();
      }
    },
    async deadLetters() {
      const url = output('ArchiveDeadLetterQueueUrl');
      const sqs = new SQSClient(config);
      try {
        const { Attributes = {} } = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        const count =
          Number(Attributes.ApproximateNumberOfMessages ?? 0) +
          Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
        const detail = `${count} batch${count === 1 ? '' : 'es'} in the archive worker's dead-letter queue`;
        return count === 0
          ? { ok: true, detail, fix: null }
          : {
              ok: false,
              detail: `${detail} (their records stay due: the re-drive archives them)`,
              fix: `read why in ${logGroup('ArchiveWorkerLogGroup')}, then empty the queue: aws sqs purge-queue --queue-url ${url}`,
            };
      } finally {
        sqs.destroy();
      }
    },
    table,
    async alarms() {
      const resources = (await stackResources(cfn, target.stackName)).filter(
        (r) => r.ResourceType === 'AWS::CloudWatch::Alarm' && r.PhysicalResourceId,
      );
      const logical = new Map(resources.map((r) => [r.PhysicalResourceId!, r.LogicalResourceId ?? '']));
      const names = [...logical.keys()];
      const cloudwatch = new CloudWatchClient(config);
      const firing: string[] = [];
      try {
        for (let i = 0; i < names.length; i += 100) {
          const { MetricAlarms = [] } = await cloudwatch.send(
            new DescribeAlarmsCommand({ AlarmNames: names.slice(i, i + 100), MaxRecords: 100 }),
          );
          for (const alarm of MetricAlarms)
            if (alarm.StateValue === 'ALARM') firing.push(logical.get(alarm.AlarmName!) || alarm.AlarmName!);
        }
      } finally {
        cloudwatch.destroy();
      }
      const detail = `${firing.length} of ${names.length} alarms in ALARM${firing.length ? `: ${firing.join(', ')}` : ''}`;
      return firing.length === 0
        ? { ok: true, detail, fix: null }
        : {
            ok: false,
            detail,
            fix: 'each alarm is explained, with what to do, in the docs (Operations, Alarms)',
          };
    },
    async concurrency() {
      const client = lambda();
      try {
        const settings = await client.send(new GetAccountSettingsCommand({}));
        const limit = settings.AccountLimit?.ConcurrentExecutions ?? 0;
        const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0;
        const reserved: string[] = [];
        let zero: string | undefined;
        for (const [label, name] of [
          ['webhook', 'WebhookFunctionName'],
          ['archive worker', 'ArchiveWorkerFunctionName'],
        ] as const) {
          const { ReservedConcurrentExecutions } = await client.send(
            new GetFunctionConcurrencyCommand({ FunctionName: output(name) }),
          );
          if (ReservedConcurrentExecutions === 0) zero = label;
          reserved.push(`${label} ${ReservedConcurrentExecutions ?? 'none'}`);
        }
        const detail = `account limit ${limit}, unreserved ${unreserved}; reserved: ${reserved.join(', ')}`;
        if (zero)
          return {
            ok: false,
            detail: `${detail}: the ${zero} is throttled to 0`,
            fix: `vobiz-archive deploy --stage ${stage} (restores the stage's reserved concurrency)`,
          };
        if (unreserved < UNRESERVED_FLOOR)
          return {
            ok: false,
            detail: `${detail}: fewer than ${UNRESERVED_FLOOR} left unreserved`,
            fix: 'ask AWS for a higher Lambda concurrency limit (Service Quotas), or lower webhookReservedConcurrency / archiveConcurrency',
          };
        return { ok: true, detail, fix: null };
      } finally {
        client.destroy();
      }
    },
    schedules: HEARTBEAT_SCHEDULES,
    get runningSinceMs() {
      return (stack?.LastUpdatedTime ?? stack?.CreationTime ?? new Date(0)).getTime();
    },
    // Read when a check fails, after the stack check has read the outputs the fixes name.
    get fixes() {
      return {
        vobizRefused: `vobiz-archive set-secret --stage ${stage}`,
        trigger: `vobiz-archive deploy --stage ${stage}`,
        pending: `read the re-drive's errors in ${logGroup('RedriveLogGroup')}; the records: vobiz-archive query --stage ${stage} '/recordings?status=pending'`,
        failed: `read their last_error (vobiz-archive query --stage ${stage} '/recordings?status=failed'), then vobiz-archive retry --stage ${stage} --all-failed`,
        sweep: `the re-drive is not running or failing: read ${logGroup('RedriveLogGroup')} and check its schedule rule is enabled`,
        lifecycle: `the lifecycle is not running or failing: read ${logGroup('LifecycleLogGroup')} and check its schedule rule is enabled`,
        webhook: `read ${logGroup('WebhookLogGroup')} and the API access log ${logGroup('ApiAccessLogGroup')}`,
      };
    },
  };
}

/** Doctor's view of the local stack (npm start): its /health, DynamoDB Local, and its Vobiz check. */
export async function localProbes(
  port: number,
  env: Env,
  fetchImpl: typeof fetch = fetch,
): Promise<DoctorProbes> {
  let health: LocalHealth | undefined;
  let resolved: Env = env;
  let failure: string | undefined;
  try {
    ({ health, env: resolved } = await localEnv(port, env, fetchImpl));
  } catch (error) {
    failure = (error as Error).message;
  }
  const gateway = `http://127.0.0.1:${port}`;
  const restart = `restart the local stack (npm start${port === 3000 ? '' : ` -- --port ${port}`})`;
  const dynamo = new DynamoDBClient(awsConfig(resolved, 'dynamodb'));
  const everyMs = (seconds: number | undefined, fallback: number) => (seconds ?? fallback) * 1000;
  const local = ` --local${port === 3000 ? '' : ` --port ${port}`}`;
  return {
    where: `the local stack at ${gateway}`,
    stack: () =>
      Promise.resolve(
        health
          ? {
              ok: true,
              detail: `${gateway} is up (Vobiz: ${health.vobiz}, since ${health.started_at ?? '?'})`,
              fix: null,
            }
          : { ok: false, detail: failure ?? 'no answer', fix: restart },
      ),
    async vobiz() {
      const response = await fetchImpl(`${gateway}/health/vobiz`, { signal: AbortSignal.timeout(15_000) });
      if (!response.ok)
        throw new Error(`/health/vobiz answered HTTP ${response.status}: update the local stack`);
      return (await response.json()) as Awaited<ReturnType<DoctorProbes['vobiz']>>;
    },
    get webhookUrl() {
      return health?.webhook_url ?? `${gateway}/webhooks/vobiz/recording`;
    },
    trigger: () =>
      Promise.resolve(
        health?.archive_worker === 'stopped'
          ? {
              ok: false,
              detail:
                'the archive worker is not running (started with --no-worker): callbacks wait as pending',
              fix: `${restart} without --no-worker`,
            }
          : { ok: true, detail: "the archive worker runs from the table's stream", fix: null },
      ),
    deadLetters: () => {
      const count = health?.discarded_batches ?? 0;
      const detail = `${count} batch${count === 1 ? '' : 'es'} given up by the archive trigger since the stack started`;
      return Promise.resolve(
        count === 0
          ? { ok: true, detail, fix: null }
          : {
              ok: false,
              detail: `${detail} (their records stay due: the re-drive archives them)`,
              fix: "read the npm start output for 'archive-worker failed'; restarting the stack clears this count",
            },
      );
    },
    table: { documents: createDocumentClient(dynamo), tableName: resolved.TABLE_NAME ?? 'vobiz-recordings' },
    schedules: {
      'backfill-sweep': { everyMs: everyMs(health?.redrive_interval_seconds, 15), timeoutMs: 5 * 60_000 },
      lifecycle: { everyMs: everyMs(health?.lifecycle_interval_seconds, 30), timeoutMs: 4 * 60_000 },
    },
    runningSinceMs: Date.parse(health?.started_at ?? '') || Date.now(),
    fixes: {
      vobizRefused: `${restart} with the right VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN (or neither, for the simulator)`,
      trigger: `${restart} without --no-worker`,
      pending: `read the npm start output (archive-worker and redrive lines); the records: vobiz-archive query${local} '/recordings?status=pending'`,
      failed: `read their last_error (vobiz-archive query${local} '/recordings?status=failed'), then vobiz-archive retry${local} --all-failed`,
      sweep: "read the npm start output for 'redrive failed'",
      lifecycle: "read the npm start output for 'lifecycle failed'",
      webhook: `read the npm start output for the webhook's lines; ${restart} if it hangs`,
    },
  };
}
