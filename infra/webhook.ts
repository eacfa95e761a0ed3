import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ArchiveFunction } from './archive-function.js';
import { pin, type DataStore } from './data-store.js';
import type { StageSettings } from './settings.js';

export const WEBHOOK_PATH = '/webhooks/vobiz/recording';
export const WEBHOOK_ENTRY = fileURLToPath(new URL('../functions/webhook/handler.ts', import.meta.url));

/**
 * HTTP API gives up on an integration after 30 s. The function stops a little earlier so it can still
 * answer 202 (accepted, finished later by the re-drive) instead of the caller seeing a gateway timeout.
 */
export const WEBHOOK_TIMEOUT = Duration.seconds(28);

/** What the operator replaces with `aws secretsmanager put-secret-value` (see README, Deploying). */
export const VOBIZ_SECRET_PLACEHOLDER_AUTH_ID = 'REPLACE ME: your Vobiz auth_id';

export interface WebhookProps {
  readonly settings: StageSettings;
  readonly store: DataStore;
  readonly api: HttpApi;
}

/** The public, signature-checked callback that records and archives recordings. */
export class Webhook extends Construct {
  readonly function: ArchiveFunction;
  readonly vobizSecret: ISecret;

  constructor(scope: Construct, id: string, props: WebhookProps) {
    super(scope, id);
    const { settings, store, api } = props;

    this.vobizSecret = settings.vobizSecretArn
      ? Secret.fromSecretCompleteArn(this, 'VobizSecret', settings.vobizSecretArn)
      : this.createVobizSecret(settings, store);

    this.function = new ArchiveFunction(this, 'Function', {
      entry: WEBHOOK_ENTRY,
      description: 'Vobiz recording callback: verify, record, fetch from Vobiz, archive to S3',
      timeout: WEBHOOK_TIMEOUT,
      // Audio is streamed to S3 in parts, never held whole in memory.
      memorySize: 512,
      settings,
      reservedConcurrentExecutions: settings.webhookReservedConcurrency,
    });

    this.function
      .bind('TABLE_NAME', store.table.tableName, (fn) => store.grantTable(fn, 'ingest'))
      .bind('BUCKET_NAME', store.bucket.bucketName, (fn) => store.grantAudio(fn, 'ingest'))
      .bind('VOBIZ_SECRET_ARN', this.vobizSecret.secretArn, (fn) => this.grantVobizSecret(fn, settings))
      .bind('VOBIZ_API_BASE_URL', settings.vobizApiBaseUrl)
      .bind('ALLOWED_MEDIA_ORIGINS', settings.allowedMediaOrigins);
    if (settings.webhookPublicUrl) this.function.bind('WEBHOOK_PUBLIC_URL', settings.webhookPublicUrl);
    if (settings.maxAttempts !== undefined) this.function.bind('MAX_ATTEMPTS', String(settings.maxAttempts));

    const routes = api.addRoutes({
      path: WEBHOOK_PATH,
      methods: [HttpMethod.POST, HttpMethod.GET],
      integration: new HttpLambdaIntegration('Integration', this.function),
    });
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Vobiz cannot sign with AWS credentials: the function authenticates every callback by its X-Vobiz-Signature (HMAC) and refuses replayed nonces.',
      });
    }
  }

  private createVobizSecret(settings: StageSettings, store: DataStore): Secret {
    const secret = new Secret(this, 'VobizSecret', {
      description: `Vobiz API credentials for vobiz-recording-archive (${settings.stageName}): {"auth_id","auth_token","parent_auth_token"?}`,
      encryptionKey: store.key,
      // A placeholder that fails the function's auth_id check until the operator puts the real value.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ auth_id: VOBIZ_SECRET_PLACEHOLDER_AUTH_ID }),
        generateStringKey: 'auth_token',
        excludePunctuation: true,
      },
      removalPolicy: settings.throwaway ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    pin(secret, 'VobizSecret');
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Vobiz auth tokens are issued and rotated in the Vobiz console, which has no API a rotation Lambda could call; README documents put-secret-value after a rotation.',
    });
    return secret;
  }

  private grantVobizSecret(grantee: IGrantable, settings: StageSettings): void {
    this.vobizSecret.grantRead(grantee);
    if (settings.vobizSecretKmsKeyArn) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [settings.vobizSecretKmsKeyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${this.function.stack.region}.amazonaws.com` },
          },
        }),
      );
    }
  }
}
