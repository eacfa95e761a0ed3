import { fileURLToPath } from 'node:url';
import { Duration, Validations } from 'aws-cdk-lib';
import { HttpMethod, type CfnStage, type HttpApi, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Construct } from 'constructs';
import { ArchiveFunction } from './archive-function.js';
import type { DataStore } from './data-store.js';
import type { StageSettings } from './settings.js';
import type { VobizSecret } from './vobiz-secret.js';

export const WEBHOOK_PATH = '/webhooks/vobiz/recording';
/** The route's key in the stage's route settings (ANY: the function answers other methods 405). */
export const WEBHOOK_ROUTE_KEY = `ANY ${WEBHOOK_PATH}`;
export const WEBHOOK_ENTRY = fileURLToPath(new URL('../functions/webhook/handler.ts', import.meta.url));

/**
 * Vobiz wants an answer within 3 seconds; the function only verifies and writes one item. The timeout
 * leaves room for the SDK's own retries on a throttled table, after which a 5xx lets Vobiz retry.
 */
export const WEBHOOK_TIMEOUT = Duration.seconds(10);

export interface WebhookProps {
  readonly settings: StageSettings;
  readonly store: DataStore;
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly vobizSecret: VobizSecret;
}

/**
 * The public, signature-checked callback: verify, record (the insert starts the archive worker), answer.
 * It needs the table and the auth token, nothing else: no S3, no Vobiz API.
 */
export class Webhook extends Construct {
  readonly function: ArchiveFunction;

  constructor(scope: Construct, id: string, props: WebhookProps) {
    super(scope, id);
    const { settings, store, api, stage, vobizSecret } = props;

    this.function = new ArchiveFunction(this, 'Function', {
      entry: WEBHOOK_ENTRY,
      description: 'Vobiz recording callback: verify the signature, record the notification, answer 200',
      timeout: WEBHOOK_TIMEOUT,
      // More memory is more CPU: a faster cold start inside Vobiz's 3 seconds.
      memorySize: 512,
      settings,
      // A flood of unsigned requests cannot take every Lambda of the account (nor starve the lookups).
      reservedConcurrentExecutions: settings.webhookReservedConcurrency,
    });

    this.function
      .bind('TABLE_NAME', store.table.tableName, (fn) => store.grantTable(fn, 'notify'))
      .bind('VOBIZ_SECRET_ARN', vobizSecret.secretArn, (fn) => vobizSecret.grantRead(fn));
    if (settings.webhookPublicUrl) this.function.bind('WEBHOOK_PUBLIC_URL', settings.webhookPublicUrl);

    // ANY: other methods reach the function too, which answers 405 with `Allow` and the usual error body.
    const [route] = api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.ANY],
      integration: new HttpLambdaIntegration('Integration', this.function),
    });
    Validations.of(route!).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Vobiz cannot sign with AWS credentials: the function authenticates every callback by its X-Vobiz-Signature (HMAC) and refuses replayed nonces.',
    });

    // Its own throttle, apart from the stage's: junk aimed at the public route cannot use up the budget
    // of the IAM-signed lookups (route settings of the $default stage; a raw CloudFormation map). Its
    // own metrics too (answers and latency on the dashboard): six metrics for this one route only.
    const cfnStage = stage.node.defaultChild as CfnStage;
    cfnStage.routeSettings = {
      [WEBHOOK_ROUTE_KEY]: {
        ThrottlingRateLimit: settings.webhookThrottle.rateLimit,
        ThrottlingBurstLimit: settings.webhookThrottle.burstLimit,
        DetailedMetricsEnabled: true,
      },
    };
  }
}
