import { createDocumentClient, createS3Client, createSecretsClient } from '../shared/adapters/aws-clients.js';
import { loadCachedCredentials } from '../shared/adapters/credentials.js';
import { systemClock } from '../shared/ingest/ports.js';
import { buildLifecycle, readLifecycleSettings, type Lifecycle } from '../shared/wiring/lifecycle.js';

/** Builds the scheduled lifecycle function's collaborators from the environment; once per container. */
export async function loadLifecycleDependencies(
  env: Record<string, string | undefined> = process.env,
  onVobizFailure?: (status: number | 'network') => void,
): Promise<Lifecycle> {
  const settings = readLifecycleSettings(env);
  const { source } = await loadCachedCredentials(env, createSecretsClient);
  return buildLifecycle(settings, source, {
    documents: createDocumentClient(),
    s3: createS3Client(env),
    clock: systemClock,
    onVobizFailure,
  });
}
