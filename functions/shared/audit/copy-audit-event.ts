import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import {
  entryObject,
  tamperingObject,
  type AuditObject,
  type AuditStreamEvent,
  type StreamEventName,
} from '../domain/audit-copy.js';
import { TABLE_KEYS } from '../domain/table.js';

/** A store where an object, once written, is never replaced (S3 `If-None-Match: *` on a locked bucket). */
export interface WriteOnceStore {
  /** `written`; `same`: that key already holds these bytes (a redelivery); `differs`: it holds others. */
  writeOnce(object: AuditObject): Promise<'written' | 'same' | 'differs'>;
}

export type AuditCopyOutcome =
  /** The entry is in the bucket now (or was already, with the same content). */
  | { outcome: 'copied' | 'already_copied'; key: string }
  /** A change to an entry after its insert, or an insert that differs from the copy: evidence kept at `key`. */
  | { outcome: 'tampering'; key: string; event: StreamEventName };

/** The audit stream event in a stream record; undefined for a record that is not about an audit item. */
export function auditEventOf(record: DynamoDBRecord): AuditStreamEvent | undefined {
  const change = record.dynamodb;
  const keys = change?.Keys ? unmarshall(change.Keys as Record<string, AttributeValue>) : {};
  const pk = keys[TABLE_KEYS.partitionKey] as unknown;
  const sk = keys[TABLE_KEYS.sortKey] as unknown;
  const eventName = record.eventName;
  if (typeof pk !== 'string' || typeof sk !== 'string' || !eventName || !record.eventID) return undefined;
  return {
    eventName,
    eventId: record.eventID,
    approximateCreationTime: change?.ApproximateCreationDateTime,
    keys: { pk, sk },
    ...(change?.NewImage ? { newImage: unmarshall(change.NewImage as Record<string, AttributeValue>) } : {}),
    ...(record.userIdentity ? { userIdentity: record.userIdentity as AuditStreamEvent['userIdentity'] } : {}),
  };
}

/**
 * Copies one audit stream event: an insert becomes the entry's object (written once); anything else,
 * or an insert that meets a different copy, becomes evidence of tampering. Safe to repeat: a redelivered
 * event finds its own bytes and counts as copied.
 */
export async function copyAuditEvent(
  event: AuditStreamEvent,
  store: WriteOnceStore,
): Promise<AuditCopyOutcome> {
  if (event.eventName === 'INSERT') {
    const entry = entryObject(event);
    const result = await store.writeOnce(entry);
    if (result !== 'differs')
      return { outcome: result === 'written' ? 'copied' : 'already_copied', key: entry.key };
  }
  const evidence = tamperingObject(event, event.eventName === 'INSERT' ? 'differs_from_copy' : 'changed');
  await store.writeOnce(evidence);
  return { outcome: 'tampering', key: evidence.key, event: event.eventName };
}
