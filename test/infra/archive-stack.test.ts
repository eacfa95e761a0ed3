import type { CfnElement } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../functions/shared/domain/table.js';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/shared/framework/observability.js';
import { ARCHIVE_WORKER_VARIABLES } from '../../functions/archive-worker/dependencies.js';
import { AUDIT_COPY_VARIABLES } from '../../functions/audit-copy/config.js';
import { LIFECYCLE_VARIABLES } from '../../functions/lifecycle/dependencies.js';
import { LOOKUP_VARIABLES } from '../../functions/lookup/config.js';
import { REDRIVE_VARIABLES } from '../../functions/redrive/dependencies.js';
import { RETRY_API_VARIABLES } from '../../functions/retry-api/config.js';
import { WEBHOOK_VARIABLES } from '../../functions/webhook/dependencies.js';
import type { EnvVar } from '../../functions/shared/config.js';
import { ALARMED_FUNCTIONS, ALARMS } from '../../infra/alarms.js';
import { SETTINGS } from '../../infra/settings.js';
import { buildStack } from './build.js';
import { ROUTES as LOCAL_ROUTES } from '../../local/gateway.js';
import { actionsOf, allows, permissionsOf, resourcesFor, RESOURCE, statementsByRole } from './iam.js';

const prod = buildStack('prod');
const dev = buildStack('dev');
const kms = buildStack('prod', {
  encryption: 'kms',
  alarmEmail: 'ops@example.com',
  webhookReservedConcurrency: '20',
  webhookPublicUrl: 'https://archive.example.com/webhooks/vobiz/recording',
});
const external = buildStack('staging', {
  vobizSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf',
  vobizSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall',
  tracing: 'false',
});

const webhookPermissions = permissionsOf(prod.template, prod.stack, prod.stack.webhook.function);
const lookupPermissions = permissionsOf(prod.template, prod.stack, prod.stack.lookup.function);

/** CloudFormation properties, loosely typed on purpose: the assertions below state their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;

function functionProps(built: typeof prod, which: 'webhook' | 'lookup'): Props {
  const fn = which === 'webhook' ? built.stack.webhook.function : built.stack.lookup.function;
  const id = built.stack.getLogicalId(fn.node.defaultChild as CfnElement);
  return built.template.toJSON().Resources[id].Properties as Props;
}

describe('webhook role', () => {
  it('may only put items on the table itself (the notification and its nonces), not its indexes', () => {
    expect(resourcesFor(webhookPermissions, 'dynamodb:PutItem')).toEqual([RESOURCE.table]);
    const dynamo = [...actionsOf(webhookPermissions)].filter((action) => action.startsWith('dynamodb:'));
    expect(dynamo).toEqual(['dynamodb:PutItem']);
  });

  it('has no S3 permission at all: it cannot write, read or delete audio', () => {
    expect([...actionsOf(webhookPermissions)].filter((action) => action.startsWith('s3:'))).toEqual([]);
    expect(JSON.stringify(webhookPermissions)).not.toContain('RecordingsBucket');
  });

  it('cannot read, update, delete, scan, query or batch anything, and holds no wildcard action', () => {
    const actions = actionsOf(webhookPermissions);
    for (const forbidden of [
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:Scan',
      'dynamodb:Query',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteTable',
    ]) {
      expect(actions.has(forbidden), forbidden).toBe(false);
    }
    expect([...actions].filter((action) => action.includes('*'))).toEqual([]);
  });

  it('may read the Vobiz secret and no other secret', () => {
    expect(resourcesFor(webhookPermissions, 'secretsmanager:GetSecretValue')).toEqual([
      JSON.stringify({ Ref: 'VobizSecret' }),
    ]);
    expect(actionsOf(webhookPermissions).has('secretsmanager:PutSecretValue')).toBe(false);
  });

  it('has no AWS-managed policies and writes logs only to its own log group', () => {
    const logResources = resourcesFor(webhookPermissions, 'logs:PutLogEvents');
    expect(logResources).toHaveLength(1);
    expect(logResources[0]).toContain('WebhookFunctionLogs');
  });
});

describe('lookup role', () => {
  it('may get and query the table and its indexes', () => {
    expect(resourcesFor(lookupPermissions, 'dynamodb:GetItem')).toEqual([
      RESOURCE.table,
      RESOURCE.tableIndexes,
    ]);
    expect(resourcesFor(lookupPermissions, 'dynamodb:Query')).toEqual([
      RESOURCE.table,
      RESOURCE.tableIndexes,
    ]);
  });

  it('may get audio objects under recordings/ (to presign links) and read the cursor key', () => {
    expect(resourcesFor(lookupPermissions, 's3:GetObject')).toEqual([RESOURCE.audio]);
    const cursorSecret = prod.stack.resolve(prod.stack.lookup.cursorSecret.secretArn) as unknown;
    expect(resourcesFor(lookupPermissions, 'secretsmanager:GetSecretValue')).toEqual([
      JSON.stringify(cursorSecret),
    ]);
  });

  it('may put audit items (who listened) and nothing else: PutItem only on AUDIT# partition keys', () => {
    const statements = statementsByRole(prod.template).get(
      prod.stack.getLogicalId(prod.stack.lookup.function.role!.node.defaultChild as CfnElement),
    )!;
    expect(allows(statements, 'dynamodb:PutItem', RESOURCE.table, 'AUDIT#3')).toBe(true);
    for (const key of ['REC#r1', 'NONCE#n1', 'CALL#c1', 'AUDITX'])
      expect(allows(statements, 'dynamodb:PutItem', RESOURCE.table, key), key).toBe(false);
    for (const action of ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'])
      expect(allows(statements, action, RESOURCE.table, 'AUDIT#3'), action).toBe(false);
    const put = statements.filter(
      (s) => [s.Action].flat().includes('dynamodb:PutItem') && s.Effect === 'Allow',
    );
    expect(put).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:PutItem',
        Resource: JSON.parse(RESOURCE.table) as unknown,
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } },
      },
    ]);
  });

  it('cannot change anything, scan, or read the Vobiz credentials', () => {
    const actions = actionsOf(lookupPermissions);
    for (const forbidden of [
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:Scan',
      's3:PutObject',
      's3:DeleteObject',
      's3:ListBucket',
      'secretsmanager:PutSecretValue',
    ]) {
      expect(actions.has(forbidden), forbidden).toBe(false);
    }
    expect([...actions].filter((action) => action.includes('*'))).toEqual([]);
    expect(JSON.stringify(lookupPermissions)).not.toContain('VobizSecret');
  });
});

describe('KMS mode', () => {
  const webhook = permissionsOf(kms.template, kms.stack, kms.stack.webhook.function);
  const lookup = permissionsOf(kms.template, kms.stack, kms.stack.lookup.function);
  const key = JSON.stringify({ 'Fn::GetAtt': ['ArchiveKey', 'Arn'] });

  it('encrypts the bucket, the table and both secrets with one rotating customer-managed key', () => {
    kms.template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    kms.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    kms.template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
    expect(
      Object.values(kms.template.findResources('AWS::SecretsManager::Secret')).every(
        (s) => s.Properties.KmsKeyId,
      ),
    ).toBe(true);
  });

  it('lets the webhook and the lookup (its who-listened entries) encrypt and decrypt, without wildcards', () => {
    for (const permissions of [webhook, lookup])
      for (const action of ['kms:GenerateDataKey', 'kms:Encrypt', 'kms:Decrypt'])
        expect(resourcesFor(permissions, action), action).toContain(key);
    expect([...actionsOf(webhook), ...actionsOf(lookup)].filter((a) => a.includes('*'))).toEqual([]);
  });
});

describe('an existing Vobiz secret', () => {
  const webhook = permissionsOf(external.template, external.stack, external.stack.webhook.function);

  it('is referenced by ARN, readable by the webhook, and decryptable only through Secrets Manager', () => {
    expect(Object.keys(external.template.findResources('AWS::SecretsManager::Secret'))).not.toContain(
      'VobizSecret',
    );
    expect(functionProps(external, 'webhook').Environment.Variables.VOBIZ_SECRET_ARN).toBe(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf',
    );
    expect(resourcesFor(webhook, 'secretsmanager:GetSecretValue')).toEqual([
      JSON.stringify('arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf'),
    ]);
    external.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'kms:Decrypt',
            Resource: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
            Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe('function environment', () => {
  /** Every stage setting that reaches a variable, set, so that the stack binds all of them. */
  const everything = buildStack('prod', {
    webhookPublicUrl: 'https://archive.example.com/webhooks/vobiz/recording',
    maxAttempts: '12',
    backfillLookbackMinutes: '60',
    retentionDays: '400',
    deleteFromVobizAfterDays: '7',
    vobizSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vobiz-AbCdEf',
  });
  const environmentOf = (fn: IFunction) => {
    const id = everything.stack.getLogicalId(fn.node.defaultChild as CfnElement);
    const resource = everything.template.toJSON().Resources[id] as Props;
    return resource.Properties.Environment.Variables as Record<string, unknown>;
  };
  const functions: [string, IFunction, readonly EnvVar[]][] = [
    ['webhook', everything.stack.webhook.function, WEBHOOK_VARIABLES],
    ['archive worker', everything.stack.worker.function, ARCHIVE_WORKER_VARIABLES],
    ['re-drive', everything.stack.redrive.function, REDRIVE_VARIABLES],
    ['lookup', everything.stack.lookup.function, LOOKUP_VARIABLES],
    ['lifecycle', everything.stack.lifecycle.scheduled, LIFECYCLE_VARIABLES],
    ['lifecycle API', everything.stack.lifecycle.apiFunction, LIFECYCLE_VARIABLES],
    ['audit copy', everything.stack.auditCopy.function, AUDIT_COPY_VARIABLES],
    ['retry API', everything.stack.retryApi.function, RETRY_API_VARIABLES],
  ];

  it('sets on each function only variables that function declares it reads (the generated reference lists those)', () => {
    for (const [name, fn, variables] of functions) {
      const declared = new Set(variables.map((variable) => variable.name));
      const set = Object.keys(environmentOf(fn));
      expect(
        set.filter((variable) => !declared.has(variable)),
        name,
      ).toEqual([]);
    }
  });

  it('passes every stage setting that names a variable to each function that reads that variable', () => {
    for (const [key, definition] of Object.entries(SETTINGS)) {
      const variable = (definition as { variable?: string }).variable;
      if (!variable) continue;
      const readers = functions.filter(([, , variables]) => variables.some((v) => v.name === variable));
      expect(readers.length, key).toBeGreaterThan(0);
      const receiving = readers.filter(([, fn]) => environmentOf(fn)[variable] !== undefined);
      // The lifecycle API never expires nor deletes by schedule: only the scheduled lifecycle gets those.
      const scheduledOnly = variable === 'RETENTION_DAYS' || variable === 'VOBIZ_DELETE_AFTER_DAYS';
      expect(
        receiving.map(([name]) => name),
        `${key} → ${variable}`,
      ).toEqual(readers.map(([name]) => name).filter((name) => !(scheduledOnly && name === 'lifecycle API')));
    }
  });
});

describe('HTTP API', () => {
  const routes = Object.values(prod.template.findResources('AWS::ApiGatewayV2::Route')).map(
    (r) => r.Properties as Props,
  );
  const authorizationOf = (routeKey: string) =>
    routes.find((r) => r.RouteKey === routeKey)?.AuthorizationType as unknown;

  it('serves the webhook, the lookup routes, the lifecycle routes and the retry, other methods included (the functions answer 405)', () => {
    expect(routes.map((r) => r.RouteKey as string).sort()).toEqual([
      'ANY /audit',
      'ANY /recordings',
      'ANY /recordings/{recording_id}',
      'ANY /recordings/{recording_id}/audio',
      'ANY /recordings/{recording_id}/legal-hold',
      'ANY /recordings/{recording_id}/retry',
      'ANY /webhooks/vobiz/recording',
      'DELETE /recordings/{recording_id}',
      'DELETE /recordings/{recording_id}/legal-hold',
      'GET /audit',
      'GET /recordings',
      'GET /recordings/{recording_id}',
      'GET /recordings/{recording_id}/audio',
      'POST /recordings/{recording_id}/retry',
      'PUT /recordings/{recording_id}/legal-hold',
    ]);
  });

  it('is the same set of routes the local stack serves (local/gateway.ts), each to the same function', () => {
    const integrations = prod.template.findResources('AWS::ApiGatewayV2::Integration');
    const functionOf = (route: Props) => {
      const integrationId = /"Ref":"([^"]+)"/.exec(JSON.stringify(route.Target))![1]!;
      const uri = JSON.stringify(integrations[integrationId]!.Properties.IntegrationUri);
      const targets: [string, IFunction][] = [
        ['webhook', prod.stack.webhook.function],
        ['lookup', prod.stack.lookup.function],
        ['lifecycle', prod.stack.lifecycle.apiFunction],
        ['retry', prod.stack.retryApi.function],
      ];
      return targets.find(([, fn]) =>
        uri.includes(prod.stack.getLogicalId(fn.node.defaultChild as CfnElement)),
      )?.[0];
    };
    const deployed = routes.map((r) => `${r.RouteKey as string} → ${functionOf(r)}`).sort();
    expect(deployed).toEqual(LOCAL_ROUTES.map((r) => `${r.method} ${r.template} → ${r.target}`).sort());
  });

  it('requires IAM on /audit too', () => {
    for (const key of ['GET /audit', 'ANY /audit']) expect(authorizationOf(key), key).toBe('AWS_IAM');
  });

  it('leaves the webhook public (the function checks the Vobiz signature)', () => {
    expect(authorizationOf('ANY /webhooks/vobiz/recording')).toBe('NONE');
  });

  it('throttles the public webhook apart from the IAM routes, which keep the stage default', () => {
    const stage = Object.values(prod.template.findResources('AWS::ApiGatewayV2::Stage'))[0]!
      .Properties as Props;
    expect(stage.RouteSettings).toEqual({
      'ANY /webhooks/vobiz/recording': {
        ThrottlingRateLimit: 100,
        ThrottlingBurstLimit: 200,
        DetailedMetricsEnabled: true, // the dashboard's webhook answers and latency
      },
    });
    expect(stage.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    const tuned = buildStack('prod', { webhookRateLimit: '20', webhookBurstLimit: '40' });
    tuned.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: {
        'ANY /webhooks/vobiz/recording': {
          ThrottlingRateLimit: 20,
          ThrottlingBurstLimit: 40,
          DetailedMetricsEnabled: true,
        },
      },
    });
  });

  it('requires IAM (SigV4) on every /recordings route', () => {
    for (const route of routes.filter((r) => (r.RouteKey as string).includes('/recordings'))) {
      expect(route.AuthorizationType, route.RouteKey as string).toBe('AWS_IAM');
    }
  });

  it('throttles and access-logs the stage', () => {
    prod.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp('"status":\\$context.status,'),
      },
    });
  });

  it('writes access log lines that are JSON with numeric status and latency', () => {
    const stage = Object.values(prod.template.findResources('AWS::ApiGatewayV2::Stage'))[0]!
      .Properties as Props;
    const line = (stage.AccessLogSettings.Format as string)
      .replace('$context.status', '502')
      .replace('$context.responseLatency', '1234')
      .replace(/\$context\.[a-zA-Z.]+/g, '-');
    expect(JSON.parse(line)).toMatchObject({ status: 502, latencyMs: 1234, route: '-' });
  });

  it('reports the webhook URL, API URL, table, bucket and secret', () => {
    const outputs = prod.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual([
      'ApiAccessLogGroup',
      'ApiUrl',
      'ArchiveDeadLetterQueueUrl',
      'ArchiveWorkerFunctionName',
      'ArchiveWorkerLogGroup',
      'AuditBucketName',
      'AuditCopyDeadLetterQueueUrl',
      'BucketName',
      'ConsoleUrl',
      'DashboardUrl',
      'IdentityPoolId',
      'LifecycleApiLogGroup',
      'LifecycleFunctionName',
      'LifecycleLogGroup',
      'LookupLogGroup',
      'RedriveFunctionName',
      'RedriveLogGroup',
      'RetryApiLogGroup',
      'TableName',
      'UserPoolClientId',
      'UserPoolId',
      'VobizApiBaseUrl',
      'VobizSecretArn',
      'WebhookFunctionName',
      'WebhookLogGroup',
      'WebhookUrl',
    ]);
    expect(JSON.stringify(outputs.WebhookUrl!.Value)).toContain('/webhooks/vobiz/recording');
    expect(outputs.TableName!.Value).toEqual({ Ref: 'RecordingsTable' });
    expect(outputs.BucketName!.Value).toEqual({ Ref: 'RecordingsBucket' });
  });
});

describe('functions', () => {
  it('run Node 22 on arm64 with tracing, their own log group and a timeout under the API limit', () => {
    for (const which of ['webhook', 'lookup'] as const) {
      const props = functionProps(prod, which);
      expect(props).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
      expect(props.LoggingConfig.LogGroup.Ref).toMatch(
        which === 'webhook' ? /^WebhookFunctionLogs/ : /^LookupFunctionLogs/,
      );
      expect(props.Timeout).toBeLessThanOrEqual(which === 'webhook' ? 10 : 29);
      expect(props.Environment.Variables).toMatchObject({
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
      // Source maps are read when a stack trace is formatted, not by Node at every cold start.
      expect(props.Environment.Variables.NODE_OPTIONS).toBeUndefined();
      expect(props.Handler).toBe('index.handler');
      // Tracing is the Lambda setting above; no code reads a Powertools tracer switch.
      expect(props.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBeUndefined();
    }
    // A log group per function (eight) and the API's access log.
    prod.template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 90 }, 9);
    dev.template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 7 }, 9);
  });

  it('wire the webhook to the table and the Vobiz secret only, never to plain credentials, S3 or the Vobiz API', () => {
    const env = functionProps(prod, 'webhook').Environment.Variables;
    expect(env).toMatchObject({
      TABLE_NAME: { Ref: 'RecordingsTable' },
      VOBIZ_SECRET_ARN: { Ref: 'VobizSecret' },
    });
    for (const name of ['BUCKET_NAME', 'VOBIZ_API_BASE_URL', 'ALLOWED_MEDIA_ORIGINS', 'MAX_ATTEMPTS'])
      expect(env[name], name).toBeUndefined();
    expect(env.WEBHOOK_PUBLIC_URL).toBeUndefined();
    for (const name of Object.keys(env)) expect(name).not.toMatch(/TOKEN|AUTH_ID|PASSWORD/);
    expect(functionProps(kms, 'webhook').Environment.Variables.WEBHOOK_PUBLIC_URL).toBe(
      'https://archive.example.com/webhooks/vobiz/recording',
    );
  });

  it('wire the lookup to the table, bucket, cursor key and link lifetime', () => {
    const env = functionProps(prod, 'lookup').Environment.Variables;
    expect(env).toMatchObject({
      TABLE_NAME: { Ref: 'RecordingsTable' },
      BUCKET_NAME: { Ref: 'RecordingsBucket' },
      CURSOR_SECRET_ARN: prod.stack.resolve(prod.stack.lookup.cursorSecret.secretArn),
      PRESIGN_TTL_SECONDS: '900',
    });
    expect(env.VOBIZ_SECRET_ARN).toBeUndefined();
  });

  it('generate the cursor key in the stack: 64 characters, no punctuation', () => {
    prod.template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true },
    });
  });

  it('reserve webhook concurrency by default (a setting; none switches it off)', () => {
    expect(functionProps(prod, 'webhook').ReservedConcurrentExecutions).toBe(25);
    expect(functionProps(kms, 'webhook').ReservedConcurrentExecutions).toBe(20);
    const none = buildStack('prod', { webhookReservedConcurrency: 'none' });
    expect(functionProps(none, 'webhook').ReservedConcurrentExecutions).toBeUndefined();
    expect(functionProps(prod, 'lookup').ReservedConcurrentExecutions).toBeUndefined();
  });

  it('can switch tracing off per stage', () => {
    expect(functionProps(external, 'webhook').TracingConfig?.Mode).not.toBe('Active');
    const webhook = permissionsOf(external.template, external.stack, external.stack.webhook.function);
    expect(actionsOf(webhook).has('xray:PutTraceSegments')).toBe(false);
  });
});

describe('table', () => {
  it('is built from the shared key and index description, on demand, with PITR and TTL', () => {
    const table = prod.template.findResources('AWS::DynamoDB::Table').RecordingsTable!.Properties;
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.KeySchema).toEqual([
      { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
    ]);
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    expect(table.SSESpecification).toEqual({ SSEEnabled: true });
    const indexes = (
      table.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown; Projection: unknown }[]
    ).map((index) => [index.IndexName, index.KeySchema, index.Projection]);
    expect(indexes).toEqual(
      Object.values(INDEXES).map((index) => [
        index.name,
        [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        { ProjectionType: 'ALL' },
      ]),
    );
  });
});

describe('bucket', () => {
  const bucket = prod.template.findResources('AWS::S3::Bucket').RecordingsBucket!.Properties;

  it('blocks public access, is versioned and encrypted (SSE-S3 by default), and logs access', () => {
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(bucket.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: 'AccessLogsBucket' },
      LogFilePrefix: 'recordings-bucket/',
    });
  });

  it('refuses every request without TLS (1.2 or newer)', () => {
    prod.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: 'RecordingsBucket' },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
          }),
        ]),
      },
    });
  });

  it('moves audio to colder classes, expires old versions and aborts stale uploads as configured', () => {
    expect(bucket.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'audio',
        Prefix: 'recordings/',
        Status: 'Enabled',
        Transitions: [
          { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
          { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
        ],
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      },
      {
        Id: 'abort-incomplete-uploads',
        Status: 'Enabled',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      },
    ]);
    const custom = buildStack('prod', {
      infrequentAccessAfterDays: '60',
      glacierAfterDays: 'none',
      retentionDays: '3650',
    });
    const rules =
      custom.template.findResources('AWS::S3::Bucket').RecordingsBucket!.Properties.LifecycleConfiguration
        .Rules;
    expect(rules[0]).toMatchObject({ Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 60 }] });
    // Retention is the application's: no S3 rule deletes audio behind the records' back.
    for (const built of [custom, dev]) {
      const [audio] =
        built.template.findResources('AWS::S3::Bucket').RecordingsBucket!.Properties.LifecycleConfiguration
          .Rules;
      expect(audio.ExpirationInDays).toBeUndefined();
    }
  });
});

describe('stateful resources', () => {
  it('keep stable logical ids', () => {
    for (const built of [prod, dev, kms]) {
      expect(Object.keys(built.template.findResources('AWS::DynamoDB::Table'))).toEqual(['RecordingsTable']);
      // The console's bucket holds only its build, redeployed from source: not state.
      const buckets = Object.keys(built.template.findResources('AWS::S3::Bucket'));
      expect(buckets.filter((id) => !id.startsWith('ConsoleBucket')).sort()).toEqual([
        'AccessLogsBucket',
        'AuditBucket',
        'RecordingsBucket',
      ]);
      expect(Object.keys(built.template.findResources('AWS::Cognito::UserPool'))).toEqual([
        'ConsoleUserPool',
      ]);
    }
    expect(Object.keys(kms.template.findResources('AWS::KMS::Key'))).toEqual(['ArchiveKey']);
    expect(Object.keys(prod.template.findResources('AWS::SecretsManager::Secret'))).toContain('VobizSecret');
  });

  it('are retained and deletion-protected outside throwaway stages', () => {
    for (const built of [prod, kms, external]) {
      const resources = built.template.toJSON().Resources as Record<
        string,
        { DeletionPolicy?: string; Properties: Record<string, unknown> }
      >;
      for (const id of ['RecordingsTable', 'RecordingsBucket', 'AccessLogsBucket', 'AuditBucket']) {
        expect(resources[id]!.DeletionPolicy, `${built.stack.stackName} ${id}`).toBe('Retain');
      }
      expect(resources.RecordingsTable!.Properties.DeletionProtectionEnabled).toBe(true);
    }
    expect(prod.template.toJSON().Resources.VobizSecret.DeletionPolicy).toBe('Retain');
    expect(kms.template.toJSON().Resources.ArchiveKey.DeletionPolicy).toBe('Retain');
    expect(dev.template.findResources('AWS::CloudFormation::CustomResource')).toEqual({});
  });

  it('are destroyed with a throwaway stage, buckets emptied first', () => {
    const resources = dev.template.toJSON().Resources as Record<
      string,
      { DeletionPolicy?: string; Properties: Record<string, unknown> }
    >;
    for (const id of ['RecordingsTable', 'RecordingsBucket', 'AccessLogsBucket', 'VobizSecret']) {
      expect(resources[id]!.DeletionPolicy, id).toBe('Delete');
    }
    expect(resources.RecordingsTable!.Properties.DeletionProtectionEnabled).toBe(false);
    dev.template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    // Locked copies cannot be deleted before their retention ends: the audit bucket is left, emptying itself.
    expect(resources.AuditBucket!.DeletionPolicy).toBe('Retain');
  });
});

describe('alarms', () => {
  const alarms = Object.values(prod.template.findResources('AWS::CloudWatch::Alarm')).map(
    (a) => a.Properties as Props,
  );
  const business = (name: string) => alarms.find((a) => a.MetricName === name);

  it('are exactly the ones infra/alarms.ts defines (the generated reference lists those), each with its guide', () => {
    const ids = Object.keys(prod.template.findResources('AWS::CloudWatch::Alarm')).map((id) =>
      id.replace(/^Alarms/, '').replace(/[0-9A-F]{8}$/, ''),
    );
    const defined = [
      ...ALARMED_FUNCTIONS.flatMap((fn) => [`${fn}Errors`, `${fn}Throttles`]),
      ...Object.keys(ALARMS),
    ];
    expect(ids.sort()).toEqual(defined.sort());
    for (const alarm of alarms) {
      expect(alarm.AlarmDescription).toMatch(
        /\. What to do: .+\. More: docs\/guides\/runbook\.md#[a-z0-9-]+$/,
      );
      expect((alarm.AlarmDescription as string).length).toBeLessThanOrEqual(1024);
    }
    for (const [id, definition] of Object.entries(ALARMS)) {
      const alarm = alarms.find((a) => (a.AlarmDescription as string).includes(definition.action));
      expect(alarm, id).toMatchObject({
        Threshold: definition.threshold ?? 0,
        EvaluationPeriods: definition.periods ?? 1,
        ...(definition.statistic && !alarm?.Metrics ? { Statistic: definition.statistic } : {}),
      });
    }
  });

  it('watch errors and throttles of every function and 5xx of the API', () => {
    const lambdaAlarms = alarms
      .filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName !== 'IteratorAge')
      .map((a) => a.MetricName as string);
    expect(lambdaAlarms.sort()).toEqual([...Array(8).fill('Errors'), ...Array(8).fill('Throttles')]);
    expect(alarms.filter((a) => a.Namespace === 'AWS/ApiGateway' && a.MetricName === '5xx')).toHaveLength(1);
  });

  it('watch failed records, refused Vobiz credentials and overdue pending records', () => {
    for (const name of [METRIC.failed, METRIC.vobizAuthFailed, METRIC.overduePending]) {
      expect(business(name), name).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    expect(business(METRIC.overduePending)).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  it('notify an e-mail or an existing topic when the stage names one, and nobody otherwise', () => {
    expect(alarms.every((a) => a.AlarmActions === undefined)).toBe(true);
    kms.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    const kmsAlarms = Object.values(kms.template.findResources('AWS::CloudWatch::Alarm'));
    expect(
      kmsAlarms.every((a) => a.Properties.AlarmActions?.length === 1 && a.Properties.OKActions?.length === 1),
    ).toBe(true);
    const externalAlarms = Object.values(external.template.findResources('AWS::CloudWatch::Alarm'));
    expect(
      externalAlarms.every(
        (a) => a.Properties.AlarmActions?.[0] === 'arn:aws:sns:eu-west-1:123456789012:oncall',
      ),
    ).toBe(true);
    external.template.resourceCountIs('AWS::SNS::Topic', 0);
  });
});
