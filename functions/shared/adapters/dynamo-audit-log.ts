import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { auditItem, type AuditEntry } from '../domain/audit.js';
import { TABLE_KEYS } from '../domain/table.js';
import type { AuditWriter } from '../ports/recording-queries.js';

/**
 * One PutItem per entry, only if its key is new. The lookup function writes who-listened entries with
 * it; its role may put AUDIT# items and nothing else (infra/data-store.ts).
 */
export class DynamoAuditLog implements AuditWriter {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: auditItem(entry),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': TABLE_KEYS.partitionKey },
        }),
      );
    } catch (error) {
      // The same entry is there already (a retried put whose first answer was lost): recorded.
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }
}
