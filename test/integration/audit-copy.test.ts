import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditCopyHandler } from '../../functions/audit-copy/handler.js';
import { S3WriteOnce } from '../../functions/shared/adapters/s3-write-once.js';
import { canonicalJson } from '../../functions/shared/domain/audit-copy.js';
import { TTL_ATTRIBUTE } from '../../functions/shared/domain/table.js';
import { createBucket } from '../../local/emulators.js';
import { startAuditCopyTrigger } from '../../local/audit-copy-trigger.js';
import type { StreamTrigger } from '../../local/stream-trigger.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { archive, auditEntries, buildTestLifecycle } from '../support/lifecycle.js';
import { FakeClock, type Emulators } from '../support/redrive.js';

/**
 * The audit copy as the local stack runs it (local/audit-copy-trigger.ts: the stack's filter and
 * retries over DynamoDB Local's real stream) with the real handler writing to s3rver: entries written
 * by lifecycle actions reach the audit bucket byte for byte, and a later overwrite or delete of one is
 * kept beside it as evidence while the first copy stays.
 */
let env: Emulators;
let trigger: StreamTrigger;
const fake = new VobizFake();
const auditBucket = `audit-${Date.now().toString(36)}`;

beforeAll(async () => {
  await fake.start();
  env = await useEmulators();
  await createBucket(env.s3, auditBucket);
  trigger = await startAuditCopyTrigger({
    endpoint: inject('dynamoEndpoint'),
    tableName: env.tableName,
    handler: createAuditCopyHandler(() => new S3WriteOnce(env.s3, auditBucket)),
  });
});
afterAll(async () => {
  await trigger?.stop();
  await fake.stop();
});

async function objects(prefix: string): Promise<Map<string, string>> {
  const listed = await env.s3.send(new ListObjectsV2Command({ Bucket: auditBucket, Prefix: prefix }));
  const result = new Map<string, string>();
  for (const { Key } of listed.Contents ?? []) {
    const object = await env.s3.send(new GetObjectCommand({ Bucket: auditBucket, Key }));
    result.set(Key!, await object.Body!.transformToString());
  }
  return result;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in time: ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

describe('audit copy over the local stream', () => {
  it('copies the entries of a legal hold and its release, with the same content as the table', async () => {
    const clock = new FakeClock();
    const recording = fake.addRecording({ sizeBytes: 20_000 });
    const record = await archive(fake, env, clock, recording);
    const life = buildTestLifecycle(fake, env, { clock });
    await life.legalHold.place(record.recording_id, {
      actor: { arn: 'arn:aws:iam::123456789012:user/legal' },
    });
    await life.legalHold.release(record.recording_id, {
      actor: { arn: 'arn:aws:iam::123456789012:user/legal' },
    });
    const entries = await auditEntries(env, record.recording_id);
    expect(entries.map((e) => e.action).sort()).toEqual(['legal_hold', 'legal_hold_release']);

    const copies = await until(
      () => objects('entries/'),
      (found) => entries.every((e) => [...found.keys()].some((key) => key.endsWith(`/${String(e.sk)}.json`))),
    );
    for (const entry of entries) {
      const key = [...copies.keys()].find((k) =>
        k.endsWith(`/${String(entry.pk)}/${String(entry.sk)}.json`),
      )!;
      expect(JSON.parse(copies.get(key)!)).toEqual(entry);
      expect(key).toBe(
        `entries/${String(entry.time).slice(0, 10)}/${String(entry.pk)}/${String(entry.sk)}.json`,
      );
    }
  });

  it('keeps an overwrite and a removal of an entry as evidence, and the first copy as it was', async () => {
    const clock = new FakeClock();
    const recording = fake.addRecording({ sizeBytes: 20_000 });
    const record = await archive(fake, env, clock, recording);
    await buildTestLifecycle(fake, env, { clock }).legalHold.place(record.recording_id, {
      actor: { arn: 'legal' },
    });
    const [entry] = await auditEntries(env, record.recording_id);
    const entryKey = `entries/${String(entry!.time).slice(0, 10)}/${String(entry!.pk)}/${String(entry!.sk)}.json`;
    await until(
      () => objects(entryKey),
      (found) => found.size === 1,
    );

    // What IAM forbids every function role, done here with the emulator's full rights.
    const forged = { ...entry, outcome: 'refused', [TTL_ATTRIBUTE]: 1 };
    await env.documents.send(new PutCommand({ TableName: env.tableName, Item: forged }));
    await env.documents.send(
      new DeleteCommand({ TableName: env.tableName, Key: { pk: entry!.pk, sk: entry!.sk } }),
    );
    const prefix = `tampering/${String(entry!.time).slice(0, 10)}/${String(entry!.pk)}/${String(entry!.sk)}/`;
    const evidence = await until(
      () => objects(prefix),
      (found) => found.size === 2,
    );
    const bodies = [...evidence.values()].map((body) => JSON.parse(body) as Record<string, unknown>);
    expect(bodies).toContainEqual(
      expect.objectContaining({ event: 'MODIFY', reason: 'changed', new_image: forged }),
    );
    expect(bodies).toContainEqual(
      expect.objectContaining({
        event: 'REMOVE',
        removed_by: 'request',
        keys: { pk: entry!.pk, sk: entry!.sk },
      }),
    );
    expect((await objects(entryKey)).get(entryKey)).toBe(canonicalJson(entry));
  });

  it('the local S3 refuses a second write to a copied key (If-None-Match: *), as S3 does', async () => {
    const put = (body: string) =>
      env.s3.send(
        new PutObjectCommand({ Bucket: auditBucket, Key: 'entries/x.json', Body: body, IfNoneMatch: '*' }),
      );
    await put('first');
    await expect(put('second')).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    expect((await objects('entries/x.json')).get('entries/x.json')).toBe('first');
    expect(
      await new S3WriteOnce(env.s3, auditBucket).writeOnce({ key: 'entries/x.json', body: 'first' }),
    ).toBe('same');
    expect(
      await new S3WriteOnce(env.s3, auditBucket).writeOnce({ key: 'entries/x.json', body: 'other' }),
    ).toBe('differs');
  });
});
