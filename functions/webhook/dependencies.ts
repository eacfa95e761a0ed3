import {
  CREDENTIALS_ENV,
  loadCachedCredentials,
  type CredentialsSource,
} from '../shared/adapters/credentials.js';
import {
  createAwsJsonClient,
  DYNAMODB_JSON,
  endpointOverride,
  jsonSecretReader,
  SECRETS_MANAGER_JSON,
  type AwsJsonService,
} from '../shared/adapters/aws-json.js';
import {
  DYNAMODB_MAX_ATTEMPTS,
  DYNAMODB_TIMEOUTS,
  limits,
  SECRETS_MAX_ATTEMPTS,
  SECRETS_TIMEOUTS,
} from '../shared/adapters/aws-limits.js';
import { acceptNotificationRecord, jsonAcceptStore } from '../shared/adapters/dynamo-accept.js';
import {
  AWS_ENV,
  RUNTIME_ENV,
  envVars,
  integerVar,
  optional,
  parseBaseUrl,
  STORAGE_ENV,
  variablesOf,
} from '../shared/config.js';
import { makeAcceptNotification, SAFETY_NET_DELAY_MS } from '../shared/ingest/accept-notification.js';
import { systemClock } from '../shared/ingest/ports.js';

export interface WebhookDependencies {
  /** The auth token the signatures are keyed with (re-read when a signature does not verify). */
  credentials: CredentialsSource;
  /** `WEBHOOK_PUBLIC_URL`, when Vobiz calls a URL other than the one the function sees. */
  publicUrl: string | undefined;
  acceptNotification: ReturnType<typeof makeAcceptNotification>;
}

const DAY_SECONDS = 86_400;

export const WEBHOOK_ENV = envVars({
  WEBHOOK_PUBLIC_URL: {
    description:
      'the URL Vobiz calls, when it differs from what API Gateway sees (custom domain, tunnel): signatures are computed over it',
    default: 'the URL API Gateway saw',
    accepted: 'an http(s) URL',
    read: (env, name) => {
      const url = optional(env, name);
      if (url) parseBaseUrl(url, name);
      return url;
    },
  },
  NONCE_TTL_DAYS: integerVar({
    description: 'how long used signature nonces are remembered',
    fallback: 30,
    min: 1,
    max: 365,
  }),
});

/** Everything the webhook function reads: the table and the auth token, never S3 or the Vobiz API. */
export const WEBHOOK_VARIABLES = variablesOf(
  STORAGE_ENV.TABLE_NAME,
  WEBHOOK_ENV,
  CREDENTIALS_ENV,
  AWS_ENV.AWS_ENDPOINT_URL_DYNAMODB,
  // Read by name by the webhook's own client (aws-json.ts); the SDK reads them in the other functions.
  AWS_ENV.AWS_REGION,
  AWS_ENV.AWS_DEFAULT_REGION,
  AWS_ENV.AWS_ACCESS_KEY_ID,
  AWS_ENV.AWS_SECRET_ACCESS_KEY,
  AWS_ENV.AWS_SESSION_TOKEN,
  AWS_ENV.AWS_ENDPOINT_URL,
  AWS_ENV.AWS_ENDPOINT_URL_SECRETS_MANAGER,
  AWS_ENV.AWS_USE_FIPS_ENDPOINT,
  AWS_ENV.AWS_USE_DUALSTACK_ENDPOINT,
  RUNTIME_ENV,
);

/** A JSON-protocol client for `service`, with the SDK clients' limits (longer against an emulator). */
function awsJsonClient(
  service: AwsJsonService,
  env: Record<string, string | undefined>,
  base: { limits: typeof DYNAMODB_TIMEOUTS; maxAttempts: number },
) {
  return createAwsJsonClient(service, {
    env,
    maxAttempts: base.maxAttempts,
    ...limits(base.limits, endpointOverride(service, env) !== undefined),
  });
}

/**
 * Builds the webhook's collaborators from the environment; called once per container. The webhook only
 * proves and records: it needs the table and the auth token, never S3 or the Vobiz API. It talks to
 * DynamoDB and Secrets Manager through its own small signed client (aws-json.ts), not the AWS SDK, whose
 * module compile would be most of its cold start (docs/development/benchmarks.md).
 */
export async function loadWebhookDependencies(
  env: Record<string, string | undefined> = process.env,
): Promise<WebhookDependencies> {
  const tableName = STORAGE_ENV.TABLE_NAME.read(env);
  const publicUrl = WEBHOOK_ENV.WEBHOOK_PUBLIC_URL.read(env);
  const nonceTtlSeconds = WEBHOOK_ENV.NONCE_TTL_DAYS.read(env) * DAY_SECONDS;
  const readSecret = jsonSecretReader(() =>
    awsJsonClient(SECRETS_MANAGER_JSON, env, {
      limits: SECRETS_TIMEOUTS,
      maxAttempts: SECRETS_MAX_ATTEMPTS,
    }),
  );
  const { source, credentials } = await loadCachedCredentials(env, readSecret);
  const store = jsonAcceptStore(
    awsJsonClient(DYNAMODB_JSON, env, { limits: DYNAMODB_TIMEOUTS, maxAttempts: DYNAMODB_MAX_ATTEMPTS }),
  );
  return {
    credentials: source,
    publicUrl,
    acceptNotification: makeAcceptNotification({
      recordings: { accept: (input) => acceptNotificationRecord(store, tableName, input) },
      clock: systemClock,
      accountId: credentials.authId,
      nonceTtlSeconds,
      firstDueAfterMs: SAFETY_NET_DELAY_MS,
    }),
  };
}
