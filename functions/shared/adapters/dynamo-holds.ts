import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { heldIndexKey, keys } from '../domain/recording.js';
import { HOLD_SHARDS, INDEXES } from '../domain/table.js';
import { statusIndexPages } from './dynamo-status-pages.js';

/**
 * The records on legal hold, through the sparse `held` index: "is anything held?" costs one small query
 * per shard, however large the archive. Holds placed before the index existed are added to it by
 * `indexUnindexed` (run by `vobiz-archive lifecycle-index`).
 */
export class DynamoHolds {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Up to `limit` held recording ids, and whether there are more. */
  async held(limit: number): Promise<{ ids: string[]; more: boolean }> {
    const pages = await Promise.all(
      Array.from({ length: HOLD_SHARDS }, (_, shard) =>
        this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEXES.held.name,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': INDEXES.held.partitionKey, '#id': 'recording_id' },
            ExpressionAttributeValues: { ':pk': keys.heldPartition(shard) },
            ProjectionExpression: '#id',
            Limit: limit,
          }),
        ),
      ),
    );
    const ids = pages.flatMap((page) => (page.Items ?? []).map((item) => String(item.recording_id)));
    return {
      ids: ids.slice(0, limit),
      more: ids.length > limit || pages.some((page) => page.LastEvaluatedKey !== undefined),
    };
  }

  /** Puts the held stored records that lack it into the `held` index; one pass over the stored records. */
  async *indexUnindexed(options: { dryRun?: boolean; pageSize?: number } = {}): AsyncIterable<{
    examined: number;
    indexed: number;
  }> {
    for await (const page of statusIndexPages(this.documents, this.tableName, 'stored', {
      FilterExpression: 'legal_hold = :true AND attribute_not_exists(#holdPk)',
      ExpressionAttributeNames: { '#holdPk': INDEXES.held.partitionKey, '#id': 'recording_id' },
      ExpressionAttributeValues: { ':true': true },
      ProjectionExpression: '#id',
      Limit: options.pageSize ?? 200,
    })) {
      let indexed = 0;
      for (const item of page.items) {
        const id = String(item.recording_id);
        if (!options.dryRun && !(await this.addToIndex(id))) continue;
        indexed++;
      }
      yield { examined: page.scanned, indexed };
    }
  }

  private async addToIndex(recordingId: string): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.recording(recordingId),
          UpdateExpression: 'SET #holdPk = :holdPk',
          // Released meanwhile: leave it out.
          ConditionExpression: 'legal_hold = :true',
          ExpressionAttributeNames: { '#holdPk': INDEXES.held.partitionKey },
          ExpressionAttributeValues: { ':holdPk': heldIndexKey(recordingId), ':true': true },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
