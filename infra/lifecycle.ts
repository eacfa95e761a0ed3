import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { INDEXES } from '../functions/shared/domain/table.js';
import { ArchiveFunction } from './archive-function.js';
import type { DataStore } from './data-store.js';
import type { StageSettings } from './settings.js';
import type { VobizSecret } from './vobiz-secret.js';

export const LIFECYCLE_ENTRY = fileURLToPath(new URL('../functions/lifecycle/handler.ts', import.meta.url));
export const LIFECYCLE_API_ENTRY = fileURLToPath(
  new URL('../functions/lifecycle-api/handler.ts', import.meta.url),
);

/** A run stops starting work with 30 s left; runs never overlap at this rate and timeout. */
export const LIFECYCLE_SCHEDULE = Schedule.rate(Duration.minutes(5));
export const LIFECYCLE_TIMEOUT = Duration.minutes(4);

/** The lifecycle routes: each is its own `execute-api:Invoke` resource, apart from the GET routes. */
export const LIFECYCLE_ROUTES = [
  {
    path: '/recordings/{recording_id}/legal-hold',
    methods: [HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.ANY],
  },
  { path: '/recordings/{recording_id}', methods: [HttpMethod.DELETE] },
] as const;

export interface LifecycleProps {
  readonly settings: StageSettings;
  readonly store: DataStore;
  readonly vobizSecret: VobizSecret;
  readonly api: HttpApi;
}

/**
 * The recording's life after archiving: a scheduled function (verified delete at Vobiz, retention,
 * finishing interrupted erasures) and an IAM-authorized API function (legal holds, erasure). Each has its
 * own role: neither can write audio, the scheduled one cannot place or lift a legal hold, and the
 * read-only lookup function keeps none of these permissions.
 */
export class Lifecycle extends Construct {
  readonly scheduled: ArchiveFunction;
  readonly apiFunction: ArchiveFunction;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: LifecycleProps) {
    super(scope, id);
    const { settings, store, vobizSecret, api } = props;

    this.scheduled = new ArchiveFunction(this, 'Function', {
      entry: LIFECYCLE_ENTRY,
      description: 'Lifecycle: verified delete at Vobiz, retention, unfinished erasures (every 5 minutes)',
      timeout: LIFECYCLE_TIMEOUT,
      memorySize: 512,
      settings,
    });
    this.scheduled
      .bind('TABLE_NAME', store.table.tableName, (fn) => {
        store.grantTable(fn, 'lifecycle');
        grantQuery(fn, store, [INDEXES.due.name, INDEXES.expiry.name, INDEXES.byStatus.name]);
      })
      .bind('BUCKET_NAME', store.bucket.bucketName, (fn) => store.grantAudio(fn, 'lifecycle'))
      .bind('VOBIZ_SECRET_ARN', vobizSecret.secretArn, (fn) => vobizSecret.grantRead(fn))
      .bind('VOBIZ_API_BASE_URL', settings.vobizApiBaseUrl);
    const { deleteFromVobizAfterDays, retentionDays } = settings.lifecycle;
    if (deleteFromVobizAfterDays !== undefined)
      this.scheduled.bind('VOBIZ_DELETE_AFTER_DAYS', String(deleteFromVobizAfterDays));
    if (retentionDays !== undefined) this.scheduled.bind('RETENTION_DAYS', String(retentionDays));

    // A failed run is not replayed: the next one, five minutes later, reads what is due afresh.
    this.scheduled.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    this.rule = new Rule(this, 'Schedule', {
      description: 'Runs the vobiz-recording-archive lifecycle (delete at Vobiz, retention)',
      schedule: LIFECYCLE_SCHEDULE,
      targets: [new LambdaFunction(this.scheduled, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });

    this.apiFunction = new ArchiveFunction(this, 'ApiFunction', {
      entry: LIFECYCLE_API_ENTRY,
      description: 'Lifecycle API: legal holds and erasure (IAM)',
      // Under API Gateway's 30 s: an erasure with also_vobiz waits for Vobiz (retried) as well as S3.
      timeout: Duration.seconds(28),
      memorySize: 256,
      settings,
    });
    this.apiFunction
      .bind('TABLE_NAME', store.table.tableName, (fn) => store.grantTable(fn, 'lifecycleApi'))
      .bind('BUCKET_NAME', store.bucket.bucketName, (fn) => store.grantAudio(fn, 'lifecycleApi'))
      .bind('VOBIZ_SECRET_ARN', vobizSecret.secretArn, (fn) => vobizSecret.grantRead(fn))
      .bind('VOBIZ_API_BASE_URL', settings.vobizApiBaseUrl);

    const integration = new HttpLambdaIntegration('Integration', this.apiFunction);
    const authorizer = new HttpIamAuthorizer();
    for (const route of LIFECYCLE_ROUTES) {
      api.addRoutes({ path: route.path, methods: [...route.methods], integration, authorizer });
    }
  }
}

/** Query on the named indexes only: not on the table, not on the listing indexes. */
function grantQuery(grantee: IGrantable, store: DataStore, indexes: string[]): void {
  Grant.addToPrincipal({
    grantee,
    actions: ['dynamodb:Query'],
    resourceArns: indexes.map((name) => `${store.table.tableArn}/index/${name}`),
  });
}
