import { createDocumentClient, createS3Client, createSecretsClient } from '../shared/adapters/aws-clients.js';
import { loadCachedCredentials } from '../shared/adapters/credentials.js';
import type { ArchiveRecording } from '../shared/ingest/archive-recording.js';
import { systemClock } from '../shared/ingest/ports.js';
import { buildArchiveRecording, readArchiveSettings } from '../shared/wiring/archive.js';

export interface ArchiveWorkerDependencies {
  archiveRecording: ArchiveRecording;
}

/** Builds the worker's collaborators from the environment; called once per container. */
export async function loadArchiveWorkerDependencies(
  env: Record<string, string | undefined> = process.env,
  onVobizFailure?: (status: number | 'network') => void,
): Promise<ArchiveWorkerDependencies> {
  const settings = readArchiveSettings(env);
  const { source, credentials } = await loadCachedCredentials(env, createSecretsClient);
  return {
    archiveRecording: buildArchiveRecording(settings, source, credentials.authId, {
      documents: createDocumentClient(),
      s3: createS3Client(env),
      clock: systemClock,
      onVobizFailure,
    }),
  };
}
