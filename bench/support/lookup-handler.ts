import { S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import { createLookupHandler } from '../../functions/lookup/app.js';
import type { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { DynamoAuditLog } from '../../functions/shared/adapters/dynamo-audit-log.js';
import { DynamoRecordingQueries } from '../../functions/shared/adapters/dynamo-recording-queries.js';
import { S3AudioLinks } from '../../functions/shared/adapters/s3-audio-links.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';

/** The real lookup handler over a bench table, silent, with a fixed cursor key. */
export function benchLookupHandler(documents: ReturnType<typeof createDocumentClient>, tableName: string) {
  return createLookupHandler({
    logger: new Logger({ logLevel: 'SILENT' }),
    recordings: new DynamoRecordingQueries(documents, tableName),
    // Presigning is local computation; the endpoint is never called.
    audio: new S3AudioLinks(
      new S3Client({
        endpoint: 'http://127.0.0.1:9',
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        forcePathStyle: true,
      }),
      'bench-bucket',
    ),
    auditLog: new DynamoAuditLog(documents, tableName),
    cursorKey: () => Promise.resolve('bench-cursor-signing-key-0123456789abcdef'),
    presignTtlSeconds: 900,
  });
}
