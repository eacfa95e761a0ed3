import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type PutCommandInput,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { SYSTEM_ACTOR, type Actor } from '../domain/actor.js';
import { auditItem, type AuditEntry } from '../domain/audit.js';
import {
  AUDIO_FIELDS,
  erasingRecord,
  erasureVobizDueKeys,
  expiryKeys,
  fromItem,
  heldIndexKey,
  indexAttributes,
  keys,
  statusIndexKey,
  timeSortKey,
  toItem,
  vobizDueKeys,
  type ErasureIntent,
  type RecordingRecord,
} from '../domain/recording.js';
import { DUE_SHARDS, EXPIRY_SHARDS, INDEXES, TABLE_KEYS, TIME_SHARDS } from '../domain/table.js';
import { AuditEntryExistsError, type AuditLog, type LifecycleRecords } from '../lifecycle/ports.js';
import { statusIndexPages } from './dynamo-status-pages.js';

type Item = Record<string, unknown>;

const NAMES = {
  '#status': 'status',
  '#statusPk': INDEXES.byStatus.partitionKey,
  '#duePk': INDEXES.due.partitionKey,
  '#dueSk': INDEXES.due.sortKey,
  '#expPk': INDEXES.expiry.partitionKey,
  '#expSk': INDEXES.expiry.sortKey,
  '#holdPk': INDEXES.held.partitionKey,
} as const;

/**
 * The lifecycle's access to the recordings table: the `VDEL#` partitions of the `due` index, the
 * `expiry` index, conditional state changes, and the audit trail (put-only). No Scan anywhere. It counts
 * the items DynamoDB read for it (`itemsRead`), which the scheduled run reports and the bench measures.
 */
export class DynamoLifecycleRepository implements LifecycleRecords, AuditLog {
  itemsRead = 0;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(recordingId: string): Promise<RecordingRecord | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: keys.recording(recordingId), ConsistentRead: true }),
    );
    if (!result.Item) return undefined;
    this.itemsRead++;
    return fromItem(result.Item);
  }

  findVobizDue(cutoffMs: number, perShard: number): Promise<RecordingRecord[]> {
    return this.readShards(
      INDEXES.due,
      Array.from({ length: DUE_SHARDS }, (_, shard) => keys.vobizDuePartition(shard)),
      cutoffMs,
      perShard,
    );
  }

  findErasureVobizDue(nowMs: number, perShard: number): Promise<RecordingRecord[]> {
    return this.readShards(
      INDEXES.due,
      Array.from({ length: DUE_SHARDS }, (_, shard) => keys.erasureVobizPartition(shard)),
      nowMs,
      perShard,
    );
  }

  findExpiryDue(cutoffMs: number, perShard: number): Promise<RecordingRecord[]> {
    return this.readShards(
      INDEXES.expiry,
      Array.from({ length: EXPIRY_SHARDS }, (_, shard) => keys.expiryPartition(shard)),
      cutoffMs,
      perShard,
    );
  }

  async findErasing(beforeMs: number, limit: number): Promise<RecordingRecord[]> {
    const found: RecordingRecord[] = [];
    for (let shard = 0; shard < TIME_SHARDS && found.length < limit; shard++) {
      const result = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEXES.byStatus.name,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: 'erasure_started_at < :before',
          ExpressionAttributeNames: { '#pk': INDEXES.byStatus.partitionKey },
          ExpressionAttributeValues: {
            ':pk': keys.statusPartition('erasing', shard),
            ':before': new Date(beforeMs).toISOString(),
          },
          Limit: limit,
        }),
      );
      this.itemsRead += result.ScannedCount ?? 0;
      found.push(...(result.Items ?? []).map(fromItem));
    }
    return found.slice(0, limit);
  }

  markVobizDeleted(
    recordingId: string,
    input: { at: string; versionId?: string },
    audit: AuditEntry,
  ): Promise<boolean> {
    return this.updateAudited(audit, {
      Key: keys.recording(recordingId),
      UpdateExpression:
        'SET vobiz_deleted_at = :at, updated_at = :at' +
        (input.versionId ? ', s3_version_id = if_not_exists(s3_version_id, :version)' : '') +
        ' REMOVE #duePk, #dueSk, vobiz_delete_attempts, vobiz_delete_error, vobiz_delete_blocked',
      // A tombstone may learn that its recording is gone at Vobiz too; a pending record has no audio.
      ConditionExpression: 'attribute_exists(#pk) AND #status IN (:stored, :expiring, :expired, :erased)',
      ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey, ...pick('#status', '#duePk', '#dueSk') },
      ExpressionAttributeValues: {
        ':at': input.at,
        ...(input.versionId ? { ':version': input.versionId } : {}),
        ':stored': 'stored',
        ':expiring': 'expiring',
        ':expired': 'expired',
        ':erased': 'erased',
      },
    });
  }

  async deferVobizDelete(
    recordingId: string,
    input: { attempts: number; error: string; eligibleAtMs: number },
  ): Promise<void> {
    await this.update({
      Key: keys.recording(recordingId),
      // Only the sort key moves: the record stays in its partition (VDEL#, or EVDEL# for a tombstone).
      UpdateExpression: 'SET vobiz_delete_attempts = :n, vobiz_delete_error = :error, #dueSk = :sk',
      ConditionExpression: '#status IN (:stored, :expired, :erased) AND attribute_exists(#duePk)',
      ExpressionAttributeNames: { '#status': 'status', ...pick('#duePk', '#dueSk') },
      ExpressionAttributeValues: {
        ':n': input.attempts,
        ':error': input.error.slice(0, 500),
        ':sk': vobizDueKeys(recordingId, input.eligibleAtMs)[INDEXES.due.sortKey],
        ':stored': 'stored',
        ':expired': 'expired',
        ':erased': 'erased',
      },
    });
  }

  blockVobizDelete(recordingId: string, reason: string, audit: AuditEntry): Promise<boolean> {
    return this.updateAudited(audit, {
      Key: keys.recording(recordingId),
      UpdateExpression: 'SET vobiz_delete_blocked = :reason REMOVE #duePk, #dueSk',
      ConditionExpression:
        '#status IN (:stored, :expired, :erased) AND attribute_not_exists(vobiz_deleted_at)',
      ExpressionAttributeNames: { '#status': 'status', ...pick('#duePk', '#dueSk') },
      ExpressionAttributeValues: {
        ':reason': reason.slice(0, 500),
        ':stored': 'stored',
        ':expired': 'expired',
        ':erased': 'erased',
      },
    });
  }

  async beginExpiry(recordingId: string, at: string): Promise<RecordingRecord | undefined> {
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.recording(recordingId),
          UpdateExpression:
            'SET #status = :expiring, #statusPk = :statusPk, expiry_started_at = if_not_exists(expiry_started_at, :at), ' +
            'updated_at = :at REMOVE #duePk, #dueSk',
          ConditionExpression: `#status IN (:stored, :expiring) AND ${NOT_HELD}`,
          ExpressionAttributeNames: pick('#status', '#statusPk', '#duePk', '#dueSk'),
          ExpressionAttributeValues: {
            ':expiring': 'expiring',
            ':stored': 'stored',
            ':statusPk': statusIndexKey(recordingId, 'expiring'),
            ':at': at,
            ':true': true,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(result.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  finishExpiry(
    recordingId: string,
    input: { at: string; vobizDueAtMs?: number },
    audit: AuditEntry,
  ): Promise<boolean> {
    // Still at Vobiz: due for that delete (retention implies it), whatever an earlier verification said.
    const due = input.vobizDueAtMs === undefined ? undefined : vobizDueKeys(recordingId, input.vobizDueAtMs);
    return this.updateAudited(audit, {
      Key: keys.recording(recordingId),
      UpdateExpression:
        'SET #status = :expired, #statusPk = :statusPk, expired_at = :at, updated_at = :at' +
        (due ? ', #duePk = :duePk, #dueSk = :dueSk' : '') +
        ` REMOVE ${AUDIO_FIELDS.join(', ')}, expiry_started_at, expiry_attempts, expiry_error, #expPk, #expSk` +
        (due ? ', vobiz_delete_blocked' : ''),
      ConditionExpression: '#status = :expiring',
      ExpressionAttributeNames: {
        ...pick('#status', '#statusPk', '#expPk', '#expSk'),
        ...(due ? pick('#duePk', '#dueSk') : {}),
      },
      ExpressionAttributeValues: {
        ':expired': 'expired',
        ':expiring': 'expiring',
        ':statusPk': statusIndexKey(recordingId, 'expired'),
        ':at': input.at,
        ...(due ? { ':duePk': due[INDEXES.due.partitionKey], ':dueSk': due[INDEXES.due.sortKey] } : {}),
      },
    });
  }

  async deferExpiry(
    recordingId: string,
    input: { attempts: number; error: string; eligibleAtMs: number },
  ): Promise<void> {
    await this.update({
      Key: keys.recording(recordingId),
      UpdateExpression: 'SET expiry_attempts = :n, expiry_error = :error, #expSk = :sk',
      ConditionExpression: 'attribute_exists(#expPk)',
      ExpressionAttributeNames: pick('#expPk', '#expSk'),
      ExpressionAttributeValues: {
        ':n': input.attempts,
        ':error': input.error.slice(0, 500),
        ':sk': expiryKeys(recordingId, input.eligibleAtMs)[INDEXES.expiry.sortKey],
      },
    });
  }

  revertExpiryHeld(recordingId: string, at: string, audit: AuditEntry): Promise<boolean> {
    return this.updateAudited(audit, {
      Key: keys.recording(recordingId),
      UpdateExpression:
        'SET #status = :stored, #statusPk = :statusPk, legal_hold = :true, legal_hold_at = :at, legal_hold_by = :by, ' +
        'legal_hold_reason = :why, #holdPk = :holdPk, updated_at = :at REMOVE expiry_started_at, expiry_attempts, expiry_error, #expPk, #expSk',
      ConditionExpression: '#status = :expiring',
      ExpressionAttributeNames: pick('#status', '#statusPk', '#expPk', '#expSk', '#holdPk'),
      ExpressionAttributeValues: {
        ':stored': 'stored',
        ':expiring': 'expiring',
        ':statusPk': statusIndexKey(recordingId, 'stored'),
        ':holdPk': heldIndexKey(recordingId),
        ':true': true,
        ':at': at,
        ':by': SYSTEM_ACTOR,
        ':why': OUTSIDE_HOLD,
      },
    });
  }

  flagHold(
    recordingId: string,
    input: { at: string; actor: Actor; reason?: string; versionId: string },
    audit: AuditEntry,
  ): Promise<boolean> {
    return this.updateAudited(audit, {
      Key: keys.recording(recordingId),
      UpdateExpression:
        'SET legal_hold = :true, legal_hold_at = :at, legal_hold_by = :actor, #holdPk = :holdPk, ' +
        's3_version_id = if_not_exists(s3_version_id, :version), ' +
        `updated_at = :at${input.reason ? ', legal_hold_reason = :reason' : ''} REMOVE #duePk, #dueSk, #expPk, #expSk`,
      ConditionExpression: `#status = :stored AND ${NOT_HELD}`,
      ExpressionAttributeNames: pick('#status', '#duePk', '#dueSk', '#expPk', '#expSk', '#holdPk'),
      ExpressionAttributeValues: {
        ':true': true,
        ':holdPk': heldIndexKey(recordingId),
        ':at': input.at,
        ':actor': input.actor,
        ':version': input.versionId,
        ':stored': 'stored',
        ...(input.reason ? { ':reason': input.reason } : {}),
      },
    });
  }

  clearHold(record: RecordingRecord, at: string, audit: AuditEntry): Promise<boolean> {
    // The index keys the record has once it is no longer held, derived by the record module.
    const released = indexAttributes({
      ...record,
      legal_hold: undefined,
    });
    const indexKeys = [
      INDEXES.due.partitionKey,
      INDEXES.due.sortKey,
      INDEXES.expiry.partitionKey,
      INDEXES.expiry.sortKey,
    ].filter((name) => released[name] !== undefined);
    const names = Object.fromEntries(indexKeys.map((name, i) => [`#k${i}`, name]));
    const values = Object.fromEntries(indexKeys.map((name, i) => [`:k${i}`, released[name]]));
    const sets = indexKeys.map((_, i) => `#k${i} = :k${i}`);
    return this.updateAudited(audit, {
      Key: keys.recording(record.recording_id),
      UpdateExpression:
        `SET updated_at = :now${sets.length > 0 ? `, ${sets.join(', ')}` : ''} ` +
        'REMOVE legal_hold, legal_hold_at, legal_hold_by, legal_hold_reason, #holdPk',
      ConditionExpression: 'legal_hold = :true AND #status = :stored',
      ExpressionAttributeNames: { '#status': 'status', ...pick('#holdPk'), ...names },
      ExpressionAttributeValues: { ':true': true, ':stored': 'stored', ':now': at, ...values },
    });
  }

  async beginErasure(
    recordingId: string,
    previous: RecordingRecord | undefined,
    intent: ErasureIntent,
    leaseAfterlifeMs: number,
  ): Promise<boolean> {
    if (previous?.status === 'erasing') return true;
    // A Put, not an Update: whatever the record held beyond what an erasure keeps is gone at once.
    const item = toItem(erasingRecord(recordingId, previous, intent));
    if (!previous) {
      // Nothing known yet: the `erasing` record itself keeps a callback or the backfill from archiving it.
      return conditionHeld(
        this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
          }),
        ),
      );
    }
    return conditionHeld(
      this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          // Not held, and no worker's lease ended too recently for its requests to have ended too.
          ConditionExpression:
            `#status = :previous AND ${NOT_HELD} ` +
            'AND (attribute_not_exists(lease_until_ms) OR lease_until_ms < :leaseCutoff)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':previous': previous.status,
            ':true': true,
            ':leaseCutoff': Date.parse(intent.at) - leaseAfterlifeMs,
          },
        }),
      ),
    );
  }

  async abandonErasureHeld(record: RecordingRecord, at: string): Promise<void> {
    const previous = record.erasure_previous_status ?? 'stored';
    await this.update({
      Key: keys.recording(record.recording_id),
      UpdateExpression:
        'SET #status = :previous, #statusPk = :statusPk, legal_hold = :true, legal_hold_at = :now, ' +
        'legal_hold_by = :by, legal_hold_reason = :why, #holdPk = :holdPk, updated_at = :now REMOVE erasure_id, erasure_started_at, ' +
        'erasure_reason, erased_by, erasure_also_vobiz, erasure_previous_status, erasure_keys',
      ConditionExpression: '#status = :erasing AND erasure_id = :id',
      ExpressionAttributeNames: pick('#status', '#statusPk', '#holdPk'),
      ExpressionAttributeValues: {
        ':previous': previous,
        ':holdPk': heldIndexKey(record.recording_id),
        ':statusPk': statusIndexKey(record.recording_id, previous),
        ':true': true,
        ':now': at,
        ':by': SYSTEM_ACTOR,
        ':why': OUTSIDE_HOLD,
        ':erasing': 'erasing',
        ':id': record.erasure_id ?? '',
      },
    });
  }

  replaceWithTombstone(tombstone: RecordingRecord, audit: AuditEntry): Promise<boolean> {
    return this.transact(audit, {
      Put: {
        TableName: this.tableName,
        Item: toItem(tombstone),
        ConditionExpression: '#status = :erasing AND erasure_id = :id',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':erasing': 'erasing', ':id': tombstone.erasure_id },
      },
    });
  }

  oweVobizDelete(recordingId: string, at: string): Promise<boolean> {
    const due = erasureVobizDueKeys(recordingId, Date.parse(at));
    return this.update({
      Key: keys.recording(recordingId),
      UpdateExpression: 'SET erasure_also_vobiz = :true, #duePk = :duePk, #dueSk = :dueSk, updated_at = :at',
      ConditionExpression:
        '#status = :erased AND attribute_not_exists(vobiz_deleted_at) AND attribute_not_exists(vobiz_delete_blocked)',
      ExpressionAttributeNames: pick('#status', '#duePk', '#dueSk'),
      ExpressionAttributeValues: {
        ':true': true,
        ':duePk': due[INDEXES.due.partitionKey],
        ':dueSk': due[INDEXES.due.sortKey],
        ':at': at,
        ':erased': 'erased',
      },
    });
  }

  /** Put-only: an entry with the same key is never overwritten. */
  async record(entry: AuditEntry): Promise<'written' | 'exists'> {
    const written = await conditionHeld(this.documents.send(new PutCommand(this.auditPut(entry))));
    return written ? 'written' : 'exists';
  }

  /**
   * Stored records listed at or before `cutoffMs` (by `add_time`) not yet deleted at Vobiz, page by page
   * over the `by-status` shards: how the history command finds recordings archived before the lifecycle
   * indexed them. Its cost grows with the history it covers; it is a one-off, not a scheduled sweep.
   */
  async *storedUntil(cutoffMs: number, pageSize = 100): AsyncIterable<RecordingRecord[]> {
    for await (const page of statusIndexPages(this.documents, this.tableName, 'stored', {
      sortKeyCondition: '#sk <= :high',
      FilterExpression: 'attribute_not_exists(vobiz_deleted_at)',
      ExpressionAttributeValues: { ':high': timeSortKey(cutoffMs, '~') },
      ScanIndexForward: true,
      Limit: pageSize,
    })) {
      this.itemsRead += page.scanned;
      if (page.items.length > 0) yield page.items.map(fromItem);
    }
  }

  /**
   * Records archived before the lifecycle existed carry no lifecycle index keys, so neither retention nor
   * the scheduled delete at Vobiz would ever see them, and records expired before retention implied the
   * delete at Vobiz are not due for it: this adds the keys the record module derives for them
   * (conditionally: same status, not held, not indexed meanwhile), one `by-status` page at a time. A
   * one-off after upgrading; its cost is one pass over the stored and expired records.
   */
  async *indexExisting(options: { dryRun?: boolean; pageSize?: number } = {}): AsyncIterable<{
    examined: number;
    indexed: number;
  }> {
    const plans = [
      { status: 'stored', missing: 'attribute_not_exists(#expPk)', names: pick('#expPk') },
      {
        status: 'expired',
        missing: 'attribute_not_exists(#duePk) AND attribute_not_exists(vobiz_deleted_at)',
        names: pick('#duePk'),
      },
    ] as const;
    for (const plan of plans) {
      for await (const page of statusIndexPages(this.documents, this.tableName, plan.status, {
        FilterExpression: `${plan.missing} AND ${NOT_HELD}`,
        ExpressionAttributeNames: plan.names,
        ExpressionAttributeValues: { ':true': true },
        Limit: options.pageSize ?? 200,
      })) {
        this.itemsRead += page.scanned;
        let indexed = 0;
        for (const item of page.items) {
          const record = fromItem(item);
          const derived = indexAttributes(record);
          const names = [
            INDEXES.due.partitionKey,
            INDEXES.due.sortKey,
            INDEXES.expiry.partitionKey,
            INDEXES.expiry.sortKey,
          ].filter((name) => derived[name] !== undefined);
          if (names.length === 0) continue;
          if (!options.dryRun) {
            const done = await this.update({
              Key: keys.recording(record.recording_id),
              UpdateExpression: `SET ${names.map((_, i) => `#k${i} = :k${i}`).join(', ')}`,
              ConditionExpression: `#status = :status AND ${plan.missing} AND ${NOT_HELD}`,
              ExpressionAttributeNames: {
                ...Object.fromEntries(names.map((name, i) => [`#k${i}`, name])),
                ...pick('#status'),
                ...plan.names,
              },
              ExpressionAttributeValues: {
                ...Object.fromEntries(names.map((name, i) => [`:k${i}`, derived[name]])),
                ':status': plan.status,
                ':true': true,
              },
            });
            if (!done) continue;
          }
          indexed++;
        }
        yield { examined: page.scanned, indexed };
      }
    }
  }

  /** Ids of every record of a call, or of a phone number in either direction (digits only). */
  async *recordingIdsBy(filter: { callUuid: string } | { digits: string }): AsyncIterable<string[]> {
    const plans: { index: (typeof INDEXES)[keyof typeof INDEXES]; partition: string }[] =
      'callUuid' in filter
        ? [{ index: INDEXES.byCall, partition: keys.callPartition(filter.callUuid) }]
        : [
            { index: INDEXES.byFrom, partition: keys.fromPartition(filter.digits) },
            { index: INDEXES.byTo, partition: keys.toPartition(filter.digits) },
          ];
    for (const plan of plans) {
      let startKey: Record<string, unknown> | undefined;
      do {
        const input: QueryCommandInput = {
          TableName: this.tableName,
          IndexName: plan.index.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': plan.index.partitionKey },
          ExpressionAttributeValues: { ':pk': plan.partition },
          ProjectionExpression: 'recording_id',
          ExclusiveStartKey: startKey,
        };
        const result = await this.documents.send(new QueryCommand(input));
        this.itemsRead += result.ScannedCount ?? 0;
        const ids = (result.Items ?? []).map((item) => String(item.recording_id));
        if (ids.length > 0) yield ids;
        startKey = result.LastEvaluatedKey;
      } while (startKey);
    }
  }

  private async readShards(
    index: { name: string; partitionKey: string; sortKey: string },
    partitions: string[],
    cutoffMs: number,
    perShard: number,
  ): Promise<RecordingRecord[]> {
    const reads = await Promise.all(
      partitions.map(async (partition) => {
        const result = await this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index.name,
            KeyConditionExpression: '#pk = :pk AND #sk <= :high',
            ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
            ExpressionAttributeValues: { ':pk': partition, ':high': timeSortKey(cutoffMs, '~') },
            ScanIndexForward: true,
            Limit: perShard,
          }),
        );
        this.itemsRead += result.ScannedCount ?? 0;
        return (result.Items ?? []).map((item: Item) => ({ item, sk: String(item[index.sortKey]) }));
      }),
    );
    return reads
      .flat()
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
      .map(({ item }) => fromItem(item));
  }

  private updateAudited(audit: AuditEntry, input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    return this.transact(audit, { Update: { TableName: this.tableName, ...input } });
  }

  /**
   * The record's change and its audit entry in one transaction: both or neither. False when the record's
   * condition failed. An entry whose key is taken cancels the whole transaction, the change included:
   * that is AuditEntryExistsError, never success.
   */
  private async transact(
    audit: AuditEntry,
    change: { Update: UpdateCommandInput } | { Put: PutCommandInput },
  ): Promise<boolean> {
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [change as never, { Put: this.auditPut(audit) }],
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [record, entry] = (error.CancellationReasons ?? []).map((r) => r.Code);
      if (record === 'ConditionalCheckFailed') return false;
      if (entry === 'ConditionalCheckFailed') throw new AuditEntryExistsError(audit);
      throw error;
    }
  }

  /** A conditional update: false when its condition did not hold. */
  private update(input: Omit<UpdateCommandInput, 'TableName'>): Promise<boolean> {
    return conditionHeld(this.documents.send(new UpdateCommand({ TableName: this.tableName, ...input })));
  }

  /** An audit entry's put: only ever new, never over an existing entry. */
  private auditPut(entry: AuditEntry): PutCommandInput {
    return {
      TableName: this.tableName,
      Item: auditItem(entry),
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
    };
  }
}

/** Whether a conditional write went through: false when its condition did not hold. */
async function conditionHeld(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/** Who holds a recording that S3 Object Lock protected without the archive knowing. */
const OUTSIDE_HOLD = 'S3 Object Lock (a legal hold placed outside the archive)';

const NOT_HELD = '(attribute_not_exists(legal_hold) OR legal_hold <> :true)';

function pick<K extends keyof typeof NAMES>(...names: K[]): Pick<typeof NAMES, K> {
  return Object.fromEntries(names.map((name) => [name, NAMES[name]])) as Pick<typeof NAMES, K>;
}
