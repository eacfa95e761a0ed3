import { randomUUID } from 'node:crypto';
import { marshall } from '@aws-sdk/util-dynamodb';
import { keys, toItem, type RecordingStatus } from '../domain/recording.js';
import { TABLE_KEYS, TTL_ATTRIBUTE } from '../domain/table.js';
import type { AcceptResult, ConsumedNonce, RecordingRepository } from '../ingest/ports.js';
import type { AwsJsonClient } from './aws-json.js';

/** An item in DynamoDB's wire form (`{ "S": "..." }` per attribute), as a failed condition returns it. */
type WireItem = Record<string, Record<string, unknown>>;

/** A conditional put, in the document client's form (plain values). */
export interface ConditionalPut {
  TableName: string;
  Item: Record<string, unknown>;
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
  ReturnValuesOnConditionCheckFailure: 'ALL_OLD';
}

/**
 * The two writes a notification needs. Failures are the service's, in the SDK's shape: `name`
 * `ConditionalCheckFailedException` with the wire `Item`, or `TransactionCanceledException` with
 * `CancellationReasons` (each `{ Code, Item? }`). The SDK's exceptions and AwsServiceError both are.
 */
export interface AcceptStore {
  put(put: ConditionalPut): Promise<void>;
  transactWrite(puts: ConditionalPut[]): Promise<void>;
}

/**
 * The writes over the webhook's own client (aws-json.ts), marshalled as the document client does
 * (`removeUndefinedValues`). A transaction carries a `ClientRequestToken`, as the SDK adds one, so a
 * retry of an attempt that did commit succeeds instead of failing its own conditions.
 */
export function jsonAcceptStore(dynamo: AwsJsonClient): AcceptStore {
  const wire = (put: ConditionalPut) => ({
    ...put,
    Item: marshall(put.Item, { removeUndefinedValues: true }),
    ...(put.ExpressionAttributeValues
      ? { ExpressionAttributeValues: marshall(put.ExpressionAttributeValues) }
      : {}),
  });
  return {
    async put(put) {
      await dynamo.call('PutItem', wire(put));
    },
    async transactWrite(puts) {
      await dynamo.call('TransactWriteItems', {
        TransactItems: puts.map((put) => ({ Put: wire(put) })),
        ClientRequestToken: randomUUID(),
      });
    },
  };
}

/**
 * Records a notification in one transaction: a conditional put per nonce (remembering the recording it
 * was consumed for) and a put of the new record that only succeeds if the record does not exist yet.
 * Every condition returns the item it found, so a cancelled transaction says exactly why:
 * - a nonce consumed for another recording: `replayed`, nothing written;
 * - the record exists (a duplicate callback): its status is known, and the nonces not seen before
 *   are consumed in a second transaction, so an existing record is never touched at all;
 * - every nonce was consumed for this recording already: a retry of the same delivery, no write.
 */
export async function acceptNotificationRecord(
  store: AcceptStore,
  tableName: string,
  { record, nonces }: Parameters<RecordingRepository['accept']>[0],
): Promise<AcceptResult> {
  const recordingId = record.recording_id;
  const create: ConditionalPut = {
    TableName: tableName,
    Item: toItem(record),
    ConditionExpression: 'attribute_not_exists(#pk)',
    ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  };
  const consume = (nonce: ConsumedNonce, alsoSameRecording: boolean): ConditionalPut => ({
    TableName: tableName,
    Item: { ...keys.nonce(nonce.value), recording_id: recordingId, [TTL_ATTRIBUTE]: nonce.expiresAtSec },
    ConditionExpression: alsoSameRecording
      ? 'attribute_not_exists(#pk) OR recording_id = :id'
      : 'attribute_not_exists(#pk)',
    ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
    ...(alsoSameRecording ? { ExpressionAttributeValues: { ':id': recordingId } } : {}),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  });

  if (nonces.length === 0) {
    try {
      await store.put(create);
      return { kind: 'recorded', status: 'pending' };
    } catch (error) {
      if (!isServiceError(error, 'ConditionalCheckFailedException')) throw error;
      const status = stringAttribute((error as { Item?: WireItem }).Item, 'status');
      return { kind: 'known', status: (status ?? 'pending') as RecordingStatus, retry: false };
    }
  }
  let existing: WireItem | undefined;
  let fresh: readonly ConsumedNonce[];
  try {
    await store.transactWrite([...nonces.map((n) => consume(n, false)), create]);
    return { kind: 'recorded', status: 'pending' };
  } catch (error) {
    const failures = conditionFailures(error);
    if (!failures) throw error;
    const seen = failures.slice(0, nonces.length);
    if (seen.some((old) => old && stringAttribute(old, 'recording_id') !== recordingId))
      return { kind: 'replayed' };
    existing = failures[nonces.length];
    fresh = nonces.filter((_, i) => !seen[i]);
    if (!existing && fresh.length === nonces.length) throw error; // cancelled for another reason
  }

  // The record exists (or, rarely, only its nonces do): consume what is new, create what is missing.
  const items = [...fresh.map((n) => consume(n, true)), ...(existing ? [] : [create])];
  if (items.length > 0) {
    try {
      await store.transactWrite(items);
    } catch (error) {
      const failures = conditionFailures(error);
      if (failures?.slice(0, fresh.length).some(Boolean)) return { kind: 'replayed' };
      throw error; // a race with another writer of this very recording: the caller answers 5xx, Vobiz retries
    }
  }
  if (!existing) return { kind: 'recorded', status: 'pending' };
  return {
    kind: 'known',
    status: (stringAttribute(existing, 'status') ?? 'pending') as RecordingStatus,
    retry: fresh.length === 0,
  };
}

function isServiceError(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

function stringAttribute(item: WireItem | undefined, name: string): string | undefined {
  const value = item?.[name]?.S;
  return typeof value === 'string' ? value : undefined;
}

/**
 * For a cancelled transaction: per item, the item found when its condition failed (`{}` when DynamoDB
 * returned none), or undefined when that item's condition held; undefined for any other error.
 */
function conditionFailures(error: unknown): (WireItem | undefined)[] | undefined {
  if (!isServiceError(error, 'TransactionCanceledException')) return undefined;
  const reasons = (error as { CancellationReasons?: unknown }).CancellationReasons;
  if (!Array.isArray(reasons)) return undefined;
  return reasons.map((reason: { Code?: unknown; Item?: WireItem } | null) =>
    reason?.Code === 'ConditionalCheckFailed' ? (reason.Item ?? {}) : undefined,
  );
}
