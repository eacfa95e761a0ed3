import { actorOf, type Actor } from './actor.js';
import { DUE_SHARDS, EXPIRY_SHARDS, HOLD_SHARDS, INDEXES, TABLE_KEYS, TIME_SHARDS } from './table.js';

/**
 * `pending` → `stored` (or `failed`) while archiving; then the lifecycle: `expiring` → `expired`
 * (retention removed the audio, metadata kept) and `erasing` → `erased` (a tombstone without personal
 * data). `expiring` and `erasing` say that a removal has begun and is finished by the next run.
 */
export type RecordingStatus = 'pending' | 'stored' | 'failed' | 'expiring' | 'expired' | 'erasing' | 'erased';
export const RECORDING_STATUSES: readonly RecordingStatus[] = [
  'pending',
  'stored',
  'failed',
  'expiring',
  'expired',
  'erasing',
  'erased',
];

/** Statuses of a recording whose audio is gone or going: never archived again, `/audio` answers 410. */
export const REMOVED_STATUSES: ReadonlySet<RecordingStatus> = new Set([
  'expiring',
  'expired',
  'erasing',
  'erased',
]);

/**
 * The audio format as Vobiz names it (`mp3`, `wav`), lower-cased. It becomes the file extension, so the
 * schema admits only what is safe there (RECORDING_FORMAT_PATTERN); a format we do not know is kept.
 */
export type RecordingFormat = string;
export const RECORDING_FORMAT_PATTERN = /^[a-z0-9]{1,10}$/;

/** The `Content-Type` the audio is stored with: the format's audio type, or a generic one if unknown. */
export function contentTypeOf(format: RecordingFormat): string {
  switch (format) {
    case 'mp3':
      return 'audio/mpeg';
    case 'wav':
      return 'audio/wav';
    default:
      return 'application/octet-stream';
  }
}

/**
 * Recording ids are used in a URL path, a DynamoDB key and an S3 key, so they are checked against this
 * pattern before anything else happens: letters, digits, `_` and `-`, 1–128 characters, no dots or slashes.
 */
export const RECORDING_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

export function isValidRecordingId(value: unknown): value is string {
  return typeof value === 'string' && RECORDING_ID_PATTERN.test(value);
}

/**
 * The Retrieve Recording response, typed: string decimals parsed, `add_time` normalised to UTC. Only what
 * the archive cannot work without is guaranteed; every other field is informative and `null` when Vobiz
 * left it out, sent `null`, or sent something that does not parse (then its raw value is kept in
 * `unparsed_fields`), so an odd field never stops a recording from being archived.
 */
export interface VobizRecording {
  recording_id: string;
  recording_url: string;
  add_time: string; // ISO-8601 UTC with milliseconds
  add_time_ms: number;
  recording_format: RecordingFormat;
  api_id: string | null;
  call_uuid: string | null;
  conference_name: string | null;
  from_number: string | null;
  to_number: string | null;
  monthly_recording_storage_amount: number | null;
  recording_duration_ms: number | null;
  recording_start_ms: number | null;
  recording_end_ms: number | null;
  recording_storage_duration: number | null;
  recording_storage_rate: number | null;
  recording_type: string | null;
  resource_uri: string | null;
  rounded_recording_duration: number | null;
  /**
   * Informative fields whose value did not parse, by name: the raw value as text (JSON for non-strings),
   * at most 256 characters. `null` when every field parsed (always set, so a newer fetch replaces it).
   */
  unparsed_fields: Record<string, string> | null;
}

export interface StoredAudio {
  s3_bucket: string;
  s3_key: string;
  size_bytes: number;
  sha256: string; // hex
  content_type: string;
  archived_at: string;
  /** The S3 version written (absent on records archived before versions were recorded). */
  s3_version_id?: string;
  /**
   * What S3 must report as the object's `x-amz-checksum-sha256`, computed while uploading: the SHA-256
   * (base64) for a single-part upload, `base64(sha256(part digests))-N` for N parts. Absent on records
   * archived before checksums were sent to S3 (those are verified by reading the object back).
   */
  s3_checksum_sha256?: string;
}

/** The audio fields of a stored record: what an expiry removes, and all an erasure keeps while it runs. */
export const AUDIO_FIELDS = [
  's3_bucket',
  's3_key',
  'size_bytes',
  'sha256',
  'content_type',
  's3_version_id',
  's3_checksum_sha256',
] as const satisfies readonly (keyof StoredAudio)[];

/** What the lifecycle adds to a record (see functions/shared/lifecycle/). */
export interface LifecycleFields {
  legal_hold?: boolean;
  legal_hold_at?: string;
  legal_hold_by?: Actor;
  legal_hold_reason?: string;
  vobiz_deleted_at?: string;
  /** Failed attempts to delete at Vobiz (transient errors); the next one waits longer each time. */
  vobiz_delete_attempts?: number;
  vobiz_delete_error?: string;
  /** Verification refused the delete at Vobiz; the recording stays there until someone looks (why). */
  vobiz_delete_blocked?: string;
  expiry_started_at?: string;
  expired_at?: string;
  expiry_attempts?: number;
  expiry_error?: string;
  /** The erasure under way (its id makes the audit entry written exactly once across resumes). */
  erasure_id?: string;
  erasure_started_at?: string;
  erasure_reason?: string;
  erasure_also_vobiz?: boolean;
  /** The status before an erasure began, to restore if S3 refuses the deletion (an outside legal hold). */
  erasure_previous_status?: RecordingStatus;
  /** Every S3 key an erasure under way clears (computed before the metadata they derive from is removed). */
  erasure_keys?: string[];
  erased_by?: Actor;
  erased_at?: string;
}

/**
 * One archived (or to-be-archived) recording: what the table holds and what the API renders. An `erased`
 * record is a tombstone holding only `recording_id`, `status`, `erasure_id`, `erased_at`,
 * `erasure_reason`, `erased_by`, `vobiz_deleted_at` (if deleted there too) and `updated_at`.
 */
export interface RecordingRecord extends Partial<VobizRecording>, Partial<StoredAudio>, LifecycleFields {
  recording_id: string;
  account_id: string;
  status: RecordingStatus;
  attempts: number;
  last_error?: string;
  /** When the re-drive should try again (pending only). */
  next_attempt_at?: string;
  received_at: string;
  updated_at: string;
  /** Exclusive claim of one worker while it archives; absent when nobody works on the record. */
  lease_owner?: string;
  lease_until_ms?: number;
  /**
   * The S3 key an archive attempt uploads to, written before its first byte is sent: an erasure finds an
   * object there even when the metadata it derives from never reached the record.
   */
  s3_upload_key?: string;
}

/** Phone numbers arrive as `+9180…` or `9180…`: the index and the filters use the digits only. */
export function normalizePhoneNumber(value: string): string {
  return value.replace(/\D/g, '');
}

/** `+919876543210` → `+91******3210`: enough to correlate, not enough to identify. */
export function maskPhoneNumber(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  const digits = normalizePhoneNumber(value);
  if (digits.length <= 4) return '*'.repeat(digits.length);
  const prefix = value.startsWith('+') ? '+' : '';
  const keep = digits.length > 8 ? 2 : 0;
  return `${prefix}${digits.slice(0, keep)}${'*'.repeat(digits.length - keep - 4)}${digits.slice(-4)}`;
}

/** FNV-1a: a stable, cheap hash so a recording always lands in the same shard. */
export function shardOf(recordingId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < recordingId.length; i++) {
    hash ^= recordingId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

const TIME_DIGITS = 15;

/** Sort key that orders by time, then id: zero-padded epoch ms so string order equals numeric order. */
export function timeSortKey(epochMs: number, recordingId: string): string {
  return `${String(Math.max(0, Math.trunc(epochMs))).padStart(TIME_DIGITS, '0')}#${recordingId}`;
}

/** The lowest and highest sort keys of a time window, for `BETWEEN` conditions (inclusive bounds). */
export function timeSortKeyBounds(
  sinceMs: number | undefined,
  untilMs: number | undefined,
): { low: string; high: string } {
  const low = `${String(Math.max(0, Math.trunc(sinceMs ?? 0))).padStart(TIME_DIGITS, '0')}#`;
  const high = `${String(Math.trunc(untilMs ?? 10 ** TIME_DIGITS - 1)).padStart(TIME_DIGITS, '0')}#~`;
  return { low, high };
}

export const keys = {
  recording: (recordingId: string) => ({
    [TABLE_KEYS.partitionKey]: `REC#${recordingId}`,
    [TABLE_KEYS.sortKey]: 'REC',
  }),
  nonce: (nonce: string) => ({ [TABLE_KEYS.partitionKey]: `NONCE#${nonce}`, [TABLE_KEYS.sortKey]: 'NONCE' }),
  callPartition: (callUuid: string) => `CALL#${callUuid}`,
  fromPartition: (phone: string) => `FROM#${normalizePhoneNumber(phone)}`,
  toPartition: (phone: string) => `TO#${normalizePhoneNumber(phone)}`,
  timePartition: (shard: number) => `TIME#${shard}`,
  statusPartition: (status: RecordingStatus, shard: number) => `STATUS#${status}#${shard}`,
  duePartition: (shard: number) => `DUE#${shard}`,
  vobizDuePartition: (shard: number) => `VDEL#${shard}`,
  erasureVobizPartition: (shard: number) => `EVDEL#${shard}`,
  expiryPartition: (shard: number) => `EXP#${shard}`,
  heldPartition: (shard: number) => `HOLD#${shard}`,
};

/** The `held` index partition of a record on legal hold (`gsi_hold_pk`; its sort key is `gsi_time_sk`). */
export function heldIndexKey(recordingId: string): string {
  return keys.heldPartition(shardOf(recordingId, HOLD_SHARDS));
}

/**
 * The time a record is listed under: Vobiz's `add_time` once known, else when we heard of it; a record
 * being erased, or its tombstone (which keep neither), by the time the erasure began or ended.
 */
export function listingTimeMs(record: RecordingRecord): number {
  return (
    record.add_time_ms ?? Date.parse(record.erased_at ?? record.erasure_started_at ?? record.received_at)
  );
}

/** The `by-status` partition key of a record with this status. */
export function statusIndexKey(recordingId: string, status: RecordingStatus): string {
  return keys.statusPartition(status, shardOf(recordingId, TIME_SHARDS));
}

/**
 * The `due` index keys of a stored record waiting for its delete at Vobiz: sorted by when it became
 * eligible (archived, or a failed attempt's backoff); the lifecycle applies the stage's delay when it reads.
 */
export function vobizDueKeys(recordingId: string, eligibleAtMs: number): Record<string, string> {
  return {
    [INDEXES.due.partitionKey]: keys.vobizDuePartition(shardOf(recordingId, DUE_SHARDS)),
    [INDEXES.due.sortKey]: timeSortKey(eligibleAtMs, recordingId),
  };
}

/**
 * The `due` index keys of a tombstone whose erasure still owes the delete at Vobiz: its own partitions
 * (`EVDEL#`), read by every scheduled run whatever the stage's delay, sorted by when it became due.
 */
export function erasureVobizDueKeys(recordingId: string, eligibleAtMs: number): Record<string, string> {
  return {
    [INDEXES.due.partitionKey]: keys.erasureVobizPartition(shardOf(recordingId, DUE_SHARDS)),
    [INDEXES.due.sortKey]: timeSortKey(eligibleAtMs, recordingId),
  };
}

/** The `expiry` index keys of a stored record: by `add_time` (or a failed attempt's backoff). */
export function expiryKeys(recordingId: string, eligibleAtMs: number): Record<string, string> {
  return {
    [INDEXES.expiry.partitionKey]: keys.expiryPartition(shardOf(recordingId, EXPIRY_SHARDS)),
    [INDEXES.expiry.sortKey]: timeSortKey(eligibleAtMs, recordingId),
  };
}

/**
 * Every key an audio object of this record may be under: the stored one, the one an archive attempt
 * uploads to, and the one its metadata derives (older records have no upload key). An `erasing` record
 * lists them itself, its metadata being gone.
 */
export function audioKeysOf(record: RecordingRecord): string[] {
  if (record.erasure_keys) return [...record.erasure_keys];
  const derived =
    record.add_time_ms !== undefined && record.recording_format && record.account_id
      ? audioObjectKey(record.account_id, record.recording_id, record.add_time_ms, record.recording_format)
      : undefined;
  return [...new Set([record.s3_key, record.s3_upload_key, derived].filter((key): key is string => !!key))];
}

/** What starts an erasure: its id, when, why (a reference), who, and whether Vobiz's copy goes too. */
export interface ErasureIntent {
  erasureId: string;
  at: string;
  reason: string;
  actor: Actor;
  alsoVobiz: boolean;
}

/**
 * The record while an erasure runs: everything personal (numbers, call, times, Vobiz's metadata, the
 * lookup index keys) is gone from the first step, so nobody can find the person while the audio is
 * being deleted. It keeps what finishing needs: the recording and account ids, the audio's keys and
 * facts (to delete it, or to restore a stored record if S3 Object Lock refuses), and the intent.
 * Listed under `status=erasing` by the time the erasure began, nowhere else.
 */
export function erasingRecord(
  recordingId: string,
  previous: RecordingRecord | undefined,
  intent: ErasureIntent,
): RecordingRecord {
  const kept: Record<string, unknown> = {};
  for (const name of ['account_id', 'attempts', 'vobiz_deleted_at', ...AUDIO_FIELDS] as const)
    if (previous?.[name] !== undefined) kept[name] = previous[name];
  const audioKeys = previous ? audioKeysOf(previous) : [];
  return {
    recording_id: recordingId,
    status: 'erasing',
    ...kept,
    ...(audioKeys.length > 0 ? { erasure_keys: audioKeys } : {}),
    erasure_id: intent.erasureId,
    erasure_started_at: intent.at,
    erasure_reason: intent.reason,
    erased_by: intent.actor,
    erasure_also_vobiz: intent.alsoVobiz,
    ...(previous ? { erasure_previous_status: previous.status } : {}),
    updated_at: intent.at,
  } as RecordingRecord;
}

/**
 * The tombstone an erasure leaves: no personal data (no numbers, call, times of the call or audio), so
 * that a late callback or the backfill sweep finds the id known and archives nothing. Listed under
 * `status=erased` by the time of erasure, and, while the delete at Vobiz it asked for is still owed, in
 * the `due` index (`EVDEL#`) that the scheduled run retries from. The account id stays: the delete at
 * Vobiz is made (and a 404 believed) only in the account the recording belongs to.
 */
export function tombstone(input: {
  recordingId: string;
  accountId?: string;
  erasureId: string;
  erasedAt: string;
  reason: string;
  erasedBy: Actor;
  alsoVobiz: boolean;
  vobizDeletedAt?: string;
}): RecordingRecord {
  return {
    recording_id: input.recordingId,
    ...(input.accountId ? { account_id: input.accountId } : {}),
    status: 'erased',
    erasure_id: input.erasureId,
    erased_at: input.erasedAt,
    erasure_reason: input.reason,
    erased_by: input.erasedBy,
    erasure_also_vobiz: input.alsoVobiz,
    ...(input.vobizDeletedAt ? { vobiz_deleted_at: input.vobizDeletedAt } : {}),
    updated_at: input.erasedAt,
  } as RecordingRecord;
}

/** A tombstone whose erasure asked for the delete at Vobiz, not done (nor refused) yet. */
export function owesVobizDelete(record: RecordingRecord): boolean {
  return (
    record.status === 'erased' &&
    record.erasure_also_vobiz === true &&
    !record.vobiz_deleted_at &&
    !record.vobiz_delete_blocked
  );
}

/**
 * Index attributes derived from the record. Absent attributes keep an item out of a (sparse) index:
 * only pending records are in `due`, only records with metadata are in the call/number indexes.
 */
export function indexAttributes(record: RecordingRecord): Record<string, string> {
  const id = record.recording_id;
  if (record.status === 'erased' || record.status === 'erasing') {
    return {
      [INDEXES.byStatus.partitionKey]: statusIndexKey(id, record.status),
      [INDEXES.byStatus.sortKey]: timeSortKey(listingTimeMs(record), id),
      ...(owesVobizDelete(record) ? erasureVobizDueKeys(id, Date.parse(record.erased_at!)) : {}),
    };
  }
  const attrs: Record<string, string> = {
    [INDEXES.byTime.sortKey]: timeSortKey(listingTimeMs(record), id),
    [INDEXES.byTime.partitionKey]: keys.timePartition(shardOf(id, TIME_SHARDS)),
    [INDEXES.byStatus.partitionKey]: keys.statusPartition(record.status, shardOf(id, TIME_SHARDS)),
  };
  if (record.call_uuid) attrs[INDEXES.byCall.partitionKey] = keys.callPartition(record.call_uuid);
  if (record.from_number) attrs[INDEXES.byFrom.partitionKey] = keys.fromPartition(record.from_number);
  if (record.to_number) attrs[INDEXES.byTo.partitionKey] = keys.toPartition(record.to_number);
  if (record.status === 'pending' && record.next_attempt_at) {
    Object.assign(attrs, dueIndexKeys(id, Date.parse(record.next_attempt_at)));
  }
  if (
    record.status === 'stored' &&
    !record.legal_hold &&
    !record.vobiz_deleted_at &&
    !record.vobiz_delete_blocked &&
    record.archived_at
  ) {
    Object.assign(attrs, vobizDueKeys(id, Date.parse(record.archived_at)));
  }
  // Retention implies the delete at Vobiz: an expired recording still there stays due for it.
  if (
    record.status === 'expired' &&
    !record.vobiz_deleted_at &&
    !record.vobiz_delete_blocked &&
    record.add_time_ms !== undefined
  ) {
    Object.assign(attrs, vobizDueKeys(id, record.add_time_ms));
  }
  if ((record.status === 'stored' || record.status === 'expiring') && !record.legal_hold) {
    if (record.add_time_ms !== undefined) Object.assign(attrs, expiryKeys(id, record.add_time_ms));
  }
  if (record.legal_hold) attrs[INDEXES.held.partitionKey] = heldIndexKey(id);
  return attrs;
}

/** The `due` index keys of a pending record whose next attempt is due at `dueAtMs`. */
export function dueIndexKeys(recordingId: string, dueAtMs: number): Record<string, string> {
  return {
    [INDEXES.due.partitionKey]: keys.duePartition(shardOf(recordingId, DUE_SHARDS)),
    [INDEXES.due.sortKey]: timeSortKey(dueAtMs, recordingId),
  };
}

const INTERNAL_ATTRIBUTES = new Set<string>([
  TABLE_KEYS.partitionKey,
  TABLE_KEYS.sortKey,
  ...Object.values(INDEXES).flatMap((index) => [index.partitionKey, index.sortKey]),
]);

export function toItem(record: RecordingRecord): Record<string, unknown> {
  return { ...record, ...keys.recording(record.recording_id), ...indexAttributes(record) };
}

/** Fields holding an `Actor` (a plain ARN string on records written before actors were objects). */
const ACTOR_FIELDS = new Set(['erased_by', 'legal_hold_by']);

export function fromItem(item: Record<string, unknown>): RecordingRecord {
  const record: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    if (INTERNAL_ATTRIBUTES.has(name)) continue;
    record[name] = ACTOR_FIELDS.has(name) ? (actorOf(value) ?? value) : value;
  }
  return record as unknown as RecordingRecord;
}

/**
 * Fields never shown to API callers: worker bookkeeping. Every Retrieve Recording field is shown, as the
 * design asks, including `recording_url` (Vobiz's own, possibly expired, link; use `/audio` for ours).
 */
const HIDDEN_FIELDS = new Set([
  'lease_owner',
  'lease_until_ms',
  's3_upload_key',
  'erasure_previous_status',
  'erasure_keys',
]);

/** Identity and state first, then the call, the audio and the bookkeeping; anything else after, sorted. */
const FIELD_ORDER = [
  'recording_id',
  'status',
  'account_id',
  'call_uuid',
  'from_number',
  'to_number',
  'add_time',
  'add_time_ms',
  'recording_type',
  'recording_format',
  'recording_duration_ms',
  'recording_start_ms',
  'recording_end_ms',
  'rounded_recording_duration',
  'conference_name',
  'unparsed_fields',
  's3_bucket',
  's3_key',
  'size_bytes',
  'sha256',
  'content_type',
  'archived_at',
  's3_version_id',
  's3_checksum_sha256',
  'legal_hold',
  'legal_hold_at',
  'legal_hold_by',
  'legal_hold_reason',
  'vobiz_deleted_at',
  'vobiz_delete_attempts',
  'vobiz_delete_error',
  'vobiz_delete_blocked',
  'expiry_started_at',
  'expired_at',
  'erasure_id',
  'erasure_started_at',
  'erasure_reason',
  'erasure_also_vobiz',
  'erased_by',
  'erased_at',
  'attempts',
  'last_error',
  'next_attempt_at',
  'received_at',
  'updated_at',
];
const FIELD_RANK = new Map(FIELD_ORDER.map((name, i) => [name, i]));

/** The public JSON shape of a record, shared by every route (and tool) that renders one; stable field order. */
export function renderRecording(record: RecordingRecord): Record<string, unknown> {
  const names = Object.keys(record)
    .filter((name) => !HIDDEN_FIELDS.has(name) && record[name as keyof RecordingRecord] !== undefined)
    .sort(
      (a, b) =>
        (FIELD_RANK.get(a) ?? FIELD_ORDER.length) - (FIELD_RANK.get(b) ?? FIELD_ORDER.length) ||
        a.localeCompare(b),
    );
  return Object.fromEntries(names.map((name) => [name, record[name as keyof RecordingRecord]]));
}

/**
 * `recordings/{account_id}/{yyyy}/{mm}/{dd}/{recording_id}.{format}` with the UTC date of `add_time`.
 * The format is the extension, whatever it is; the schema already refused one unsafe in a key.
 */
export function audioObjectKey(
  accountId: string,
  recordingId: string,
  addTimeMs: number,
  format: RecordingFormat,
): string {
  if (!RECORDING_FORMAT_PATTERN.test(format))
    throw new Error('recording format is not a safe file extension');
  const date = new Date(addTimeMs);
  const yyyy = String(date.getUTCFullYear()).padStart(4, '0');
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  return `recordings/${accountId}/${yyyy}/${mm}/${dd}/${recordingId}.${format}`;
}

/**
 * The name a downloaded recording is saved under: `{add_time}_{from}_{to}_{recording_id}.{ext}`, with
 * the time in UTC as `20251106T134910Z` and numbers as Vobiz wrote them (digits and `+`), so a folder
 * of downloads sorts by time and says who talked to whom.
 */
export function audioDownloadName(record: RecordingRecord): string {
  const time =
    record.add_time_ms === undefined
      ? 'unknown-time'
      : new Date(record.add_time_ms)
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z')
          .replace(/[-:]/g, '');
  const number = (value: string | null | undefined) => value?.replace(/[^+\d]/g, '') || 'unknown';
  const format = record.recording_format ?? (record.s3_key?.endsWith('.wav') ? 'wav' : 'mp3');
  return `${time}_${number(record.from_number)}_${number(record.to_number)}_${record.recording_id}.${format}`;
}
