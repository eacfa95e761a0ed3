import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Construct } from 'constructs';
import { ArchiveFunction } from './archive-function.js';
import type { DataStore } from './data-store.js';
import type { StageSettings } from './settings.js';

export const RETRY_API_ENTRY = fileURLToPath(new URL('../functions/retry-api/handler.ts', import.meta.url));

/** `POST` is the route (its own `execute-api:Invoke` resource); `ANY` takes other methods to a 405. */
export const RETRY_ROUTE = {
  path: '/recordings/{recording_id}/retry',
  methods: [HttpMethod.POST, HttpMethod.ANY],
} as const;

export interface RetryApiProps {
  readonly settings: StageSettings;
  readonly store: DataStore;
  readonly api: HttpApi;
}

/**
 * `POST /recordings/{id}/retry`: a failed recording back in the queue (what `npm run retry <id>` does),
 * audited with the caller. A function of its own so that its role holds only what that takes: read and
 * update records, put audit items; no audio, no Vobiz credentials, no Query.
 */
export class RetryApi extends Construct {
  readonly function: ArchiveFunction;

  constructor(scope: Construct, id: string, props: RetryApiProps) {
    super(scope, id);
    const { settings, store, api } = props;

    this.function = new ArchiveFunction(this, 'Function', {
      entry: RETRY_API_ENTRY,
      description: 'Retry API: a failed recording back in the queue (IAM)',
      timeout: Duration.seconds(10),
      memorySize: 256,
      settings,
    });
    this.function.bind('TABLE_NAME', store.table.tableName, (fn) => store.grantTable(fn, 'retry'));

    const integration = new HttpLambdaIntegration('Integration', this.function);
    api.addRoutes({
      path: RETRY_ROUTE.path,
      methods: [...RETRY_ROUTE.methods],
      integration,
      authorizer: new HttpIamAuthorizer(),
    });
  }
}
