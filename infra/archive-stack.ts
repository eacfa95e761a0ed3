import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, LogGroupLogDestination, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { Alarms } from './alarms.js';
import { ArchiveWorker } from './archive-worker.js';
import { AuditCopy } from './audit-copy.js';
import { Console } from './console.js';
import { Dashboard } from './dashboard.js';
import { DataStore } from './data-store.js';
import { Lifecycle } from './lifecycle.js';
import { LookupApi } from './lookup-api.js';
import { Redrive } from './redrive.js';
import { RetryApi } from './retry-api.js';
import type { StageSettings } from './settings.js';
import { VobizSecret } from './vobiz-secret.js';
import { Webhook, WEBHOOK_PATH } from './webhook.js';

export interface ArchiveStackProps extends StackProps {
  readonly settings: StageSettings;
}

/**
 * One JSON line per request; the Logs Insights queries in docs/guides/runbook.md rely on these field names. Status and
 * latency are always set, so they are written as numbers (comparable in queries); the rest are strings.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    time: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    caller: '$context.identity.userArn',
    // Console calls: the identity pool identity and the user pool user (`…:CognitoSignIn:<sub>`).
    cognitoIdentity: '$context.identity.cognitoIdentityId',
    cognitoUser: '$context.identity.cognitoAuthenticationProvider',
    method: '$context.httpMethod',
    route: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    responseLength: '$context.responseLength',
    latencyMs: '$context.responseLatency',
    integrationLatencyMs: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authError: '$context.authorizer.error',
  })
    .replace('"$context.status"', '$context.status')
    .replace('"$context.responseLatency"', '$context.responseLatency'),
);

/**
 * The archive: data store, public webhook (verifies and records), the archive worker its records start
 * through the table's stream, the IAM-authorized lookup API, the scheduled re-drive (retries with
 * backoff, sweeps for missed callbacks) and the alarms over all of them.
 */
export class ArchiveStack extends Stack {
  readonly store: DataStore;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly vobizSecret: VobizSecret;
  readonly webhook: Webhook;
  readonly worker: ArchiveWorker;
  readonly lookup: LookupApi;
  readonly redrive: Redrive;
  readonly lifecycle: Lifecycle;
  readonly auditCopy: AuditCopy;
  readonly retryApi: RetryApi;
  readonly alarms: Alarms;
  readonly dashboard: Dashboard;
  readonly console?: Console;

  constructor(scope: Construct, id: string, props: ArchiveStackProps) {
    super(scope, id, props);
    const { settings } = props;

    this.store = new DataStore(this, 'Data', { settings });

    this.api = new HttpApi(this, 'Api', {
      description: `vobiz-recording-archive (${settings.stageName})`,
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      retention: settings.logRetention,
      removalPolicy: settings.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: settings.apiThrottle,
      accessLogSettings: { destination: new LogGroupLogDestination(accessLogs), format: ACCESS_LOG_FORMAT },
    });

    this.vobizSecret = new VobizSecret(this, 'Vobiz', { settings, store: this.store });
    const store = this.store;
    const vobizSecret = this.vobizSecret;
    this.webhook = new Webhook(this, 'Webhook', {
      settings,
      store,
      api: this.api,
      stage: this.stage,
      vobizSecret,
    });
    this.worker = new ArchiveWorker(this, 'ArchiveWorker', { settings, store, vobizSecret });
    this.lookup = new LookupApi(this, 'Lookup', { settings, store, api: this.api });
    if (settings.console) {
      const { bucket: audioBucket, accessLogsBucket } = this.store;
      this.console = new Console(this, 'Console', {
        settings,
        options: settings.console,
        api: this.api,
        audioBucket,
        accessLogsBucket,
      });
    }
    this.redrive = new Redrive(this, 'Redrive', {
      settings,
      store,
      vobizSecret,
      maxAttempts: settings.maxAttempts,
      backfillLookbackMinutes: settings.backfillLookbackMinutes,
    });
    this.lifecycle = new Lifecycle(this, 'Lifecycle', { settings, store, vobizSecret, api: this.api });
    this.auditCopy = new AuditCopy(this, 'AuditCopy', { settings, store });
    this.retryApi = new RetryApi(this, 'RetryApi', { settings, store, api: this.api });

    this.alarms = new Alarms(this, 'Alarms', {
      settings,
      api: this.api,
      functions: {
        Webhook: this.webhook.function,
        ArchiveWorker: this.worker.function,
        Lookup: this.lookup.function,
        Redrive: this.redrive.function,
        Lifecycle: this.lifecycle.scheduled,
        LifecycleApi: this.lifecycle.apiFunction,
        AuditCopy: this.auditCopy.function,
        RetryApi: this.retryApi.function,
      },
      worker: { function: this.worker.function, deadLetterQueue: this.worker.deadLetterQueue },
      auditCopy: { deadLetterQueue: this.auditCopy.deadLetterQueue },
    });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      settings,
      api: this.api,
      webhook: this.webhook.function,
      worker: this.worker,
      auditCopy: this.auditCopy,
      alarms: this.alarms,
    });

    // The `$default` stage is served at the API's root, so the endpoint is the base URL.
    const apiUrl = this.api.apiEndpoint;
    new CfnOutput(this, 'ApiUrl', {
      value: apiUrl,
      description: 'Base URL of the HTTP API (the /recordings routes need SigV4)',
    });
    new CfnOutput(this, 'WebhookUrl', {
      value: settings.webhookPublicUrl ?? `${apiUrl}${WEBHOOK_PATH}`,
      description:
        "Vobiz recording callback URL (set it as the recording callback / 'recording_callback_url')",
    });
    new CfnOutput(this, 'TableName', { value: this.store.table.tableName });
    new CfnOutput(this, 'BucketName', { value: this.store.bucket.bucketName });
    new CfnOutput(this, 'AuditBucketName', {
      value: this.store.auditBucket.bucketName,
      description: 'The immutable copy of the audit trail (S3 Object Lock, compliance mode)',
    });
    // Where the operator commands check the Vobiz credentials (set-secret, doctor): the stage's setting.
    new CfnOutput(this, 'VobizApiBaseUrl', { value: settings.vobizApiBaseUrl });
    new CfnOutput(this, 'VobizSecretArn', {
      value: this.vobizSecret.secretArn,
      description: 'Put {"auth_id","auth_token"} here',
    });
    // For operators: where the logs are (docs/guides/runbook.md) and which functions hold the Vobiz token.
    new CfnOutput(this, 'WebhookFunctionName', { value: this.webhook.function.functionName });
    new CfnOutput(this, 'ArchiveWorkerFunctionName', { value: this.worker.function.functionName });
    new CfnOutput(this, 'RedriveFunctionName', { value: this.redrive.function.functionName });
    new CfnOutput(this, 'WebhookLogGroup', { value: this.webhook.function.logGroup.logGroupName });
    new CfnOutput(this, 'ArchiveWorkerLogGroup', {
      value: this.worker.function.logGroup.logGroupName,
    });
    new CfnOutput(this, 'RedriveLogGroup', { value: this.redrive.function.logGroup.logGroupName });
    new CfnOutput(this, 'LookupLogGroup', { value: this.lookup.function.logGroup.logGroupName });
    new CfnOutput(this, 'LifecycleFunctionName', { value: this.lifecycle.scheduled.functionName });
    new CfnOutput(this, 'LifecycleLogGroup', { value: this.lifecycle.scheduled.logGroup.logGroupName });
    new CfnOutput(this, 'LifecycleApiLogGroup', { value: this.lifecycle.apiFunction.logGroup.logGroupName });
    new CfnOutput(this, 'RetryApiLogGroup', { value: this.retryApi.function.logGroup.logGroupName });
    new CfnOutput(this, 'ArchiveDeadLetterQueueUrl', {
      value: this.worker.deadLetterQueue.queueUrl,
      description:
        "Batches the archive worker's trigger gave up on (their records stay due for the re-drive)",
    });
    new CfnOutput(this, 'AuditCopyDeadLetterQueueUrl', {
      value: this.auditCopy.deadLetterQueue.queueUrl,
      description:
        'Batches of audit entries the copy gave up on (shard and sequence numbers; the entries stay in the table)',
    });
    new CfnOutput(this, 'ApiAccessLogGroup', { value: accessLogs.logGroupName });
    if (this.alarms.topic) new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
    new CfnOutput(this, 'DashboardUrl', {
      value: this.dashboard.url,
      description: 'The CloudWatch dashboard: callbacks, archiving, Vobiz errors, lifecycle, alarms',
    });
  }
}
