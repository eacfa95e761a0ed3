import { loadCachedCredentials, type CredentialsSource } from '../shared/adapters/credentials.js';
import { createDocumentClient, createS3Client, readSecretWithSdk } from '../shared/adapters/aws-clients.js';
import { DynamoHeartbeats } from '../shared/adapters/dynamo-heartbeats.js';
import { DynamoRecordingRepository } from '../shared/adapters/dynamo-recordings.js';
import { DynamoRecoveryRepository } from '../shared/adapters/dynamo-recovery.js';
import {
  AWS_ENV,
  RUNTIME_ENV,
  envVars,
  integerVar,
  variablesOf,
  type VobizCredentials,
} from '../shared/config.js';
import { makeAcceptNotification, SAFETY_NET_DELAY_MS } from '../shared/ingest/accept-notification.js';
import { systemClock, type Clock } from '../shared/ingest/ports.js';
import { makeBackfillSweep } from '../shared/recovery/backfill-sweep.js';
import { makeRedrive } from '../shared/recovery/redrive.js';
import { CREDENTIALS_ENV } from '../shared/adapters/credentials.js';
import {
  ARCHIVE_SETTINGS_VARIABLES,
  buildArchiveRecording,
  buildVobizClient,
  readArchiveSettings,
  readVobizSettings,
  type ArchiveClients,
  type ArchiveSettings,
  type VobizClients,
  type VobizSettings,
} from '../shared/wiring/archive.js';

/** Recordings archived at the same time by one run: bounded memory (~3 × 6 MiB each) and Vobiz load. */
export const REDRIVE_CONCURRENCY = 4;

export type RecoverySettings = VobizSettings;
export type RecoveryClients = VobizClients;
export type RedriveClients = ArchiveClients;

export interface RedriveSettings extends ArchiveSettings {
  /** `BACKFILL_LOOKBACK_MINUTES`: how far back each scheduled sweep lists Vobiz's recordings; 0 disables the sweep. */
  backfillLookbackMinutes: number;
  /**
   * `BACKFILL_MIN_AGE_MINUTES`: the sweep ignores recordings younger than this (default 10), so it does
   * not race a callback that is simply still on its way (Vobiz may retry callbacks for a while).
   */
  backfillMinAgeMinutes: number;
  /** `REDRIVE_BATCH_SIZE`: due records taken per run. */
  batchSize: number;
}

/** What the backfill command needs: the table and Vobiz (no bucket: it only enqueues). */
export function readRecoverySettings(env: Record<string, string | undefined>): RecoverySettings {
  return readVobizSettings(env);
}

export const REDRIVE_ENV = envVars({
  BACKFILL_LOOKBACK_MINUTES: integerVar({
    description:
      "how far back each scheduled backfill sweep lists Vobiz's recordings; `0` switches the sweep off",
    fallback: 120,
    min: 0,
    max: 7 * 24 * 60,
  }),
  BACKFILL_MIN_AGE_MINUTES: integerVar({
    description:
      'the sweep leaves younger recordings to their callback (Vobiz may still be delivering or retrying it)',
    fallback: 10,
    min: 0,
    max: 24 * 60,
  }),
  REDRIVE_BATCH_SIZE: integerVar({
    description: 'due records taken per run',
    fallback: 50,
    min: 1,
    max: 500,
  }),
});

/** Everything the re-drive function reads. */
export const REDRIVE_VARIABLES = variablesOf(
  ARCHIVE_SETTINGS_VARIABLES,
  REDRIVE_ENV,
  CREDENTIALS_ENV,
  AWS_ENV,
  RUNTIME_ENV,
);

export function readRedriveSettings(env: Record<string, string | undefined>): RedriveSettings {
  return {
    ...readArchiveSettings(env),
    backfillLookbackMinutes: REDRIVE_ENV.BACKFILL_LOOKBACK_MINUTES.read(env),
    backfillMinAgeMinutes: REDRIVE_ENV.BACKFILL_MIN_AGE_MINUTES.read(env),
    batchSize: REDRIVE_ENV.REDRIVE_BATCH_SIZE.read(env),
  };
}

export function buildBackfillSweep(
  settings: RecoverySettings,
  credentials: VobizCredentials | CredentialsSource,
  accountId: string,
  clients: RecoveryClients,
) {
  const acceptNotification = makeAcceptNotification({
    recordings: new DynamoRecordingRepository(clients.documents, settings.tableName),
    clock: clients.clock,
    accountId,
    nonceTtlSeconds: 0, // no nonces: a backfilled recording was listed by the Vobiz API, not called back
    // Its insert starts the archive worker, like a callback's; the re-drive is the safety net.
    firstDueAfterMs: SAFETY_NET_DELAY_MS,
  });
  return makeBackfillSweep({
    vobiz: buildVobizClient(settings, credentials, clients),
    known: new DynamoRecoveryRepository(clients.documents, settings.tableName),
    enqueue: async (recordingId) => {
      await acceptNotification(recordingId, []);
    },
    clock: clients.clock,
  });
}

export interface RedriveDependencies {
  settings: RedriveSettings;
  redrive: ReturnType<typeof makeRedrive>;
  sweep: ReturnType<typeof makeBackfillSweep>;
  clock: Clock;
  /** Where each run leaves its sweep's heartbeat (for `vobiz-archive doctor`). */
  heartbeats?: Pick<DynamoHeartbeats, 'record'>;
}

export function buildRedriveDependencies(
  settings: RedriveSettings,
  credentials: VobizCredentials | CredentialsSource,
  accountId: string,
  clients: RedriveClients,
): RedriveDependencies {
  return {
    settings,
    clock: clients.clock,
    redrive: makeRedrive({
      due: new DynamoRecoveryRepository(clients.documents, settings.tableName),
      archiveRecording: buildArchiveRecording(settings, credentials, accountId, clients),
      clock: clients.clock,
      batchSize: settings.batchSize,
      concurrency: REDRIVE_CONCURRENCY,
    }),
    sweep: buildBackfillSweep(settings, credentials, accountId, clients),
    heartbeats: new DynamoHeartbeats(clients.documents, settings.tableName),
  };
}

/** Builds the re-drive's collaborators from the environment; called once per container. */
export async function loadRedriveDependencies(
  env: Record<string, string | undefined> = process.env,
  onVobizFailure?: (status: number | 'network') => void,
): Promise<RedriveDependencies> {
  const settings = readRedriveSettings(env);
  const { source, credentials } = await loadCachedCredentials(env, readSecretWithSdk());
  return buildRedriveDependencies(settings, source, credentials.authId, {
    documents: createDocumentClient(),
    s3: createS3Client(env),
    clock: systemClock,
    onVobizFailure,
  });
}
