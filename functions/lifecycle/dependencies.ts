import { createDocumentClient, createS3Client, createSecretsClient } from '../shared/adapters/aws-clients.js';
import { loadCachedCredentials } from '../shared/adapters/credentials.js';
import { DynamoHeartbeats } from '../shared/adapters/dynamo-heartbeats.js';
import { systemClock } from '../shared/ingest/ports.js';
import { buildLifecycle, readLifecycleSettings, type Lifecycle } from '../shared/wiring/lifecycle.js';

/** The scheduled run's collaborators: the lifecycle, and where each run leaves its heartbeat. */
export type ScheduledLifecycle = Lifecycle & { heartbeats?: Pick<DynamoHeartbeats, 'record'> };

/** Builds the scheduled lifecycle function's collaborators from the environment; once per container. */
export async function loadLifecycleDependencies(
  env: Record<string, string | undefined> = process.env,
  onVobizFailure?: (status: number | 'network') => void,
): Promise<ScheduledLifecycle> {
  const settings = readLifecycleSettings(env);
  const { source } = await loadCachedCredentials(env, createSecretsClient);
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
