import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  auditEventOf,
  copyAuditEvent,
  type WriteOnceStore,
} from '../../functions/shared/audit/copy-audit-event.js';
import { auditItem, type AuditEntry } from '../../functions/shared/domain/audit.js';
import {
  AUDIT_COPY_FILTER,
  canonicalJson,
  entryObjectKey,
} from '../../functions/shared/domain/audit-copy.js';
import { TTL_ATTRIBUTE } from '../../functions/shared/domain/table.js';
import { matches } from '../../local/stream-trigger.js';
import { createAuditCopyHandler } from '../../functions/audit-copy/handler.js';

const entry: AuditEntry = {
  audit_id: 'a'.repeat(32),
  time: '2026-03-04T05:06:07.089Z',
  action: 'legal_hold',
  recording_id: 'rec-1',
  actor: { arn: 'arn:aws:iam::123456789012:role/admin', user_sub: 'u-1' },
  outcome: 'done',
};
const item = auditItem(entry) as { pk: string; sk: string } & Record<string, unknown>;

/** A stream record as Lambda delivers it (attribute values in DynamoDB JSON). */
function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', image?: Record<string, unknown>, eventID = 'e1') {
  const toAv = (object: Record<string, unknown>) => marshall(object, { removeUndefinedValues: true });
  return {
    eventID,
    eventName,
    dynamodb: {
      Keys: toAv({ pk: item.pk, sk: item.sk }),
      ...(image ? { NewImage: toAv(image) } : {}),
      ApproximateCreationDateTime: 1_772_600_767,
      SequenceNumber: `seq-${eventID}`,
    },
    ...(eventName === 'REMOVE'
      ? { userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } }
      : {}),
  } as unknown as DynamoDBRecord;
}

/** A write-once store in memory, as S3 with `If-None-Match: *` behaves. */
function memoryStore(): WriteOnceStore & { objects: Map<string, string> } {
  const objects = new Map<string, string>();
  return {
    objects,
    writeOnce: ({ key, body }) => {
      const existing = objects.get(key);
      if (existing === undefined) objects.set(key, body);
      return Promise.resolve(existing === undefined ? 'written' : existing === body ? 'same' : 'differs');
    },
  };
}

describe('audit items and TTL', () => {
  it('an audit item never carries the TTL attribute, even when the entry object does', () => {
    const withTtl = { ...entry, [TTL_ATTRIBUTE]: 1 } as AuditEntry;
    expect(auditItem(withTtl)).not.toHaveProperty(TTL_ATTRIBUTE);
    expect(auditItem(withTtl)).toMatchObject({ ...entry, pk: item.pk, sk: item.sk });
  });
});

describe('audit copy', () => {
  it('the stream filter takes every event on AUDIT# items and nothing else', () => {
    for (const name of ['INSERT', 'MODIFY', 'REMOVE'] as const)
      expect(matches(AUDIT_COPY_FILTER, record(name, item)), name).toBe(true);
    const recording = { dynamodb: { Keys: { pk: { S: 'REC#r1' }, sk: { S: 'REC' } } } };
    expect(matches(AUDIT_COPY_FILTER, recording)).toBe(false);
  });

  it('copies an inserted entry under a key derived from the item, the same bytes for a redelivery', async () => {
    const store = memoryStore();
    const event = auditEventOf(record('INSERT', item))!;
    expect(await copyAuditEvent(event, store)).toEqual({
      outcome: 'copied',
      key: `entries/2026-03-04/${item.pk}/${item.sk}.json`,
    });
    expect(entryObjectKey(event.keys)).toBe(`entries/2026-03-04/${item.pk}/${item.sk}.json`);
    expect(JSON.parse(store.objects.get(entryObjectKey(event.keys))!)).toEqual(item);
    expect((await copyAuditEvent(event, store)).outcome).toBe('already_copied');
    expect(store.objects.size).toBe(1);
  });

  it('keeps an overwrite, a removal (TTL marked) and a differing re-insert as evidence, never over the copy', async () => {
    const store = memoryStore();
    await copyAuditEvent(auditEventOf(record('INSERT', item))!, store);
    const original = store.objects.get(entryObjectKey({ pk: item.pk, sk: item.sk }));
    const forged = { ...item, outcome: 'refused', [TTL_ATTRIBUTE]: 1 };

    const modify = await copyAuditEvent(auditEventOf(record('MODIFY', forged, 'e2'))!, store);
    const remove = await copyAuditEvent(auditEventOf(record('REMOVE', undefined, 'e3'))!, store);
    const reinsert = await copyAuditEvent(auditEventOf(record('INSERT', forged, 'e4'))!, store);

    expect([modify, remove, reinsert].map((r) => r.outcome)).toEqual(['tampering', 'tampering', 'tampering']);
    expect(store.objects.get(entryObjectKey({ pk: item.pk, sk: item.sk }))).toBe(original);
    expect(JSON.parse(store.objects.get(modify.key)!)).toMatchObject({
      event: 'MODIFY',
      reason: 'changed',
      new_image: forged,
    });
    expect(JSON.parse(store.objects.get(remove.key)!)).toEqual({
      event: 'REMOVE',
      event_id: 'e3',
      reason: 'changed',
      removed_by: 'ttl',
      event_time: '2026-03-04T05:06:07.000Z',
      keys: { pk: item.pk, sk: item.sk },
    });
    expect(JSON.parse(store.objects.get(reinsert.key)!)).toMatchObject({ reason: 'differs_from_copy' });
    expect(new Set([modify.key, remove.key, reinsert.key]).size).toBe(3);
  });

  it('canonical JSON does not depend on attribute order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [{ f: 1, e: 2 }] } })).toBe(
      canonicalJson({ a: { c: [{ e: 2, f: 1 }], d: 2 }, b: 1 }),
    );
  });

  it('the handler hands back the failed record and every one after it, and skips foreign records', async () => {
    let calls = 0;
    const failing: WriteOnceStore = {
      writeOnce: () =>
        ++calls === 2 ? Promise.reject(new Error('S3 down')) : Promise.resolve('written' as const),
    };
    const handler = createAuditCopyHandler(() => failing);
    const foreign = { eventID: 'x', eventName: 'INSERT', dynamodb: { SequenceNumber: 'seq-x' } };
    const result = await handler(
      {
        Records: [
          record('INSERT', item, 'e1'),
          foreign as DynamoDBRecord,
          record('INSERT', item, 'e2'),
          record('INSERT', item, 'e3'),
        ],
      },
      {} as never,
    );
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'seq-e2' }, { itemIdentifier: 'seq-e3' }]);
  });
});
