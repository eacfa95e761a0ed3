import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ArchiveFunction } from './archive-function.js';
import type { DataStore } from './data-store.js';
import type { StageSettings } from './settings.js';

export const LOOKUP_ENTRY = fileURLToPath(new URL('../functions/lookup/handler.ts', import.meta.url));
export const LOOKUP_PATHS = [
  '/recordings',
  '/recordings/{recording_id}',
  '/recordings/{recording_id}/audio',
  '/audit',
] as const;

export interface LookupApiProps {
  readonly settings: StageSettings;
  readonly store: DataStore;
  readonly api: HttpApi;
}

/** The IAM-authorized read API: records, listings and presigned audio links. */
export class LookupApi extends Construct {
  readonly function: ArchiveFunction;
  readonly cursorSecret: Secret;

  constructor(scope: Construct, id: string, props: LookupApiProps) {
    super(scope, id);
    const { settings, store, api } = props;

    // The SecretString itself is the HMAC key that makes pagination cursors tamper-evident.
    this.cursorSecret = new Secret(this, 'CursorSecret', {
      description: `HMAC key for vobiz-recording-archive (${settings.stageName}) pagination cursors`,
      encryptionKey: store.key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.cursorSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'The key only signs short-lived pagination cursors; rotating it would merely invalidate open cursors. Rotate by replacing the secret if ever needed.',
    });

    this.function = new ArchiveFunction(this, 'Function', {
      entry: LOOKUP_ENTRY,
      description: 'Recording lookup API: get, list, presigned audio links, audit trail',
      timeout: Duration.seconds(10),
      memorySize: 512,
      settings,
    });

    this.function
      .bind('TABLE_NAME', store.table.tableName, (fn) => store.grantTable(fn, 'lookup'))
      .bind('BUCKET_NAME', store.bucket.bucketName, (fn) => store.grantAudio(fn, 'lookup'))
      .bind('CURSOR_SECRET_ARN', this.cursorSecret.secretArn, (fn) => this.cursorSecret.grantRead(fn))
      .bind('PRESIGN_TTL_SECONDS', String(settings.presignTtlSeconds));

    const integration = new HttpLambdaIntegration('Integration', this.function);
    const authorizer = new HttpIamAuthorizer();
    // GET is the API; ANY takes the other methods to the function too (signed, like every call here),
    // which answers 405 with `Allow` and the project's error body instead of API Gateway's own 404.
    for (const path of LOOKUP_PATHS) {
      api.addRoutes({ path, methods: [HttpMethod.GET, HttpMethod.ANY], integration, authorizer });
    }
  }
}
