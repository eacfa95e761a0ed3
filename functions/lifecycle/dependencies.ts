import { createDocumentClient, createS3Client, createSecretsClient } from '../shared/adapters/aws-clients.js';
import { CREDENTIALS_ENV, loadCachedCredentials } from '../shared/adapters/credentials.js';
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

/** Builds the lifecycle's collaborators from the environment (the scheduled function and the lifecycle API); once per container. */
export async function loadLifecycleDependencies(
  env: Record<string, string | undefined> = process.env,
  onAuthFailure?: (status: number) => void,
): Promise<Lifecycle> {
  const settings = readLifecycleSettings(env);
  const { source } = await loadCachedCredentials(env, createSecretsClient);
  return buildLifecycle(settings, source, {
    documents: createDocumentClient(),
    s3: createS3Client(env),
    clock: systemClock,
    onAuthFailure,
  });
}
