import { beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { DynamoRecordingRepository } from '../../functions/shared/adapters/dynamo-recordings.js';
import { VobizClient } from '../../functions/shared/adapters/vobiz-client.js';
import { HttpMediaSource } from '../../functions/shared/adapters/media.js';
import { LeaseLostError } from '../../functions/shared/ingest/ports.js';
import { AccountMismatchError, AuditEntryExistsError } from '../../functions/shared/lifecycle/ports.js';
import { DynamoLifecycleRepository } from '../../functions/shared/adapters/dynamo-lifecycle.js';
import {
  IntegrityError,
  RecordingNotAvailableError,
  TransientError,
  VobizAuthError,
} from '../../functions/shared/domain/errors.js';
import { isVobizOrigin, parseOriginPatterns } from '../../functions/shared/config.js';
import type { RecordingRecord } from '../../functions/shared/domain/recording.js';

const documents = mockClient(DynamoDBDocumentClient);
const repo = new DynamoRecordingRepository(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
  'table',
);
const record: RecordingRecord = {
  recording_id: 'rec-1',
  account_id: 'MA_1',
  status: 'pending',
  attempts: 0,
  received_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
  next_attempt_at: '2026-01-01T00:02:00.000Z',
};

describe('DynamoRecordingRepository (SDK mocked)', () => {
  beforeEach(() => documents.reset());

  const NONCE = [{ value: '123456789', expiresAtSec: 99 }];

  it('accepts with one transaction: conditional nonce puts and a put of the record only if it is new', async () => {
    documents.on(TransactWriteCommand).resolves({});
    expect(await repo.accept({ record, nonces: NONCE })).toEqual({ kind: 'recorded', status: 'pending' });
    const input = documents.commandCalls(TransactWriteCommand)[0]!.args[0].input;
    expect(input.TransactItems?.[0]?.Put).toMatchObject({
      Item: { pk: 'NONCE#123456789', sk: 'NONCE', expires_at: 99, recording_id: 'rec-1' },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(input.TransactItems?.[1]?.Put).toMatchObject({
      Item: { pk: 'REC#rec-1', sk: 'REC', status: 'pending', gsi_due_pk: expect.stringMatching(/^DUE#/) },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  /** A cancelled transaction as DynamoDB reports it, with the item each failed condition found. */
  const cancelled = (...reasons: (string | Record<string, AttributeValue>)[]) =>
    new TransactionCanceledException({
      message: 'cancelled',
      $metadata: {},
      CancellationReasons: reasons.map((reason) =>
        typeof reason === 'string' ? { Code: reason } : { Code: 'ConditionalCheckFailed', Item: reason },
      ),
    });
  const nonceFor = (id: string) => ({ pk: { S: 'NONCE#123456789' }, recording_id: { S: id } });
  const existing = (status: string) => ({ pk: { S: 'REC#rec-1' }, status: { S: status } });

  it('a nonce consumed for another recording is a replay, and nothing more is written', async () => {
    documents.on(TransactWriteCommand).rejectsOnce(cancelled(nonceFor('rec-other'), 'None'));
    expect(await repo.accept({ record, nonces: NONCE })).toEqual({ kind: 'replayed' });
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('the same nonce for the same recording is a retry of the delivery: its status, no write', async () => {
    documents.on(TransactWriteCommand).rejectsOnce(cancelled(nonceFor('rec-1'), existing('stored')));
    expect(await repo.accept({ record, nonces: NONCE })).toEqual({
      kind: 'known',
      status: 'stored',
      retry: true,
    });
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('rethrows a cancellation that is not about a condition', async () => {
    documents.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict'));
    await expect(repo.accept({ record, nonces: NONCE })).rejects.toThrow(TransactionCanceledException);
  });

  it('for an existing record, consumes only the new nonces and never writes the record', async () => {
    documents
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', existing('failed')))
      .resolvesOnce({});
    expect(await repo.accept({ record, nonces: NONCE })).toEqual({
      kind: 'known',
      status: 'failed',
      retry: false,
    });
    const second = documents.commandCalls(TransactWriteCommand)[1]!.args[0].input.TransactItems!;
    expect(second).toHaveLength(1);
    expect(second[0]?.Put).toMatchObject({
      Item: { pk: 'NONCE#123456789', recording_id: 'rec-1' },
      ConditionExpression: 'attribute_not_exists(#pk) OR recording_id = :id',
    });
    // A nonce used in between by another recording (a racing replay) is still a replay.
    documents.reset();
    documents
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', existing('pending')))
      .rejectsOnce(cancelled(nonceFor('rec-other')));
    expect(await repo.accept({ record, nonces: NONCE })).toEqual({ kind: 'replayed' });
  });

  it('without nonces (backfill) puts the record only if it is new, and reports an existing one', async () => {
    documents.on(PutCommand).rejectsOnce(
      new ConditionalCheckFailedException({
        message: 'exists',
        $metadata: {},
        Item: existing('stored'),
      }),
    );
    expect(await repo.accept({ record, nonces: [] })).toEqual({
      kind: 'known',
      status: 'stored',
      retry: false,
    });
    expect(documents.commandCalls(PutCommand)[0]!.args[0].input.ConditionExpression).toBe(
      'attribute_not_exists(#pk)',
    );
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(documents.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('renewLease moves the lease and the due time, only for the owner of a pending record', async () => {
    documents
      .on(UpdateCommand)
      .resolvesOnce({})
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await repo.renewLease({ recordingId: 'rec-1', owner: 'me', nowMs: 1_000, leaseMs: 60_000 });
    expect(documents.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      ConditionExpression: 'lease_owner = :owner AND #status = :pending',
      ExpressionAttributeValues: {
        ':owner': 'me',
        ':until': 61_000,
        ':due': new Date(61_000).toISOString(),
        ':dueSk': '000000000061000#rec-1',
      },
    });
    await expect(
      repo.renewLease({ recordingId: 'rec-1', owner: 'me', nowMs: 1_000, leaseMs: 60_000 }),
    ).rejects.toBeInstanceOf(LeaseLostError);
  });

  it('renewLease with the upload key records it in the same conditional write', async () => {
    documents.on(UpdateCommand).resolves({});
    await repo.renewLease({
      recordingId: 'rec-1',
      owner: 'me',
      nowMs: 1_000,
      leaseMs: 60_000,
      uploadKey: 'recordings/MA_1/2026/01/01/rec-1.mp3',
    });
    expect(documents.commandCalls(UpdateCommand)[0]!.args[0].input).toMatchObject({
      UpdateExpression: expect.stringMatching(/, s3_upload_key = :key$/),
      ConditionExpression: 'lease_owner = :owner AND #status = :pending',
      ExpressionAttributeValues: { ':key': 'recordings/MA_1/2026/01/01/rec-1.mp3' },
    });
  });

  it('claim reports stored or busy from a consistent read when the condition fails', async () => {
    documents
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    documents
      .on(GetCommand)
      .resolvesOnce({ Item: { ...record, status: 'stored', pk: 'REC#rec-1', sk: 'REC' } })
      .resolvesOnce({ Item: { ...record, lease_owner: 'x', lease_until_ms: 5 } })
      .resolvesOnce({});
    expect((await repo.claim({ recordingId: 'rec-1', owner: 'o', nowMs: 1, leaseMs: 1 })).kind).toBe(
      'stored',
    );
    expect((await repo.claim({ recordingId: 'rec-1', owner: 'o', nowMs: 1, leaseMs: 1 })).kind).toBe('busy');
    expect((await repo.claim({ recordingId: 'rec-1', owner: 'o', nowMs: 1, leaseMs: 1 })).kind).toBe(
      'missing',
    );
    expect(documents.commandCalls(GetCommand)[0]!.args[0].input.ConsistentRead).toBe(true);
  });

  it('claim treats a recording removed on purpose (expired, erased, on the way) as gone: nothing to archive', async () => {
    documents
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    for (const status of ['expiring', 'expired', 'erasing', 'erased']) {
      documents
        .on(GetCommand)
        .resolves({ Item: { recording_id: 'rec-1', status, pk: 'REC#rec-1', sk: 'REC' } });
      expect(
        (await repo.claim({ recordingId: 'rec-1', owner: 'o', nowMs: 1, leaseMs: 1 })).kind,
        status,
      ).toBe('missing');
    }
  });

  it('replaceLeased is conditional on the owner and turns a failed condition into LeaseLostError', async () => {
    documents.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await expect(repo.replaceLeased(record, 'me')).rejects.toBeInstanceOf(LeaseLostError);
    expect(documents.commandCalls(PutCommand)[0]!.args[0].input).toMatchObject({
      ConditionExpression: 'lease_owner = :owner',
      ExpressionAttributeValues: { ':owner': 'me' },
    });
  });
});

type FetchCall = { url: string; init: RequestInit | undefined };

function fakeFetch(responses: (() => Response | Promise<Response>)[]) {
  const calls: FetchCall[] = [];
  const fn = (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: url instanceof Request ? url.url : url.toString(), init });
    const next = responses.shift();
    if (!next) throw new Error('unexpected fetch');
    return Promise.resolve(next());
  };
  return { fetch: fn, calls };
}

const body = {
  add_time: '2025-11-06 13:49:10.751756+00:00',
  api_id: 'a',
  call_uuid: 'c',
  conference_name: null,
  from_number: '+91800',
  to_number: '91900',
  monthly_recording_storage_amount: 0,
  recording_duration_ms: '10.00000',
  recording_start_ms: null,
  recording_end_ms: null,
  recording_format: 'mp3',
  recording_id: 'rec-1',
  recording_storage_duration: 1,
  recording_storage_rate: 0.005,
  recording_type: 'call',
  recording_url: 'https://media.vobiz.ai/x.mp3',
  resource_uri: '/v1/x/',
  rounded_recording_duration: 60,
};
const json =
  (status: number, value: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(value), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    });

describe('VobizClient (fetch stubbed)', () => {
  const client = (f: typeof fetch) =>
    new VobizClient({
      baseUrl: 'https://api.vobiz.ai',
      credentials: { authId: 'MA_1', authToken: 'tok' },
      fetch: f,
      baseDelayMs: 1,
      maxDelayMs: 2,
    });

  it('calls the documented URL with the auth headers', async () => {
    const { fetch, calls } = fakeFetch([json(200, body)]);
    const recording = await client(fetch).getRecording('rec-1');
    expect(recording.recording_duration_ms).toBe(10);
    expect(calls[0]!.url).toBe('https://api.vobiz.ai/api/v1/Account/MA_1/Recording/rec-1/');
    expect(calls[0]!.init?.headers).toMatchObject({ 'X-Auth-ID': 'MA_1', 'X-Auth-Token': 'tok' });
  });

  it('retries 429/5xx/network errors and then succeeds', async () => {
    const { fetch, calls } = fakeFetch([
      json(503, {}),
      () => Promise.reject(new TypeError('fetch failed')),
      json(200, body),
    ]);
    await expect(client(fetch).getRecording('rec-1')).resolves.toMatchObject({ recording_id: 'rec-1' });
    expect(calls).toHaveLength(3);
  });

  it('gives up after the last attempt with a transient error', async () => {
    const { fetch } = fakeFetch([
      json(429, {}, { 'retry-after': '0' }),
      json(500, {}),
      json(502, { api_id: 'z' }),
    ]);
    await expect(client(fetch).getRecording('rec-1')).rejects.toThrow(/HTTP 502 \(api_id z\)/);
  });

  it('treats 404 as not available (with api_id) and 401/403 as a configuration error, without retrying', async () => {
    const notFound = fakeFetch([json(404, { api_id: 'p', error: 'Recording not found' })]);
    const error = await client(notFound.fetch)
      .getRecording('rec-1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordingNotAvailableError);
    expect((error as RecordingNotAvailableError).apiId).toBe('p');
    const refused = fakeFetch([json(403, { api_id: 'q' })]);
    await expect(client(refused.fetch).getRecording('rec-1')).rejects.toBeInstanceOf(VobizAuthError);
    expect(refused.calls).toHaveLength(1);
  });

  it('refuses a body for another recording or with a bad schema', async () => {
    await expect(
      client(fakeFetch([json(200, { ...body, recording_id: 'rec-2' })]).fetch).getRecording('rec-1'),
    ).rejects.toBeInstanceOf(IntegrityError);
    await expect(
      client(fakeFetch([json(200, { objects: [body] })]).fetch).getRecording('rec-1'),
    ).rejects.toBeInstanceOf(IntegrityError);
  });
});

describe('DynamoLifecycleRepository audited changes (SDK mocked)', () => {
  const lifecycle = new DynamoLifecycleRepository(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    'table',
  );
  const audit = {
    audit_id: 'a'.repeat(32),
    time: '2026-03-01T00:00:00.000Z',
    action: 'vobiz_delete' as const,
    recording_id: 'rec-1',
    actor: { arn: 'system' },
    outcome: 'done' as const,
  };
  const cancelled = (record: string, entry: string) =>
    new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: [{ Code: record }, { Code: entry }],
    });
  beforeEach(() => documents.reset());

  it('writes the change and its entry in one transaction, the entry only if its key is new', async () => {
    documents.on(TransactWriteCommand).resolves({});
    expect(await lifecycle.markVobizDeleted('rec-1', { at: audit.time }, audit)).toBe(true);
    const [change, entry] = documents.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(change!.Update).toMatchObject({ Key: { pk: 'REC#rec-1', sk: 'REC' } });
    expect(entry!.Put).toMatchObject({
      ConditionExpression: 'attribute_not_exists(#pk)',
      Item: { ...audit, pk: expect.stringMatching(/^AUDIT#/) },
    });
  });

  it("the record's condition failing is false: nothing written, nothing to report", async () => {
    documents.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    expect(await lifecycle.markVobizDeleted('rec-1', { at: audit.time }, audit)).toBe(false);
  });

  it('an entry whose key is taken rolled the change back with it: a failure, never success', async () => {
    documents.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed'));
    await expect(lifecycle.markVobizDeleted('rec-1', { at: audit.time }, audit)).rejects.toBeInstanceOf(
      AuditEntryExistsError,
    );
    await expect(lifecycle.finishExpiry('rec-1', { at: audit.time }, audit)).rejects.toThrow(
      /exists already: the change it records was rolled back/,
    );
  });
});

describe('VobizClient deletes (fetch stubbed)', () => {
  const client = (f: typeof fetch) =>
    new VobizClient({
      baseUrl: 'https://api.vobiz.ai',
      credentials: { authId: 'MA_1', authToken: 'tok' },
      fetch: f,
      baseDelayMs: 1,
      maxDelayMs: 2,
    });
  const empty = (status: number) => () => Promise.resolve(new Response(null, { status }));

  it('DELETEs the documented URL; 204 is deleted and 404 is already absent, both without retrying', async () => {
    const gone = fakeFetch([empty(204)]);
    expect(await client(gone.fetch).deleteRecording('rec-1')).toBe('deleted');
    expect(gone.calls[0]!.url).toBe('https://api.vobiz.ai/api/v1/Account/MA_1/Recording/rec-1/');
    expect(gone.calls[0]!.init).toMatchObject({ method: 'DELETE', headers: { 'X-Auth-ID': 'MA_1' } });
    const absent = fakeFetch([json(404, { api_id: 'a', error: 'Recording not found' })]);
    expect(await client(absent.fetch).deleteRecording('rec-1')).toBe('absent');
    expect(absent.calls).toHaveLength(1);
  });

  it('retries 429 (honouring Retry-After) and 5xx, then gives up with a transient error', async () => {
    const retried = fakeFetch([json(429, {}, { 'retry-after': '0' }), json(503, {}), empty(204)]);
    expect(await client(retried.fetch).deleteRecording('rec-1')).toBe('deleted');
    expect(retried.calls).toHaveLength(3);
    const down = fakeFetch([json(500, {}), json(500, {}), json(500, { api_id: 'x' })]);
    const error = await client(down.fetch)
      .deleteRecording('rec-1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/HTTP 500/);
  });

  it('reports 401/403 as a configuration error and anything else as final', async () => {
    await expect(client(fakeFetch([json(401, {})]).fetch).deleteRecording('rec-1')).rejects.toBeInstanceOf(
      VobizAuthError,
    );
    await expect(client(fakeFetch([json(400, {})]).fetch).deleteRecording('rec-1')).rejects.toBeInstanceOf(
      IntegrityError,
    );
  });

  it("deletes in the recording's own account only: another account's is refused before anything is sent", async () => {
    const none = fakeFetch([]);
    const error = await client(none.fetch)
      .deleteRecording('rec-1', { accountId: 'MA_OTHER' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccountMismatchError);
    expect((error as Error).message).toBe(
      'the recording belongs to Vobiz account MA_OTHER, the configured credentials are for MA_1',
    );
    expect(none.calls).toHaveLength(0);
    // Its own account: a 404 there means absent.
    const absent = fakeFetch([json(404, { api_id: 'a', error: 'Recording not found' })]);
    expect(await client(absent.fetch).deleteRecording('rec-1', { accountId: 'MA_1' })).toBe('absent');
  });

  it('sends Bulk Delete filters as query parameters and refuses to send one without a filter', async () => {
    const accepted = fakeFetch([json(202, { api_id: 'b' })]);
    expect(await client(accepted.fetch).bulkDelete({ call_uuid: 'c-1', from_number: '' })).toEqual({
      apiId: 'b',
    });
    expect(accepted.calls[0]!.url).toBe(
      'https://api.vobiz.ai/api/v1/Account/MA_1/Recording/BulkDelete/?call_uuid=c-1',
    );
    const none = fakeFetch([]);
    await expect(client(none.fetch).bulkDelete({})).rejects.toThrow(/without a filter/);
    await expect(client(none.fetch).bulkDelete({ from_number: '' })).rejects.toThrow(/without a filter/);
    expect(none.calls).toHaveLength(0);
  });
});

describe('VobizClient failures reported to its observer (fetch stubbed)', () => {
  const observed = (f: typeof fetch) => {
    const failures: (number | 'network')[] = [];
    const vobiz = new VobizClient({
      baseUrl: 'https://api.vobiz.ai',
      credentials: { authId: 'MA_1', authToken: 'tok' },
      fetch: f,
      baseDelayMs: 1,
      maxDelayMs: 2,
      onFailure: (status) => failures.push(status),
    });
    return { vobiz, failures };
  };

  it('reports every attempt that failed, by status, and one with no answer as network', async () => {
    const { vobiz, failures } = observed(
      fakeFetch([json(503, {}), () => Promise.reject(new TypeError('fetch failed')), json(200, body)]).fetch,
    );
    await vobiz.getRecording('rec-1');
    expect(failures).toEqual([503, 'network']);
  });

  it('reports a 404 that is an error, not one that answers a delete (already gone), nor a 2xx', async () => {
    const retrieve = observed(fakeFetch([json(404, {})]).fetch);
    await expect(retrieve.vobiz.getRecording('rec-1')).rejects.toBeInstanceOf(RecordingNotAvailableError);
    expect(retrieve.failures).toEqual([404]);
    const remove = observed(
      fakeFetch([json(404, {}), () => Promise.resolve(new Response(null, { status: 204 }))]).fetch,
    );
    expect(await remove.vobiz.deleteRecording('rec-1')).toBe('absent');
    expect(await remove.vobiz.deleteRecording('rec-2')).toBe('deleted');
    expect(remove.failures).toEqual([]);
  });

  it('reports refused credentials and final 4xx answers', async () => {
    const { vobiz, failures } = observed(fakeFetch([json(401, {}), json(400, {})]).fetch);
    await expect(vobiz.getRecording('rec-1')).rejects.toBeInstanceOf(VobizAuthError);
    await expect(vobiz.deleteRecording('rec-1')).rejects.toBeInstanceOf(IntegrityError);
    expect(failures).toEqual([401, 400]);
  });
});

describe('HttpMediaSource origin policy', () => {
  const origins = parseOriginPatterns('https://*.vobiz.ai,http://127.0.0.1:4010');

  it.each([
    'https://evil.example.com/a.mp3',
    'https://vobiz.ai.evil.com/a.mp3',
    'https://evilvobiz.ai/a.mp3',
    'http://media.vobiz.ai/a.mp3',
    'https://user:pw@media.vobiz.ai/a.mp3',
    'http://127.0.0.1:4011/a.mp3',
    'file:///etc/passwd',
    'not a url',
  ])('refuses %s without fetching it', async (url) => {
    const { fetch, calls } = fakeFetch([]);
    await expect(new HttpMediaSource({ allowedOrigins: origins, fetch }).open(url)).rejects.toBeInstanceOf(
      IntegrityError,
    );
    expect(calls).toHaveLength(0);
  });

  it('downloads from an allowed origin and follows redirects only within the allowed origins', async () => {
    const { fetch, calls } = fakeFetch([
      () => new Response(null, { status: 302, headers: { location: 'https://cdn.vobiz.ai/b.mp3' } }),
      () =>
        new Response('abc', {
          status: 200,
          headers: { 'content-length': '3', 'content-type': 'audio/mpeg' },
        }),
    ]);
    const download = await new HttpMediaSource({ allowedOrigins: origins, fetch }).open(
      'https://media.vobiz.ai/a.mp3',
    );
    expect(download.contentLength).toBe(3);
    expect(calls.map((c) => c.url)).toEqual(['https://media.vobiz.ai/a.mp3', 'https://cdn.vobiz.ai/b.mp3']);
    const escaping = fakeFetch([
      () => new Response(null, { status: 302, headers: { location: 'https://evil.example.com/' } }),
    ]);
    await expect(
      new HttpMediaSource({ allowedOrigins: origins, fetch: escaping.fetch }).open(
        'https://media.vobiz.ai/a.mp3',
      ),
    ).rejects.toThrow(/ALLOWED_MEDIA_ORIGINS/);
    expect(escaping.calls).toHaveLength(1);
  });

  it('maps 404 to not available and 5xx to a transient error', async () => {
    const source = (status: number) =>
      new HttpMediaSource({
        allowedOrigins: origins,
        fetch: fakeFetch([() => new Response('x', { status })]).fetch,
      });
    await expect(source(404).open('https://media.vobiz.ai/a.mp3')).rejects.toBeInstanceOf(
      RecordingNotAvailableError,
    );
    await expect(source(500).open('https://media.vobiz.ai/a.mp3')).rejects.toBeInstanceOf(TransientError);
  });
});

describe('HttpMediaSource credentials', () => {
  const origins = parseOriginPatterns('https://*.vobiz.ai,http://127.0.0.1:4010');
  const auth = (apiBaseUrl = 'https://api.vobiz.ai') => ({
    apiBaseUrl,
    headers: () => ({ 'X-Auth-ID': 'MA_1', 'X-Auth-Token': 'tok' }),
  });
  const redirect = (location: string) => () => new Response(null, { status: 302, headers: { location } });
  const audio = () => new Response('abc', { status: 200, headers: { 'content-length': '3' } });
  const sentToken = (calls: FetchCall[]) =>
    calls.map((c) => [c.url, new Headers(c.init?.headers).get('x-auth-token')]);

  it('sends them to the Vobiz origin of the recording_url, and drops them when a redirect changes origin', async () => {
    const { fetch, calls } = fakeFetch([redirect('https://cdn.vobiz.ai/b.mp3'), audio]);
    await new HttpMediaSource({ allowedOrigins: origins, auth: auth(), fetch }).open(
      'https://media.vobiz.ai/a.mp3',
    );
    expect(sentToken(calls)).toEqual([
      ['https://media.vobiz.ai/a.mp3', 'tok'],
      ['https://cdn.vobiz.ai/b.mp3', null],
    ]);
  });

  it('keeps them on a redirect within the origin, and never resends them after leaving it', async () => {
    const { fetch, calls } = fakeFetch([
      redirect('/b.mp3'),
      redirect('https://cdn.vobiz.ai/c.mp3'),
      redirect('https://media.vobiz.ai/d.mp3'),
      audio,
    ]);
    await new HttpMediaSource({ allowedOrigins: origins, auth: auth(), fetch }).open(
      'https://media.vobiz.ai/a.mp3',
    );
    expect(sentToken(calls)).toEqual([
      ['https://media.vobiz.ai/a.mp3', 'tok'],
      ['https://media.vobiz.ai/b.mp3', 'tok'],
      ['https://cdn.vobiz.ai/c.mp3', null],
      ['https://media.vobiz.ai/d.mp3', null],
    ]);
  });

  it.each([
    [
      'a deeper subdomain the download allow-list accepts',
      'https://a.b.vobiz.ai/a.mp3',
      'https://api.vobiz.ai',
    ],
    ['an allowed origin that is not the API', 'http://127.0.0.1:4010/a.mp3', 'https://api.vobiz.ai'],
  ])('never sends them to %s', async (_case, url, apiBaseUrl) => {
    const { fetch, calls } = fakeFetch([redirect('https://media.vobiz.ai/b.mp3'), audio]);
    await new HttpMediaSource({ allowedOrigins: origins, auth: auth(apiBaseUrl), fetch }).open(url);
    expect(sentToken(calls).map(([, token]) => token)).toEqual([null, null]);
  });

  it('sends them to the configured API origin (the local simulator serves the audio)', async () => {
    const { fetch, calls } = fakeFetch([audio]);
    await new HttpMediaSource({
      allowedOrigins: origins,
      auth: auth('http://127.0.0.1:4010'),
      fetch,
    }).open('http://127.0.0.1:4010/a.mp3');
    expect(sentToken(calls)).toEqual([['http://127.0.0.1:4010/a.mp3', 'tok']]);
  });

  it('defines a Vobiz origin as https on vobiz.ai or one label under it, or the API base origin', () => {
    const api = 'https://api.vobiz.ai';
    expect(isVobizOrigin('https://media.vobiz.ai/x.mp3', api)).toBe(true);
    expect(isVobizOrigin('https://vobiz.ai/x.mp3', api)).toBe(true);
    expect(isVobizOrigin('https://MEDIA.Vobiz.AI:443/x', api)).toBe(true);
    expect(isVobizOrigin('https://a.b.vobiz.ai/x', api)).toBe(false);
    expect(isVobizOrigin('http://media.vobiz.ai/x', api)).toBe(false);
    expect(isVobizOrigin('https://media.vobiz.ai:8443/x', api)).toBe(false);
    expect(isVobizOrigin('https://media.vobiz.ai./x', api)).toBe(false);
    expect(isVobizOrigin('https://vobiz.ai.evil.com/x', api)).toBe(false);
    expect(isVobizOrigin('https://evilvobiz.ai/x', api)).toBe(false);
    expect(isVobizOrigin('https://u:p@media.vobiz.ai/x', api)).toBe(false);
    expect(isVobizOrigin('not a url', api)).toBe(false);
    expect(isVobizOrigin('http://127.0.0.1:4010/x', 'http://127.0.0.1:4010')).toBe(true);
    expect(isVobizOrigin('http://127.0.0.1:4011/x', 'http://127.0.0.1:4010')).toBe(false);
  });
});

describe('HttpMediaSource content coding', () => {
  const origins = parseOriginPatterns('https://*.vobiz.ai');
  const open = (headers: Record<string, string>) => {
    const { fetch, calls } = fakeFetch([
      () => new Response('abc', { status: 200, headers: { 'content-length': '3', ...headers } }),
    ]);
    return {
      calls,
      download: new HttpMediaSource({ allowedOrigins: origins, fetch }).open('https://media.vobiz.ai/a.mp3'),
    };
  };

  it('asks for the identity coding, so Content-Length counts the bytes stored', async () => {
    const { calls, download } = open({});
    expect((await download).contentLength).toBe(3);
    expect(new Headers(calls[0]!.init?.headers).get('accept-encoding')).toBe('identity');
  });

  it('treats the length as unknown when the server compresses anyway (fetch decodes the body)', async () => {
    expect((await open({ 'content-encoding': 'gzip' }).download).contentLength).toBeUndefined();
    expect((await open({ 'content-encoding': 'identity, br' }).download).contentLength).toBeUndefined();
    expect((await open({ 'content-encoding': 'identity' }).download).contentLength).toBe(3);
  });

  it('refuses a coding fetch does not decode, which would store encoded bytes as audio', async () => {
    await expect(open({ 'content-encoding': 'zstd' }).download).rejects.toThrow(
      /unsupported Content-Encoding: zstd/,
    );
  });
});
