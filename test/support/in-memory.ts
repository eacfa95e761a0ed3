import { Readable } from 'node:stream';
import type { RecordingRecord, VobizRecording } from '../../functions/shared/domain/recording.js';
import type {
  AudioArchive,
  StoreAudioInput,
  StoredObject,
} from '../../functions/shared/adapters/s3-archive.js';
import { DigestingStream } from '../../functions/shared/adapters/s3-archive.js';
import type { MediaDownload, MediaSource } from '../../functions/shared/adapters/media.js';
import type { VobizApi } from '../../functions/shared/adapters/vobiz-client.js';
import {
  LeaseLostError,
  type ClaimResult,
  type ConsumedNonce,
  type RecordingRepository,
} from '../../functions/shared/ingest/ports.js';

/** The repository's contract in memory: same conditions as the DynamoDB adapter, for use-case tests. */
export class InMemoryRecordings implements RecordingRepository {
  readonly records = new Map<string, RecordingRecord>();
  readonly nonces = new Set<string>();
  /** Makes `replaceLeased` slow, to exercise the overlap of the metadata write and the transfer. */
  writeDelayMs = 0;

  accept({
    record,
    nonces,
  }: {
    record: RecordingRecord;
    nonces: readonly ConsumedNonce[];
  }): Promise<'accepted' | 'replayed'> {
    if (nonces.some((n) => this.nonces.has(n.value))) return Promise.resolve('replayed');
    nonces.forEach((n) => this.nonces.add(n.value));
    if (!this.records.has(record.recording_id))
      this.records.set(record.recording_id, structuredClone(record));
    return Promise.resolve('accepted');
  }

  claim({
    recordingId,
    owner,
    nowMs,
    leaseMs,
  }: {
    recordingId: string;
    owner: string;
    nowMs: number;
    leaseMs: number;
  }): Promise<ClaimResult> {
    const current = this.records.get(recordingId);
    if (!current) return Promise.resolve({ kind: 'missing' });
    if (current.status === 'stored')
      return Promise.resolve({ kind: 'stored', record: structuredClone(current) });
    if (current.lease_until_ms !== undefined && current.lease_until_ms >= nowMs) {
      return Promise.resolve({ kind: 'busy', record: structuredClone(current) });
    }
    const claimed: RecordingRecord = {
      ...current,
      status: 'pending',
      lease_owner: owner,
      lease_until_ms: nowMs + leaseMs,
      attempts: current.attempts + 1,
      next_attempt_at: new Date(nowMs + leaseMs).toISOString(),
    };
    this.records.set(recordingId, claimed);
    return Promise.resolve({ kind: 'claimed', record: structuredClone(claimed) });
  }

  async replaceLeased(record: RecordingRecord, owner: string): Promise<void> {
    if (this.writeDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.writeDelayMs));
    if (this.records.get(record.recording_id)?.lease_owner !== owner)
      throw new LeaseLostError(record.recording_id);
    this.records.set(record.recording_id, structuredClone(record));
  }

  get(recordingId: string): Promise<RecordingRecord | undefined> {
    const record = this.records.get(recordingId);
    return Promise.resolve(record && structuredClone(record));
  }
}

export class StubVobiz implements VobizApi {
  calls = 0;
  constructor(public respond: (id: string) => VobizRecording | Error) {}
  getRecording(id: string): Promise<VobizRecording> {
    this.calls++;
    const result = this.respond(id);
    return result instanceof Error ? Promise.reject(result) : Promise.resolve(result);
  }
}

export class StubMedia implements MediaSource {
  readonly opened: string[] = [];
  constructor(public respond: (url: string) => { bytes: Buffer; contentLength?: number } | Error) {}
  open(url: string): Promise<MediaDownload> {
    this.opened.push(url);
    const result = this.respond(url);
    if (result instanceof Error) return Promise.reject(result);
    return Promise.resolve({
      body: Readable.from([result.bytes]),
      contentLength: result.contentLength ?? result.bytes.length,
      contentType: 'audio/mpeg',
    });
  }
}

/** Keeps objects in memory, hashing and checking length exactly as the S3 adapter does. */
export class InMemoryArchive implements AudioArchive {
  readonly objects = new Map<string, { bytes: Buffer; contentType: string }>();
  async store(input: StoreAudioInput): Promise<StoredObject> {
    const digest = new DigestingStream(input.expectedBytes);
    const chunks: Buffer[] = [];
    for await (const chunk of input.body.pipe(digest)) chunks.push(chunk as Buffer);
    this.objects.set(input.key, { bytes: Buffer.concat(chunks), contentType: input.contentType });
    return { bucket: 'memory', key: input.key, sizeBytes: digest.bytes, sha256: digest.hash.digest('hex') };
  }
}

export function vobizRecording(overrides: Partial<VobizRecording> = {}): VobizRecording {
  const id = overrides.recording_id ?? 'rec-1';
  return {
    recording_id: id,
    api_id: 'api-1',
    add_time: '2025-11-06T13:49:10.751Z',
    add_time_ms: Date.UTC(2025, 10, 6, 13, 49, 10, 751),
    call_uuid: 'call-1',
    conference_name: null,
    from_number: '+918071387423',
    to_number: '919624705678',
    monthly_recording_storage_amount: 0,
    recording_duration_ms: 10080,
    recording_start_ms: 1762436939422,
    recording_end_ms: 1762436949502,
    recording_format: 'mp3',
    recording_storage_duration: 1,
    recording_storage_rate: 0.005,
    recording_type: 'call',
    recording_url: `https://media.vobiz.ai/${id}.mp3`,
    resource_uri: `/v1/Account/MA_1/Recording/${id}/`,
    rounded_recording_duration: 60,
    unparsed_fields: null,
    ...overrides,
  };
}
