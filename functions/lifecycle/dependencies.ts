import { createDocumentClient, createS3Client, readSecretWithSdk } from '../shared/adapters/aws-clients.js';
import { CREDENTIALS_ENV, loadCachedCredentials } from '../shared/adapters/credentials.js';
import { DynamoHeartbeats } from '../shared/adapters/dynamo-heartbeats.js';
import { AWS_ENV, RUNTIME_ENV, variablesOf } from '../shared/config.js';
import { systemClock } from '../shared/ingest/ports.js';
import {
  buildLifecycle,
  LIFECYCLE_SETTINGS_VARIABLES,
  readLifecycleSettings,
  type Lifecycle,
} from '../shared/wiring/lifecycle.js';

/** Everything the lifecycle functions read: the scheduled one and the lifecycle API. */
export const LIFECYCLE_VARIABLES = variablesOf(
  LIFECYCLE_SETTINGS_VARIABLES,
  CREDENTIALS_ENV,
  AWS_ENV,
  RUNTIME_ENV,
);

/** The scheduled run's collaborators: the lifecycle, and where each run leaves its heartbeat. */
export type ScheduledLifecycle = Lifecycle & { heartbeats?: Pick<DynamoHeartbeats, 'record'> };

/** Builds the scheduled lifecycle function's collaborators from the environment; once per container. */
export async function loadLifecycleDependencies(
  env: Record<string, string | undefined> = process.env,
  onVobizFailure?: (status: number | 'network') => void,
): Promise<ScheduledLifecycle> {
  const settings = readLifecycleSettings(env);
  const { source } = await loadCachedCredentials(env, readSecretWithSdk());
  const documents = createDocumentClient();
  return {
    ...buildLifecycle(settings, source, {
      documents,
      s3: createS3Client(env),
      clock: systemClock,
      onVobizFailure,
    }),
    heartbeats: new DynamoHeartbeats(documents, settings.tableName),
  };
}
