import { createDocumentClient, createS3Client, createSecretsClient } from '../shared/adapters/aws-clients.js';
import { DynamoAuditLog } from '../shared/adapters/dynamo-audit-log.js';
import { DynamoAuditQueries } from '../shared/adapters/dynamo-audit-queries.js';
import { DynamoRecordingQueries } from '../shared/adapters/dynamo-recording-queries.js';
import { S3AudioLinks } from '../shared/adapters/s3-audio-links.js';
import { readSecretString } from '../shared/adapters/secret-string.js';
import { createObservability } from '../shared/framework/observability.js';
import { createLookupHandler } from './app.js';
import { checkKey, loadLookupConfig } from './config.js';

const { logger } = createObservability('lookup');
// Read at cold start: a misconfigured function fails here, before serving anything.
const config = loadLookupConfig(process.env);
const cursorKey = config.cursorKey;
const documents = createDocumentClient();

export const handler = createLookupHandler({
  logger,
  recordings: new DynamoRecordingQueries(documents, config.tableName),
  audit: new DynamoAuditQueries(documents, config.tableName),
  audio: new S3AudioLinks(createS3Client(), config.bucketName),
  auditLog: new DynamoAuditLog(documents, config.tableName),
  cursorKey: async () =>
    'secretArn' in cursorKey
      ? checkKey(
          await readSecretString(createSecretsClient(), cursorKey.secretArn, 'CURSOR_SECRET_ARN'),
          'CURSOR_SECRET_ARN',
        )
      : cursorKey.key,
  presignTtlSeconds: config.presignTtlSeconds,
});
