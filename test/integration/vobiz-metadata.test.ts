import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRecordingRepository } from '../../functions/shared/adapters/dynamo-recordings.js';
import { VobizClient } from '../../functions/shared/adapters/vobiz-client.js';
import { renderRecording, type RecordingRecord } from '../../functions/shared/domain/recording.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';

/**
 * Retrieve Recording bodies with odd informative fields, served over HTTP by the Vobiz fake, read by the
 * real client and written to DynamoDB Local the way the archive writes metadata: each one must be
 * accepted and survive the round trip, so the recording can be archived.
 */
const fake = new VobizFake();
let client: VobizClient;
let recordings: DynamoRecordingRepository;

beforeAll(async () => {
  const env = await useEmulators();
  await fake.start();
  client = new VobizClient({
    baseUrl: fake.baseUrl,
    credentials: { authId: fake.authId, authToken: fake.authToken },
    baseDelayMs: 1,
    maxDelayMs: 2,
  });
  recordings = new DynamoRecordingRepository(env.documents, env.tableName);
});

afterAll(async () => {
  await fake.stop();
});

/** Fetches through the client, then accept → claim → replace with the metadata, and reads the record back. */
async function fetchAndStore(changes: Record<string, unknown>): Promise<RecordingRecord> {
  const recording = fake.addRecording();
  Object.assign(recording.metadata, changes);
  const id = recording.metadata.recording_id as string;
  const metadata = await client.getRecording(id);
  const now = new Date().toISOString();
  await recordings.accept({
    record: {
      recording_id: id,
      account_id: fake.authId,
      status: 'pending',
      attempts: 0,
      received_at: now,
      updated_at: now,
      next_attempt_at: now,
    },
    nonces: [],
  });
  const claim = await recordings.claim({ recordingId: id, owner: 'w', nowMs: Date.now(), leaseMs: 60_000 });
  if (claim.kind !== 'claimed') throw new Error(claim.kind);
  await recordings.replaceLeased({ ...claim.record, ...metadata }, 'w');
  return (await recordings.get(id))!;
}

describe('Retrieve Recording bodies with unexpected informative fields', () => {
  it.each<[string, Record<string, unknown>, Partial<RecordingRecord>]>([
    ['call_uuid: null', { call_uuid: null }, { call_uuid: null }],
    ['from_number: null', { from_number: null }, { from_number: null }],
    [
      'monthly_recording_storage_amount: null',
      { monthly_recording_storage_amount: null },
      { monthly_recording_storage_amount: null },
    ],
    [
      'recording_storage_duration: "1.50000"',
      { recording_storage_duration: '1.50000' },
      { recording_storage_duration: 1.5 },
    ],
    [
      'recording_duration_ms: "1.008E4"',
      { recording_duration_ms: '1.008E4' },
      { recording_duration_ms: 10080 },
    ],
  ])('%s: accepted by the client and stored, typed', async (_name, changes, expected) => {
    const record = await fetchAndStore(changes);
    expect(record).toMatchObject({ ...expected, unparsed_fields: null, recording_format: 'mp3' });
  });

  it('stores fields that do not parse as null, their raw values in unparsed_fields, and renders them', async () => {
    const record = await fetchAndStore({
      recording_duration_ms: 'about ten seconds',
      recording_storage_rate: 1e300,
      recording_end_ms: '9007199254740993',
      to_number: { digits: '919624705678' },
    });
    expect(record).toMatchObject({
      recording_duration_ms: null,
      recording_storage_rate: null,
      recording_end_ms: null,
      to_number: null,
      unparsed_fields: {
        recording_duration_ms: 'about ten seconds',
        recording_storage_rate: '1e+300',
        recording_end_ms: '9007199254740993',
        to_number: '{"digits":"919624705678"}',
      },
    });
    expect(JSON.parse(JSON.stringify(renderRecording(record)))).toMatchObject({
      unparsed_fields: { recording_duration_ms: 'about ten seconds' },
    });
  });

  it('keeps an unknown recording_format, lower-cased, as the file extension', async () => {
    const record = await fetchAndStore({ recording_format: 'OGG' });
    expect(record.recording_format).toBe('ogg');
  });
});
