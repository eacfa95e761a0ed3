import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { DynamoRecordingRepository } from '../../functions/shared/adapters/dynamo-recordings.js';
import { makeAcceptNotification } from '../../functions/shared/ingest/accept-notification.js';
import type { Clock } from '../../functions/shared/ingest/ports.js';
import {
  buildRedriveDependencies,
  readRedriveSettings,
  type RedriveClients,
  type RedriveDependencies,
} from '../../functions/redrive/dependencies.js';
import { createRedriveHandler } from '../../functions/redrive/handler.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { audioSha256, type FakeRecording, type VobizFake } from '../../local/vobiz-fake.js';
import type { useEmulators } from './aws.js';
import { readObject, readRecord, webhookEnv } from './webhook.js';

export type Emulators = Awaited<ReturnType<typeof useEmulators>>;

/** A clock the test moves by hand: lease expiry and backoff become explicit steps, not sleeps. */
export class FakeClock implements Clock {
  constructor(public ms = Date.now()) {}
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
  /** Moves to just after a record's next attempt is due. */
  passDue(nextAttemptAt: string | undefined): void {
    if (!nextAttemptAt) throw new Error('record has no next_attempt_at');
    this.ms = Math.max(this.ms, Date.parse(nextAttemptAt) + 1);
  }
}

/** The re-drive reads the webhook's settings (minus the public URL, which it ignores) and its own. */
export function redriveEnv(
  fake: VobizFake,
  storage: { tableName: string; bucketName: string },
  extra: Record<string, string> = {},
) {
  // Test recordings are minutes old at most; the sweep's minimum age is tested on its own.
  return webhookEnv(fake, storage, { BACKFILL_MIN_AGE_MINUTES: '0', ...extra });
}

/** Fast client-side retries so that a test's "Vobiz is down" round costs milliseconds. */
export const FAST_VOBIZ = { baseDelayMs: 1, maxDelayMs: 5, timeoutMs: 2_000 };

/** The re-drive's real collaborators (emulators, Vobiz fake), with the test's clock and clients. */
export function buildRedrive(
  fake: VobizFake,
  env: Emulators,
  options: Partial<RedriveClients> & { clock: Clock; extraEnv?: Record<string, string> },
): RedriveDependencies {
  const { extraEnv, ...clients } = options;
  const settings = readRedriveSettings(
    redriveEnv(fake, env, { BACKFILL_LOOKBACK_MINUTES: '0', ...extraEnv }),
  );
  return buildRedriveDependencies(settings, { authId: fake.authId, authToken: fake.authToken }, fake.authId, {
    documents: env.documents,
    s3: env.s3,
    vobiz: FAST_VOBIZ,
    ...clients,
  });
}

/** The real middy handler over those collaborators. */
export function redriveHandler(deps: RedriveDependencies) {
  return createRedriveHandler(() => Promise.resolve(deps));
}

/** Puts a recording in the queue the way the webhook (or the backfill) does: pending, due at `clock` now. */
export async function enqueue(
  env: Emulators,
  clock: Clock,
  recording: FakeRecording,
  accountId: string,
): Promise<string> {
  const id = recording.metadata.recording_id as string;
  const accept = makeAcceptNotification({
    recordings: new DynamoRecordingRepository(env.documents, env.tableName),
    clock,
    accountId,
    nonceTtlSeconds: 60,
    firstDueAfterMs: 0,
  });
  await accept(id, []);
  return id;
}

/** A run's remaining time that never runs out (the test decides when time passes). */
export const plentyOfTime = () => 10 * 60_000;

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Stored with the exact bytes, exactly one object, and a record with no worker bookkeeping left. */
export async function expectArchivedOnce(env: Emulators, recording: FakeRecording) {
  const id = recording.metadata.recording_id as string;
  const record = await readRecord(env.documents, env.tableName, id);
  expect(record?.status).toBe('stored');
  expect(record!.lease_owner).toBeUndefined();
  expect(record!.lease_until_ms).toBeUndefined();
  expect(record!.next_attempt_at).toBeUndefined();
  expect(record!.last_error).toBeUndefined();
  const object = await readObject(env.s3, env.bucketName, record!.s3_key!);
  expect(object).toBeDefined();
  expect(object!.bytes.length).toBe(recording.sizeBytes);
  expect(sha256(object!.bytes)).toBe(audioSha256(id, recording.format, recording.sizeBytes));
  expect(record!.sha256).toBe(audioSha256(id, recording.format, recording.sizeBytes));
  expect(record!.size_bytes).toBe(recording.sizeBytes);
  expect(await objectKeysFor(env, id)).toEqual([record!.s3_key]);
  return record!;
}

export async function objectKeysFor(
  env: Pick<Emulators, 's3' | 'bucketName'>,
  recordingId: string,
): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await env.s3.send(
      new ListObjectsV2Command({ Bucket: env.bucketName, Prefix: 'recordings/', ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!).filter((key) => key.includes(recordingId)));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

export async function readPending(documents: DynamoDBDocumentClient, tableName: string, id: string) {
  const record = await readRecord(documents, tableName, id);
  expect(record?.status).toBe('pending');
  return record!;
}

/** Fresh SDK clients for one test, so that fault-injecting middleware never leaks into another test. */
export function freshClients(endpoints: { dynamo?: string; s3?: string } = {}) {
  const dynamo = new DynamoDBClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    ...(endpoints.dynamo ? { endpoint: endpoints.dynamo, maxAttempts: 1 } : {}),
  });
  const s3 = new S3Client({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
    ...(endpoints.s3 ? { endpoint: endpoints.s3, maxAttempts: 1 } : {}),
  });
  return { dynamo, documents: createDocumentClient(dynamo), s3 };
}

/** A promise that never settles: `await`ing it in a step hook stands for a process that died there. */
export function dieHere(): Promise<never> {
  return new Promise<never>(() => undefined);
}
