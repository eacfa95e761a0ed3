import { AUDIT_PARTITION_PREFIX } from './audit.js';
import { TABLE_KEYS } from './table.js';

/**
 * The immutable copy of the audit trail: every change to an audit item reaches an S3 bucket in Object
 * Lock compliance mode through the table's stream, in AWS (infra/audit-copy.ts) and in the local stack
 * (local/start.ts), both from this one description.
 *
 * The stream carries new images only (STREAM_VIEW_TYPE). That is enough: an entry's content is copied
 * when it is inserted, and every later change is tampering, since the code only ever puts audit items
 * if they are new. A MODIFY brings the overwriting content; a REMOVE (a delete, or TTL) brings the
 * keys, the time and who removed it (`userIdentity` marks TTL), and the entry it removed is the copy
 * already in the bucket. Old images would add nothing the bucket lacks, and switching the view type
 * would recreate the stream under the archive worker.
 */

/** Lambda event filter: every event (insert, modify, remove) on an item whose partition key is `AUDIT#…`. */
export const AUDIT_COPY_FILTER = {
  dynamodb: { Keys: { [TABLE_KEYS.partitionKey]: { S: [{ prefix: AUDIT_PARTITION_PREFIX }] } } },
} as const;

export const AUDIT_COPY_TRIGGER = {
  batchSize: 50,
  /** Retries of a failed batch before its description goes to the dead-letter queue (alarmed). */
  maxRetryAttempts: 10,
  bisectOnError: true,
} as const;

/** Objects holding entries as inserted; objects holding evidence of a change to an entry. */
export const AUDIT_COPY_PREFIXES = { entries: 'entries/', tampering: 'tampering/' } as const;

export type StreamEventName = 'INSERT' | 'MODIFY' | 'REMOVE';

export interface AuditStreamEvent {
  eventName: StreamEventName;
  eventId: string;
  /** Epoch seconds, as the stream gives it. */
  approximateCreationTime?: number;
  keys: { pk: string; sk: string };
  /** The item after the change (absent on REMOVE). */
  newImage?: Record<string, unknown>;
  /** Set by DynamoDB on a TTL removal: `{type: 'Service', principalId: 'dynamodb.amazonaws.com'}`. */
  userIdentity?: { type?: string; principalId?: string };
}

/** One object to write exactly once. */
export interface AuditObject {
  key: string;
  body: string;
}

/** An entry's object key: derived from the item's key, so a second write of the same entry meets the first. */
export function entryObjectKey(keys: AuditStreamEvent['keys']): string {
  return `${AUDIT_COPY_PREFIXES.entries}${datePart(keys.sk)}/${keys.pk}/${keys.sk}.json`;
}

/** Where the evidence of one change to an entry goes (one object per stream event). */
export function tamperingObjectKey(event: Pick<AuditStreamEvent, 'keys' | 'eventName' | 'eventId'>): string {
  const { pk, sk } = event.keys;
  return `${AUDIT_COPY_PREFIXES.tampering}${datePart(sk)}/${pk}/${sk}/${event.eventName}-${event.eventId}.json`;
}

/** The entry as inserted, as the bytes written: the same item always gives the same bytes. */
export function entryObject(event: AuditStreamEvent): AuditObject {
  return { key: entryObjectKey(event.keys), body: canonicalJson(event.newImage ?? {}) };
}

/**
 * The evidence of a change to an entry: what happened, when, by whom when the stream says (TTL), and the
 * content that replaced it. `differs_from_copy` marks an insert whose content is not the copy already kept.
 */
export function tamperingObject(
  event: AuditStreamEvent,
  reason: 'changed' | 'differs_from_copy',
): AuditObject {
  const ttl =
    event.userIdentity?.type === 'Service' && event.userIdentity.principalId === 'dynamodb.amazonaws.com';
  const evidence = {
    event: event.eventName,
    event_id: event.eventId,
    reason,
    ...(event.approximateCreationTime !== undefined
      ? { event_time: new Date(event.approximateCreationTime * 1000).toISOString() }
      : {}),
    ...(event.eventName === 'REMOVE' ? { removed_by: ttl ? 'ttl' : 'request' } : {}),
    keys: event.keys,
    ...(event.newImage ? { new_image: event.newImage } : {}),
  };
  return { key: tamperingObjectKey(event), body: canonicalJson(evidence) };
}

/** JSON with object keys sorted at every level, so equal content is equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** `YYYY-MM-DD` of an audit sort key (`<epoch ms>#<id>`), for browsing by day; `undated` for any other key. */
function datePart(sk: string): string {
  const ms = /^(\d{1,16})#/.exec(sk)?.[1];
  const date = ms === undefined ? undefined : new Date(Number(ms));
  return date && !Number.isNaN(date.getTime()) ? date.toISOString().slice(0, 10) : 'undated';
}
