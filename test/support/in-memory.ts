import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RecordingRecord, VobizRecording } from '../../functions/shared/domain/recording.js';
import { DigestingStream } from '../../functions/shared/adapters/s3-archive.js';
import {
  LeaseLostError,
  type AcceptResult,
  type AudioArchive,
  type ClaimResult,
  type ConsumedNonce,
  type LeaseRequest,
  type MediaDownload,
  type MediaSource,
  type RecordingRepository,
  type StoreAudioInput,
  type StoredObject,
  type VobizApi,
} from '../../functions/shared/ingest/ports.js';

/** The repository's contract in memory: same conditions as the DynamoDB adapter, for use-case tests. */
export class InMemoryRecordings implements RecordingRepository {
  readonly records = new Map<string, RecordingRecord>();
  /** Consumed nonce → the recording it was consumed for. */
  readonly nonces = new Map<string, string>();
  /** Makes `replaceLeased` slow, to observe what happens while a write is in flight. */
  writeDelayMs = 0;
  /** Lease renewals, in order, and an optional failure or delay to inject into them. */
  readonly renewals: { recordingId: string; owner: string; nowMs: number; uploadKey?: string }[] = [];
  renewFailure: Error | undefined;
  /** Renewals from the `fromCall`-th on (0-based) answer `delayMs` late (a request that hangs). */
  slowRenewals: { fromCall: number; delayMs: number } | undefined;

  accept({
    record,
    nonces,
  }: {
    record: RecordingRecord;
    nonces: readonly ConsumedNonce[];
  }): Promise<AcceptResult> {
    const id = record.recording_id;
    const seen = nonces.filter((n) => this.nonces.has(n.value));
    if (seen.some((n) => this.nonces.get(n.value) !== id)) return Promise.resolve({ kind: 'replayed' });
    nonces.forEach((n) => this.nonces.set(n.value, id));
    const existing = this.records.get(id);
    if (existing)
      return Promise.resolve({
        kind: 'known',
        status: existing.status,
        retry: nonces.length > 0 && seen.length === nonces.length,
      });
    this.records.set(id, structuredClone(record));
    return Promise.resolve({ kind: 'recorded', status: 'pending' });
  }

  async renewLease({ recordingId, owner, nowMs, leaseMs, uploadKey }: LeaseRequest): Promise<void> {
    this.renewals.push({ recordingId, owner, nowMs, ...(uploadKey ? { uploadKey } : {}) });
    const slow = this.slowRenewals;
    if (slow && this.renewals.length > slow.fromCall)
      await new Promise((resolve) => setTimeout(resolve, slow.delayMs));
    if (this.renewFailure) throw this.renewFailure;
    const current = this.records.get(recordingId);
    if (current?.lease_owner !== owner || current.status !== 'pending') throw new LeaseLostError(recordingId);
    const until = nowMs + leaseMs;
    this.records.set(recordingId, {
      ...current,
      lease_until_ms: until,
      next_attempt_at: new Date(until).toISOString(),
      ...(uploadKey ? { s3_upload_key: uploadKey } : {}),
    });
  }

  claim({ recordingId, owner, nowMs, leaseMs }: LeaseRequest): Promise<ClaimResult> {
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
  private versions = 0;
  async store(input: StoreAudioInput): Promise<StoredObject> {
    const digest = new DigestingStream(input.expectedBytes, input.onProgress);
    const chunks: Buffer[] = [];
    await pipeline(
      input.body,
      digest,
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) chunks.push(chunk);
      },
      { signal: input.signal },
    );
    // As the S3 adapter: the object appears only if the caller still may write it.
    await input.beforeComplete?.();
    input.signal?.throwIfAborted();
    this.objects.set(input.key, { bytes: Buffer.concat(chunks), contentType: input.contentType });
    const sha256 = digest.hash.digest();
    return {
      bucket: 'memory',
      key: input.key,
      sizeBytes: digest.bytes,
      sha256: sha256.toString('hex'),
      versionId: `v${++this.versions}`,
      checksumSha256: sha256.toString('base64'),
    };
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
