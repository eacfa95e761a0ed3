import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLifecycleApiHandler } from '../../functions/lifecycle-api/app.js';
import { createLookupHandler } from '../../functions/lookup/app.js';
import { createRetryApiHandler } from '../../functions/retry-api/app.js';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { DynamoAuditLog } from '../../functions/shared/adapters/dynamo-audit-log.js';
import { DynamoAuditQueries } from '../../functions/shared/adapters/dynamo-audit-queries.js';
import { DynamoLifecycleRepository } from '../../functions/shared/adapters/dynamo-lifecycle.js';
import { DynamoRecordingQueries } from '../../functions/shared/adapters/dynamo-recording-queries.js';
import { DynamoRecoveryRepository } from '../../functions/shared/adapters/dynamo-recovery.js';
import { S3AudioLinks } from '../../functions/shared/adapters/s3-audio-links.js';
import { auditId, auditRecordingPartition, type AuditEntry } from '../../functions/shared/domain/audit.js';
import { keys, toItem } from '../../functions/shared/domain/recording.js';
import { INDEXES } from '../../functions/shared/domain/table.js';
import { makeRetryFailed } from '../../functions/shared/recovery/retry-failed.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { httpEvent, lambdaContext, type HttpEventInput } from '../support/http-events.js';
import { archive, auditEntries, buildTestLifecycle } from '../support/lifecycle.js';
import { FakeClock, type Emulators } from '../support/redrive.js';
import { storedRecording } from '../support/recording-dataset.js';
import { expectDocumentedResult } from '../support/openapi.js';

/**
 * The audit trail's new writers and readers against DynamoDB Local (and s3rver for the audio links):
 * who listened (the lookup), the retry route, GET /audit?recording_id through the by-call index, and
 * the reason a legal hold is released with.
 */
let env: Emulators;
const CURSOR_KEY = 'audit-trail-test-key-0123456789abcdefghijkl';
const ADMIN = 'arn:aws:sts::123456789012:assumed-role/console-admins/CognitoIdentityCredentials';
const REVIEWER = 'arn:aws:sts::123456789012:assumed-role/console-reviewers/CognitoIdentityCredentials';
/** DynamoDB operations the lookup's document client sent, by command name. */
const sent: string[] = [];

type Handler = (
  event: ReturnType<typeof httpEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<{
  statusCode?: number;
  headers?: Record<string, unknown>;
  body?: string;
}>;

function caller(handler: Handler) {
  return async (input: HttpEventInput & { userArn?: string }) => {
    const event = httpEvent(input);
    if (input.userArn)
      Object.assign(event.requestContext, { authorizer: { iam: { userArn: input.userArn } } });
    const result = await handler(event, lambdaContext());
    expectDocumentedResult(event, result as Parameters<typeof expectDocumentedResult>[1]);
    return {
      status: result.statusCode ?? 0,
      headers: (result.headers ?? {}) as Record<string, string>,
      body: result.body ? JSON.parse(result.body) : undefined,
    };
  };
}

let lookup: ReturnType<typeof caller>;
let retry: ReturnType<typeof caller>;

beforeAll(async () => {
  env = await useEmulators();
  // The lookup's own client, counting what it sends: the cost of a link is measured, not assumed.
  const documents = createDocumentClient(env.dynamo);
  documents.middlewareStack.add(
    (next, context) => (args) => {
      sent.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  lookup = caller(
    createLookupHandler({
      logger: new Logger({ logLevel: 'SILENT' }),
      recordings: new DynamoRecordingQueries(documents, env.tableName),
      audit: new DynamoAuditQueries(documents, env.tableName),
      audio: new S3AudioLinks(env.s3, env.bucketName),
      auditLog: new DynamoAuditLog(documents, env.tableName),
      cursorKey: () => Promise.resolve(CURSOR_KEY),
      presignTtlSeconds: 300,
    }),
  );
  const retryFailed = makeRetryFailed({
    failed: new DynamoRecoveryRepository(env.documents, env.tableName),
    clock: { nowMs: () => Date.now() },
  });
  const records = new DynamoRecordingQueries(env.documents, env.tableName);
  retry = caller(
    createRetryApiHandler({
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'test', serviceName: 'test' }),
      retry: (id, options) => retryFailed.one(id, options),
      get: (id) => records.get(id),
    }),
  );
});

async function seed(...records: ReturnType<typeof storedRecording>[]): Promise<void> {
  for (const record of records) {
    await env.documents.send(new PutCommand({ TableName: env.tableName, Item: toItem(record) }));
    if (record.status === 'stored')
      await env.s3.send(
        new PutObjectCommand({ Bucket: env.bucketName, Key: record.s3_key, Body: Buffer.from('ID3 audio') }),
      );
  }
}

async function rawItem(key: Record<string, string>): Promise<Record<string, unknown> | undefined> {
  return (
    await env.documents.send(new GetCommand({ TableName: env.tableName, Key: key, ConsistentRead: true }))
  ).Item;
}

/** Every entry of GET /audit for these filters, page after page of `limit`. */
async function listAudit(
  query: Record<string, string>,
  limit = 100,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await lookup({
      path: '/audit',
      query: { ...query, limit: String(limit), ...(cursor ? { cursor } : {}) },
      userArn: ADMIN,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    ids.push(...(response.body.items as AuditEntry[]).map((e) => e.audit_id));
    cursor = response.body.next_cursor as string | null;
    pages++;
  } while (cursor);
  return { ids, pages };
}

describe('who listened: the lookup writes an audit entry per audio link', () => {
  it('puts exactly one item per link, under AUDIT# and listed by its recording, with who, when and how', async () => {
    const record = storedRecording({ recording_id: 'listen-1', add_time_ms: Date.UTC(2026, 1, 1) });
    await seed(record);
    sent.length = 0;
    const redirect = await lookup({ path: '/recordings/listen-1/audio', userArn: REVIEWER });
    expect(redirect.status).toBe(302);
    expect(sent).toEqual(['GetItemCommand', 'PutItemCommand']);
    const json = await lookup({
      path: '/recordings/listen-1/audio',
      query: { download: 'true' },
      headers: { accept: 'application/json' },
      userArn: ADMIN,
    });
    expect(json.status).toBe(200);
    expect(sent.filter((name) => name === 'PutItemCommand')).toHaveLength(2);

    const items = (await auditEntries(env, 'listen-1')).reverse();
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({
      action: 'audio_link',
      recording_id: 'listen-1',
      actor: { arn: ADMIN },
      outcome: 'done',
      variant: 'json',
      download: true,
      link_expires_at: json.body.expires_at,
      pk: expect.stringMatching(/^AUDIT#[0-3]$/),
      [INDEXES.byCall.partitionKey]: auditRecordingPartition('listen-1'),
      [INDEXES.byCall.sortKey]: items[0]!.sk,
    });
    expect(items[1]).toMatchObject({ actor: { arn: REVIEWER }, variant: 'redirect', download: false });
    for (const item of items) {
      const kept = JSON.stringify(item);
      expect(kept).not.toContain(record.s3_key!);
      expect(kept).not.toContain('X-Amz');
      expect(kept).not.toContain(record.from_number!.replace('+', ''));
      expect(kept).not.toContain(record.to_number!.replace('+', ''));
    }

    const listed = await lookup({ path: '/audit', query: { recording_id: 'listen-1' }, userArn: ADMIN });
    expect((listed.body.items as AuditEntry[]).map((e) => e.audit_id)).toEqual(items.map((i) => i.audit_id));
    // The API shows the entry without its table and index keys.
    const { pk: _pk, sk: _sk, gsi_call_pk: _callPk, gsi_time_sk: _timeSk, ...rendered } = items[0]!;
    expect(listed.body.items[0]).toEqual(rendered);
  });

  it('writes nothing for a link it does not hand out', async () => {
    await seed({
      ...storedRecording({ recording_id: 'listen-pending', add_time_ms: Date.UTC(2026, 1, 2) }),
      status: 'pending',
    });
    expect((await lookup({ path: '/recordings/listen-pending/audio' })).status).toBe(409);
    expect((await lookup({ path: '/recordings/nobody/audio' })).status).toBe(404);
    expect(await auditEntries(env, 'listen-pending')).toEqual([]);
    expect(await auditEntries(env, 'nobody')).toEqual([]);
  });
});

describe('GET /audit?recording_id: one partition of the by-call index, no Scan', () => {
  const T0 = Date.UTC(2026, 2, 1, 12);
  const entries: AuditEntry[] = [];

  beforeAll(async () => {
    const repository = new DynamoLifecycleRepository(env.documents, env.tableName);
    const actions = ['audio_link', 'legal_hold', 'audio_link', 'legal_hold_release', 'erase'] as const;
    for (let i = 0; i < 30; i++) {
      for (const recording of ['paged-a', 'paged-b']) {
        const time = new Date(T0 + i * 60_000).toISOString();
        const entry: AuditEntry = {
          audit_id: auditId(recording, String(i)),
          time,
          action: actions[i % actions.length]!,
          recording_id: recording,
          actor: { arn: ADMIN },
          outcome: 'done',
        };
        // The lifecycle's writer: its entries are listed by recording as the lookup's are.
        await repository.record(entry);
        if (recording === 'paged-a') entries.unshift(entry);
      }
    }
  });

  it('pages one recording’s entries newest first, and only that recording’s', async () => {
    const { ids, pages } = await listAudit({ recording_id: 'paged-a' }, 7);
    expect(ids).toEqual(entries.map((e) => e.audit_id));
    expect(pages).toBe(5);
  });

  it('combines it with an action and a time window', async () => {
    const since = String(T0 + 10 * 60_000);
    const until = String(T0 + 20 * 60_000);
    const { ids } = await listAudit({ recording_id: 'paged-a', action: 'audio_link', since, until }, 2);
    expect(ids).toEqual(
      entries
        .filter(
          (e) => e.action === 'audio_link' && Date.parse(e.time) >= +since && Date.parse(e.time) <= +until,
        )
        .map((e) => e.audit_id),
    );
    expect(ids.length).toBeGreaterThan(0);
  });

  it('refuses a cursor of one recording for another', async () => {
    const first = await lookup({
      path: '/audit',
      query: { recording_id: 'paged-a', limit: '2' },
      userArn: ADMIN,
    });
    const other = await lookup({
      path: '/audit',
      query: { recording_id: 'paged-b', limit: '2', cursor: first.body.next_cursor as string },
      userArn: ADMIN,
    });
    expect(other.status).toBe(400);
    expect(other.body.error.code).toBe('invalid_cursor');
  });

  it('reads the index partition with a key condition (what DynamoDB is asked)', async () => {
    const result = await env.documents.send(
      new QueryCommand({
        TableName: env.tableName,
        IndexName: INDEXES.byCall.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': INDEXES.byCall.partitionKey },
        ExpressionAttributeValues: { ':pk': auditRecordingPartition('paged-b') },
        Select: 'COUNT',
      }),
    );
    expect(result.Count).toBe(30);
  });
});

describe('POST /recordings/{id}/retry against DynamoDB Local', () => {
  const failed = (id: string) => ({
    ...storedRecording({ recording_id: id, add_time_ms: Date.UTC(2026, 3, 1) }),
    status: 'failed' as const,
    attempts: 30,
    last_error: 'Vobiz answered 404',
  });

  it('queues a failed recording again and audits it in the same transaction; due for the re-drive at once', async () => {
    await seed(failed('retry-1'));
    const response = await retry({ method: 'POST', path: '/recordings/retry-1/retry', userArn: ADMIN });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ recording_id: 'retry-1', status: 'pending', attempts: 0 });
    const item = await rawItem(keys.recording('retry-1'));
    expect(item).toMatchObject({
      status: 'pending',
      [INDEXES.due.partitionKey]: expect.stringMatching(/^DUE#/),
      [INDEXES.byStatus.partitionKey]: expect.stringMatching(/^STATUS#pending#/),
    });
    const due = await new DynamoRecoveryRepository(env.documents, env.tableName).findDue(
      Date.now() + 1000,
      50,
    );
    expect(due.map((d) => d.recordingId)).toContain('retry-1');
    expect(await auditEntries(env, 'retry-1')).toEqual([
      expect.objectContaining({ action: 'retry', actor: { arn: ADMIN }, outcome: 'done' }),
    ]);
  });

  it('refuses anything but a failed recording with 409, and an unknown one with 404; nothing is written', async () => {
    await seed(storedRecording({ recording_id: 'retry-stored', add_time_ms: Date.UTC(2026, 3, 2) }));
    const before = await rawItem(keys.recording('retry-stored'));
    const stored = await retry({ method: 'POST', path: '/recordings/retry-stored/retry', userArn: ADMIN });
    expect(stored.status).toBe(409);
    expect(stored.body.error.message).toMatch(/recording retry-stored is stored/);
    expect(await rawItem(keys.recording('retry-stored'))).toEqual(before);
    const again = await retry({ method: 'POST', path: '/recordings/retry-1/retry', userArn: ADMIN });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/is pending: it is already queued for archiving/);
    expect((await retry({ method: 'POST', path: '/recordings/nobody/retry', userArn: ADMIN })).status).toBe(
      404,
    );
    for (const id of ['retry-stored', 'nobody']) expect(await auditEntries(env, id)).toEqual([]);
    expect(await auditEntries(env, 'retry-1')).toHaveLength(1);
  });
});

describe('legal hold released with a reason', () => {
  it('keeps the reason in the release’s audit entry', async () => {
    const fake = new VobizFake();
    await fake.start();
    try {
      const clock = new FakeClock();
      const recording = fake.addRecording();
      const id = recording.metadata.recording_id as string;
      await archive(fake, env, clock, recording);
      const handler = caller(
        createLifecycleApiHandler({
          logger: new Logger({ logLevel: 'SILENT' }),
          metrics: new Metrics({ namespace: 'test', serviceName: 'test' }),
          load: () => Promise.resolve(buildTestLifecycle(fake, env, { clock })),
        }),
      );
      const path = `/recordings/${id}/legal-hold`;
      expect(
        (await handler({ method: 'PUT', path, body: '{"reason":"CASE-1"}', userArn: ADMIN })).status,
      ).toBe(200);
      clock.advance(1000);
      const released = await handler({
        method: 'DELETE',
        path,
        body: '{"reason":"CASE-1-closed"}',
        userArn: ADMIN,
      });
      expect(released.status).toBe(200);
      expect(released.body).toMatchObject({ legal_hold: false, was_held: true });
      const release = (await auditEntries(env, id)).find((e) => e.action === 'legal_hold_release')!;
      expect(release.detail).toMatch(/: CASE-1-closed$/);
      const bad = await handler({ method: 'DELETE', path, body: '{"why":"x"}', userArn: ADMIN });
      expect(bad.status).toBe(400);
    } finally {
      await fake.stop();
    }
  });
});
