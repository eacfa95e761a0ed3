import { createDocumentClient, createS3Client, readSecretWithSdk } from '../shared/adapters/aws-clients.js';
import { CREDENTIALS_ENV, loadCachedCredentials } from '../shared/adapters/credentials.js';
import { AWS_ENV, RUNTIME_ENV, variablesOf } from '../shared/config.js';
import type { ArchiveRecording } from '../shared/ingest/archive-recording.js';
import { systemClock } from '../shared/ingest/ports.js';
import {
  ARCHIVE_SETTINGS_VARIABLES,
  buildArchiveRecording,
  readArchiveSettings,
} from '../shared/wiring/archive.js';

export interface ArchiveWorkerDependencies {
  archiveRecording: ArchiveRecording;
}

/** Everything the archive worker reads. */
export const ARCHIVE_WORKER_VARIABLES = variablesOf(
  ARCHIVE_SETTINGS_VARIABLES,
  CREDENTIALS_ENV,
  AWS_ENV,
  RUNTIME_ENV,
);

/** Builds the worker's collaborators from the environment; called once per container. */
export async function loadArchiveWorkerDependencies(
  env: Record<string, string | undefined> = process.env,
  onVobizFailure?: (status: number | 'network') => void,
): Promise<ArchiveWorkerDependencies> {
  const settings = readArchiveSettings(env);
  const { source, credentials } = await loadCachedCredentials(env, readSecretWithSdk());
  return {
    archiveRecording: buildArchiveRecording(settings, source, credentials.authId, {
      documents: createDocumentClient(),
      s3: createS3Client(env),
      clock: systemClock,
      onVobizFailure,
    }),
  };
}
