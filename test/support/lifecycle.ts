import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import {
  AUDIT_ACTIONS,
  AUDIT_PARTITION_PREFIX,
  type AuditAction,
} from '../../functions/shared/domain/audit.js';
import { AUDIT_SHARDS } from '../../functions/shared/domain/table.js';
import type { Clock } from '../../functions/shared/ingest/ports.js';
import { buildArchiveRecording, readArchiveSettings } from '../../functions/shared/wiring/archive.js';
import {
  buildLifecycle,
  readLifecycleSettings,
  type LifecycleClients,
} from '../../functions/shared/wiring/lifecycle.js';
import type { FakeRecording, VobizFake } from '../../local/vobiz-fake.js';
import { enqueue, FAST_VOBIZ, redriveEnv, type Emulators } from './redrive.js';
import { readObject, readRecord } from './webhook.js';
import { sha256 } from './redrive.js';
import { audioSha256 } from '../../local/vobiz-fake.js';

/** The lifecycle's real collaborators (emulators, Vobiz fake) with the test's clock and settings. */
export function buildTestLifecycle(
  fake: VobizFake,
  env: Emulators,
  options: Partial<LifecycleClients> & { clock: Clock; extraEnv?: Record<string, string> },
) {
  const { extraEnv, ...clients } = options;
  const settings = readLifecycleSettings(redriveEnv(fake, env, { ...extraEnv }));
  return buildLifecycle(
    settings,
    { authId: fake.authId, authToken: fake.authToken },
    { documents: env.documents, s3: env.s3, vobiz: FAST_VOBIZ, ...clients },
  );
}

/** Archives a fake recording the way the worker does (accept, claim, Retrieve, audio, stored). */
export async function archive(fake: VobizFake, env: Emulators, clock: Clock, recording: FakeRecording) {
  const id = await enqueue(env, clock, recording, fake.authId);
  const archiveRecording = buildArchiveRecording(
    readArchiveSettings(redriveEnv(fake, env)),
    { authId: fake.authId, authToken: fake.authToken },
    fake.authId,
    { documents: env.documents, s3: env.s3, clock, vobiz: FAST_VOBIZ },
  );
  const outcome = await archiveRecording(id);
  expect(outcome.outcome).toBe('stored');
  return (await readRecord(env.documents, env.tableName, id))!;
}

/** Every audit entry in the table (test-only: reads the few audit partitions whole). */
export async function auditEntries(env: Emulators, recordingId?: string): Promise<Record<string, unknown>[]> {
  const entries: Record<string, unknown>[] = [];
  for (let shard = 0; shard < AUDIT_SHARDS; shard++) {
    const result = await env.documents.send(
      new QueryCommand({
        TableName: env.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${AUDIT_PARTITION_PREFIX}${shard}` },
        ConsistentRead: true,
      }),
    );
    entries.push(...(result.Items ?? []));
  }
  // Entries of one instant (a fake clock) in the order the actions follow each other.
  const rank = (entry: Record<string, unknown>) => AUDIT_ACTIONS.indexOf(entry.action as AuditAction);
  return entries
    .filter((entry) => recordingId === undefined || entry.recording_id === recordingId)
    .sort((a, b) => String(a.time).localeCompare(String(b.time)) || rank(a) - rank(b));
}

/** The archived audio of a record is in S3, byte for byte what the fake served. */
export async function expectAudioIntact(env: Emulators, recording: FakeRecording, s3Key: string) {
  const id = recording.metadata.recording_id as string;
  const object = await readObject(env.s3, env.bucketName, s3Key);
  expect(object, `audio of ${id}`).toBeDefined();
  expect(sha256(object!.bytes)).toBe(audioSha256(id, recording.format, recording.sizeBytes));
}

/** Thrown from a step hook: the use case stops right there, as a process that died would. */
export class Crash extends Error {
  constructor(step: string) {
    super(`crashed after ${step}`);
    this.name = 'Crash';
  }
}

export const DAY = 86_400_000;
