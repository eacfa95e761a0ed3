import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CredentialsSource } from '../adapters/credentials.js';
import { DynamoLifecycleRepository } from '../adapters/dynamo-lifecycle.js';
import { S3AudioVersions } from '../adapters/s3-lifecycle.js';
import {
  ConfigError,
  envVars,
  integerVar,
  optional,
  STORAGE_ENV,
  variablesOf,
  type EnvVarSpec,
  type VobizCredentials,
} from '../config.js';
import { makeDeleteAtVobiz, type DeleteAtVobizDependencies } from '../lifecycle/delete-at-vobiz.js';
import { makeEraseRecording, type EraseDependencies } from '../lifecycle/erase-recording.js';
import { makeExpireRecording, type ExpireDependencies } from '../lifecycle/expire-recording.js';
import { makeLegalHold, type LegalHoldDependencies } from '../lifecycle/legal-hold.js';
import { makeLifecycleRun } from '../lifecycle/lifecycle-run.js';
import {
  buildVobizClient,
  readVobizSettings,
  VOBIZ_SETTINGS_VARIABLES,
  type VobizClients,
  type VobizSettings,
} from './archive.js';

type Env = Record<string, string | undefined>;

const DAY_MS = 86_400_000;

/**
 * The composition of the lifecycle use cases from their adapters, shared by the scheduled lifecycle
 * function, the lifecycle API function and the operator commands (vobiz-cleanup, erase).
 */
export interface LifecycleSettings extends VobizSettings {
  bucketName: string;
  /**
   * `VOBIZ_DELETE_AFTER_DAYS`: delete at Vobiz this long after archiving (0: once verified); unset: only
   * with retention (at `RETENTION_DAYS`). Never longer than `RETENTION_DAYS`.
   */
  vobizDeleteAfterMs: number | undefined;
  /** `RETENTION_DAYS`: expire audio whose `add_time` is older; unset: keep forever. */
  retentionMs: number | undefined;
  /** `LIFECYCLE_BATCH_SIZE`: records per step and scheduled run (default 500). */
  batchSize: number;
  /** `LIFECYCLE_CONCURRENCY`: deletes in flight at once (default 8). */
  concurrency: number;
}

export const LIFECYCLE_ENV = envVars({
  VOBIZ_DELETE_AFTER_DAYS: optionalDays({
    description:
      'delete recordings at Vobiz this many days after archiving, once their copy is verified (`0`: at once)',
    default: 'unset: only what retention expires',
    min: 0,
    max: 3650,
    constraint: 'not more than `RETENTION_DAYS`',
  }),
  RETENTION_DAYS: optionalDays({
    description:
      'expire the audio of recordings whose `add_time` is older, and delete it at Vobiz if it is still there',
    default: 'unset: keep forever',
    min: 1,
    max: 36_500,
  }),
  LIFECYCLE_BATCH_SIZE: integerVar({
    description: 'records per step and scheduled run',
    fallback: 500,
    min: 1,
    max: 5000,
  }),
  LIFECYCLE_CONCURRENCY: integerVar({
    description: 'deletes in flight at once',
    fallback: 8,
    min: 1,
    max: 64,
  }),
});

/** What `readLifecycleSettings` reads. */
export const LIFECYCLE_SETTINGS_VARIABLES = variablesOf(
  VOBIZ_SETTINGS_VARIABLES,
  STORAGE_ENV.BUCKET_NAME,
  LIFECYCLE_ENV,
);

export function readLifecycleSettings(env: Env): LifecycleSettings {
  const vobizDeleteAfterMs = LIFECYCLE_ENV.VOBIZ_DELETE_AFTER_DAYS.read(env);
  const retentionMs = LIFECYCLE_ENV.RETENTION_DAYS.read(env);
  // Retention removes the audio here; a longer Vobiz delay would keep Vobiz's copy past it.
  if (vobizDeleteAfterMs !== undefined && retentionMs !== undefined && vobizDeleteAfterMs > retentionMs)
    throw new ConfigError(
      `VOBIZ_DELETE_AFTER_DAYS (${vobizDeleteAfterMs / DAY_MS}) must not be longer than RETENTION_DAYS ` +
        `(${retentionMs / DAY_MS}): a recording would stay at Vobiz after retention removed it here`,
    );
  return {
    ...readVobizSettings(env),
    bucketName: STORAGE_ENV.BUCKET_NAME.read(env),
    vobizDeleteAfterMs,
    retentionMs,
    batchSize: LIFECYCLE_ENV.LIFECYCLE_BATCH_SIZE.read(env),
    concurrency: LIFECYCLE_ENV.LIFECYCLE_CONCURRENCY.read(env),
  };
}

/** A number of days (read as milliseconds), or unset or `none` for never. */
function optionalDays(spec: {
  description: string;
  default: string;
  min: number;
  max: number;
  /** What else it must respect (checked by `readLifecycleSettings`). */
  constraint?: string;
}): EnvVarSpec<number | undefined> {
  const { min, max } = spec;
  return {
    description: spec.description,
    default: spec.default,
    accepted: `${min}–${max}, or \`none\`${spec.constraint ? `; ${spec.constraint}` : ''}`,
    read: (env, name) => {
      const raw = optional(env, name);
      if (raw === undefined || raw === 'none') return undefined;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min || value > max)
        throw new ConfigError(
          `${name} must be an integer between ${min} and ${max} (days), or unset, got "${raw}"`,
        );
      return value * DAY_MS;
    },
  };
}

export interface LifecycleClients extends VobizClients {
  s3: S3Client;
  newId?: () => string;
  /** Test seams of the use cases. */
  steps?: {
    vobiz?: DeleteAtVobizDependencies['afterStep'];
    expire?: ExpireDependencies['afterStep'];
    erase?: EraseDependencies['afterStep'];
    hold?: LegalHoldDependencies['afterStep'];
  };
}

export function buildLifecycle(
  settings: LifecycleSettings,
  credentials: VobizCredentials | CredentialsSource,
  clients: LifecycleClients,
) {
  const repository = new DynamoLifecycleRepository(clients.documents, settings.tableName);
  const audio = new S3AudioVersions(clients.s3, settings.bucketName);
  const vobiz = buildVobizClient(settings, credentials, clients);
  const common = { records: repository, audio, audit: repository, clock: clients.clock };
  const deleteAtVobiz = makeDeleteAtVobiz({ ...common, vobiz, afterStep: clients.steps?.vobiz });
  const expireRecording = makeExpireRecording({ ...common, afterStep: clients.steps?.expire });
  const eraseRecording = makeEraseRecording({
    ...common,
    deleteAtVobiz,
    newId: clients.newId ?? (() => randomUUID()),
    afterStep: clients.steps?.erase,
  });
  const legalHold = makeLegalHold({ ...common, afterStep: clients.steps?.hold });
  const run = makeLifecycleRun({
    records: repository,
    itemsRead: () => repository.itemsRead,
    deleteAtVobiz,
    expireRecording,
    eraseRecording,
    clock: clients.clock,
    settings,
  });
  return {
    settings,
    repository,
    audio,
    vobiz,
    deleteAtVobiz,
    expireRecording,
    eraseRecording,
    legalHold,
    run,
  };
}

export type Lifecycle = ReturnType<typeof buildLifecycle>;
