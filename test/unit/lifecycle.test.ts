import { describe, expect, it } from 'vitest';
import { parseDuration, parseEraseArgs, parseVobizCleanupArgs, UsageError } from '../../bin/lib/cli.js';
import { parseEraseParams, parseHoldBody } from '../../functions/lifecycle-api/app.js';
import { resolveLifecycleRoute } from '../../functions/lifecycle-api/routes.js';
import { ConfigError } from '../../functions/shared/config.js';
import { auditKeys, isValidReason, renderAudit } from '../../functions/shared/domain/audit.js';
import {
  audioKeysOf,
  erasingRecord,
  fromItem,
  indexAttributes,
  renderRecording,
  tombstone,
  toItem,
} from '../../functions/shared/domain/recording.js';
import { callerOf } from '../../functions/shared/framework/caller.js';
import { readLifecycleSettings } from '../../functions/shared/wiring/lifecycle.js';
import { monthlyStorageCost } from '../../functions/shared/domain/vobiz-cost.js';
import { checksumsMatch } from '../../functions/shared/lifecycle/delete-at-vobiz.js';
import { httpEvent } from '../support/http-events.js';
import { storedRecording } from '../support/recording-dataset.js';

const ADD = Date.UTC(2026, 0, 10, 9);

describe('lifecycle index keys (the record module owns them)', () => {
  const stored = storedRecording({ recording_id: 'r1', add_time_ms: ADD });

  it('a stored record waits in VDEL# (by archive time) and in the expiry index (by add_time)', () => {
    const keys = indexAttributes(stored);
    expect(keys.gsi_due_pk).toMatch(/^VDEL#[0-3]$/);
    expect(keys.gsi_due_sk).toBe(`${String(Date.parse(stored.archived_at!)).padStart(15, '0')}#r1`);
    expect(keys.gsi_exp_pk).toMatch(/^EXP#[0-3]$/);
    expect(keys.gsi_exp_sk).toBe(`${String(ADD).padStart(15, '0')}#r1`);
  });

  it('held: in neither; deleted at Vobiz or blocked: not in VDEL#; expiring: only in expiry; failed, erasing: in neither', () => {
    const held = indexAttributes({ ...stored, legal_hold: true });
    expect(held.gsi_due_pk).toBeUndefined();
    expect(held.gsi_exp_pk).toBeUndefined();
    expect(
      indexAttributes({ ...stored, vobiz_deleted_at: '2026-02-01T00:00:00Z' }).gsi_due_pk,
    ).toBeUndefined();
    expect(indexAttributes({ ...stored, vobiz_delete_blocked: 'size' }).gsi_due_pk).toBeUndefined();
    const expiring = indexAttributes({ ...stored, status: 'expiring' });
    expect([expiring.gsi_due_pk, expiring.gsi_exp_pk?.slice(0, 4)]).toEqual([undefined, 'EXP#']);
    for (const status of ['failed', 'erasing'] as const) {
      const keys = indexAttributes({ ...stored, status });
      expect([keys.gsi_due_pk, keys.gsi_exp_pk], status).toEqual([undefined, undefined]);
    }
  });

  it('retention implies the delete at Vobiz: an expired record not deleted there stays in VDEL# (by add_time)', () => {
    const expired = indexAttributes({ ...stored, status: 'expired' });
    expect(expired.gsi_due_pk).toMatch(/^VDEL#[0-3]$/);
    expect(expired.gsi_due_sk).toBe(`${String(ADD).padStart(15, '0')}#r1`);
    expect(expired.gsi_exp_pk).toBeUndefined();
    const done = indexAttributes({ ...stored, status: 'expired', vobiz_deleted_at: '2026-02-01T00:00:00Z' });
    expect(done.gsi_due_pk).toBeUndefined();
  });

  it('an erasing record keeps no personal data and no lookup key, only what finishing needs', () => {
    const leased = { ...stored, s3_upload_key: stored.s3_key, legal_hold_reason: undefined };
    const intent = {
      erasureId: 'e1',
      at: '2026-03-01T00:00:00.000Z',
      reason: 'DSR-1',
      actor: { arn: 'arn:aws:iam::1:user/dpo' },
      alsoVobiz: true,
    };
    const erasing = erasingRecord('r1', leased, intent);
    expect(erasing).toEqual({
      recording_id: 'r1',
      account_id: stored.account_id,
      attempts: stored.attempts,
      status: 'erasing',
      s3_bucket: stored.s3_bucket,
      s3_key: stored.s3_key,
      size_bytes: stored.size_bytes,
      sha256: stored.sha256,
      content_type: stored.content_type,
      ...(stored.s3_version_id ? { s3_version_id: stored.s3_version_id } : {}),
      ...(stored.s3_checksum_sha256 ? { s3_checksum_sha256: stored.s3_checksum_sha256 } : {}),
      erasure_keys: [stored.s3_key],
      erasure_id: 'e1',
      erasure_started_at: intent.at,
      erasure_reason: 'DSR-1',
      erased_by: intent.actor,
      erasure_also_vobiz: true,
      erasure_previous_status: 'stored',
      updated_at: intent.at,
    });
    const item = toItem(erasing);
    const serialized = JSON.stringify(item);
    for (const personal of [stored.from_number, stored.to_number, stored.call_uuid, stored.add_time])
      expect(serialized).not.toContain(String(personal));
    expect(Object.keys(item).filter((name) => name.startsWith('gsi_'))).toEqual([
      'gsi_status_pk',
      'gsi_time_sk',
    ]);
    expect(item.gsi_time_sk).toBe(`${String(Date.parse(intent.at)).padStart(15, '0')}#r1`);
    // Resumed from the erasing record itself: the same keys, though the metadata is gone.
    expect(audioKeysOf(erasing)).toEqual([stored.s3_key]);
  });

  it('finds the audio key of a pending record by its upload key or its metadata, and lists each once', () => {
    const pending = {
      recording_id: 'r2',
      account_id: 'MA_1',
      status: 'pending' as const,
      attempts: 1,
      received_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    };
    expect(audioKeysOf(pending)).toEqual([]);
    expect(audioKeysOf({ ...pending, s3_upload_key: 'recordings/MA_1/2026/01/10/r2.mp3' })).toEqual([
      'recordings/MA_1/2026/01/10/r2.mp3',
    ]);
    expect(
      audioKeysOf({
        ...pending,
        s3_upload_key: 'recordings/MA_1/2026/01/10/r2.mp3',
        add_time_ms: ADD,
        recording_format: 'mp3',
      }),
    ).toEqual(['recordings/MA_1/2026/01/10/r2.mp3']);
    expect(audioKeysOf({ ...pending, add_time_ms: ADD, recording_format: 'wav' })).toEqual([
      'recordings/MA_1/2026/01/10/r2.wav',
    ]);
  });

  it('a tombstone carries no personal data and is listed under status=erased; owing the delete at Vobiz, in EVDEL#', () => {
    const input = {
      recordingId: 'r1',
      accountId: 'MA_1',
      erasureId: 'e1',
      erasedAt: '2026-03-01T00:00:00.000Z',
      reason: 'DSR-1',
      erasedBy: { arn: 'arn:aws:iam::1:user/dpo', user_sub: 'sub-1' },
      alsoVobiz: false,
    };
    const sk = `${String(Date.parse('2026-03-01T00:00:00.000Z')).padStart(15, '0')}#r1`;
    expect(toItem(tombstone(input))).toEqual({
      pk: 'REC#r1',
      sk: 'REC',
      recording_id: 'r1',
      account_id: 'MA_1',
      status: 'erased',
      erasure_id: 'e1',
      erased_at: '2026-03-01T00:00:00.000Z',
      erasure_reason: 'DSR-1',
      erased_by: { arn: 'arn:aws:iam::1:user/dpo', user_sub: 'sub-1' },
      erasure_also_vobiz: false,
      updated_at: '2026-03-01T00:00:00.000Z',
      gsi_status_pk: expect.stringMatching(/^STATUS#erased#[0-7]$/),
      gsi_time_sk: sk,
    });
    const owing = toItem(tombstone({ ...input, alsoVobiz: true }));
    expect([owing.gsi_due_pk, owing.gsi_due_sk]).toEqual([expect.stringMatching(/^EVDEL#[0-3]$/), sk]);
    const done = toItem(tombstone({ ...input, alsoVobiz: true, vobizDeletedAt: input.erasedAt }));
    expect(done.gsi_due_pk).toBeUndefined();
  });

  it('audit entries live in AUDIT#<0-3> sorted by time, and render without their keys; a legacy string actor as an object', () => {
    const entry = {
      audit_id: 'a'.repeat(32),
      time: '2026-03-01T00:00:00.000Z',
      action: 'erase' as const,
      recording_id: 'r1',
      actor: { arn: 'system' },
      outcome: 'done' as const,
    };
    expect(auditKeys(entry)).toEqual({
      pk: expect.stringMatching(/^AUDIT#[0-3]$/),
      sk: `${String(Date.parse(entry.time)).padStart(15, '0')}#${'a'.repeat(32)}`,
    });
    expect(renderAudit({ ...entry, ...auditKeys(entry) })).toEqual(entry);
    expect(renderAudit({ ...entry, actor: 'arn:aws:iam::1:user/old' }).actor).toEqual({
      arn: 'arn:aws:iam::1:user/old',
    });
  });

  it('records written with plain ARN strings read back with actor objects; the upload key stays hidden', () => {
    const legacy = fromItem({
      ...toItem(stored),
      legal_hold: true,
      legal_hold_by: 'arn:aws:iam::1:user/legal',
      s3_upload_key: 'recordings/x.mp3',
    });
    expect(legacy.legal_hold_by).toEqual({ arn: 'arn:aws:iam::1:user/legal' });
    expect(renderRecording(legacy)).not.toHaveProperty('s3_upload_key');
  });
});

describe('checksums and costs', () => {
  it('compares S3 checksums by digest, and by part count when S3 states one', () => {
    expect(checksumsMatch('abc=-3', 'abc=-3')).toBe(true);
    expect(checksumsMatch('abc=', 'abc=-3')).toBe(true);
    expect(checksumsMatch('abc=-2', 'abc=-3')).toBe(false);
    expect(checksumsMatch('abd=', 'abc=')).toBe(false);
  });

  it('costs a recording per month from Vobiz stated amount, else rate × rounded minutes', () => {
    const base = storedRecording({ recording_id: 'r', add_time_ms: ADD });
    expect(monthlyStorageCost({ ...base, monthly_recording_storage_amount: 0.42 })).toBe(0.42);
    expect(
      monthlyStorageCost({
        ...base,
        monthly_recording_storage_amount: 0,
        recording_storage_rate: 0.005,
        rounded_recording_duration: 180,
      }),
    ).toBeCloseTo(0.015);
    expect(
      monthlyStorageCost({
        ...base,
        monthly_recording_storage_amount: null,
        recording_storage_rate: 0.01,
        rounded_recording_duration: null,
        recording_duration_ms: 61_000,
      }),
    ).toBeCloseTo(0.02);
    expect(
      monthlyStorageCost({ ...base, monthly_recording_storage_amount: 0, recording_storage_rate: null }),
    ).toBeUndefined();
  });
});

describe('lifecycle API routes and parameters', () => {
  it('resolves API Gateway route keys and raw paths alike; other methods are 405 with Allow', () => {
    const byKey = httpEvent({
      method: 'PUT',
      path: '/recordings/r1/legal-hold',
      routeKey: 'PUT /recordings/{recording_id}/legal-hold',
      pathParameters: { recording_id: 'r1' },
    });
    expect(resolveLifecycleRoute(byKey)).toEqual({ name: 'hold', recordingId: 'r1' });
    expect(
      resolveLifecycleRoute(httpEvent({ method: 'DELETE', path: '/recordings/r%201/legal-hold' })),
    ).toEqual({
      name: 'release',
      recordingId: 'r 1',
    });
    expect(resolveLifecycleRoute(httpEvent({ method: 'DELETE', path: '/recordings/r1' }))).toEqual({
      name: 'erase',
      recordingId: 'r1',
    });
    const any = httpEvent({
      method: 'GET',
      path: '/recordings/r1/legal-hold',
      routeKey: 'ANY /recordings/{recording_id}/legal-hold',
      pathParameters: { recording_id: 'r1' },
    });
    expect(() => resolveLifecycleRoute(any)).toThrow(
      expect.objectContaining({ statusCode: 405, allow: ['PUT', 'DELETE'] }),
    );
    expect(() => resolveLifecycleRoute(httpEvent({ method: 'PUT', path: '/recordings/r1/other' }))).toThrow(
      expect.objectContaining({ statusCode: 404 }),
    );
  });

  it('erasure needs a reason; it deletes at Vobiz unless also_vobiz=false; nothing else is accepted', () => {
    expect(parseEraseParams({ reason: 'DSR-1' })).toEqual({ reason: 'DSR-1', alsoVobiz: true });
    expect(parseEraseParams({ reason: 'x', also_vobiz: 'true' })).toEqual({ reason: 'x', alsoVobiz: true });
    expect(parseEraseParams({ reason: 'x', also_vobiz: 'false' })).toEqual({ reason: 'x', alsoVobiz: false });
    expect(() => parseEraseParams({})).toThrow(/reason is required: a reference such as DSR-2026-0042/);
    expect(() => parseEraseParams({ reason: 'x', also_vobiz: 'yes' })).toThrow(
      /true \(the default\) or false/,
    );
    expect(() => parseEraseParams({ reason: 'x', force: '1' })).toThrow(/unknown query parameter/);
  });

  it('a reason is a reference, never free text: 400 naming the rule', () => {
    for (const reference of ['DSR-2026-0042', 'case:2026/17', 'JIRA#123', 'a', 'x.y_z', 'A'.repeat(64)]) {
      expect(isValidReason(reference), reference).toBe(true);
      expect(parseEraseParams({ reason: reference }).reason).toBe(reference);
    }
    for (const text of [
      'customer Jane Doe asked on the phone',
      ' DSR-1',
      '-DSR',
      'A'.repeat(65),
      'a\nb',
      'call from +919876543210?',
      '',
    ]) {
      expect(isValidReason(text), text).toBe(false);
      expect(() => parseEraseParams({ reason: text })).toThrow(
        expect.objectContaining({
          statusCode: 400,
          message: expect.stringMatching(/reason must be a reference such as DSR-2026-0042 \(1 to 64/),
        }),
      );
    }
  });

  it('a hold takes an optional JSON body with a reason, a reference too', () => {
    expect(parseHoldBody(httpEvent({ method: 'PUT', path: '/', body: '' }))).toEqual({});
    expect(parseHoldBody(httpEvent({ method: 'PUT', path: '/', body: '{"reason":"case-7"}' }))).toEqual({
      reason: 'case-7',
    });
    for (const body of ['nope', '[]', '{"reason":5}', '{"why":"x"}', '{"reason":"case 7 about Jane"}'])
      expect(() => parseHoldBody(httpEvent({ method: 'PUT', path: '/', body }))).toThrow(
        expect.objectContaining({ statusCode: 400 }),
      );
  });
});

describe('who acted (the IAM authorizer context of API Gateway)', () => {
  const withIam = (iam: unknown) => {
    const event = httpEvent({ method: 'DELETE', path: '/recordings/r1' });
    (event.requestContext as unknown as Record<string, unknown>).authorizer = { iam };
    return event;
  };
  const ROLE = 'arn:aws:sts::123456789012:assumed-role/console-admin/CognitoIdentityCredentials';
  const POOL = 'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123';

  it('a console user: the assumed role, the identity id and the user pool subject', () => {
    expect(
      callerOf(
        withIam({
          accessKey: 'ASIA1',
          accountId: '123456789012',
          callerId: 'AROA1:CognitoIdentityCredentials',
          cognitoIdentity: {
            amr: ['authenticated', POOL, `${POOL}:CognitoSignIn:5f0c1a2b-0000-4000-8000-000000000001`],
            identityId: 'eu-west-1:7d3c0000-0000-4000-8000-000000000002',
            identityPoolId: 'eu-west-1:pool',
          },
          principalOrgId: null,
          userArn: ROLE,
          userId: 'AROA1:CognitoIdentityCredentials',
        }),
      ),
    ).toEqual({
      arn: ROLE,
      cognito_identity_id: 'eu-west-1:7d3c0000-0000-4000-8000-000000000002',
      user_sub: '5f0c1a2b-0000-4000-8000-000000000001',
    });
  });

  it('an IAM user or role: the ARN alone; a request without an authorizer (local stack): said so', () => {
    expect(callerOf(withIam({ userArn: 'arn:aws:iam::1:user/dpo', cognitoIdentity: null }))).toEqual({
      arn: 'arn:aws:iam::1:user/dpo',
    });
    expect(callerOf(httpEvent({ method: 'DELETE', path: '/recordings/r1' }))).toEqual({
      arn: 'unsigned request (local stack)',
    });
  });

  it('ignores what is not a sign-in entry, and never reads headers', () => {
    const event = withIam({
      userArn: ROLE,
      cognitoIdentity: { amr: ['authenticated', POOL, 'graph.facebook.com'], identityId: 'eu-west-1:x' },
    });
    event.headers['x-local-cognito-sub'] = 'spoofed';
    expect(callerOf(event)).toEqual({ arn: ROLE, cognito_identity_id: 'eu-west-1:x' });
  });
});

describe('lifecycle configuration (the local stack and the functions)', () => {
  const base = { TABLE_NAME: 't', BUCKET_NAME: 'b' };
  it('refuses a delete at Vobiz later than retention, naming both', () => {
    expect(() =>
      readLifecycleSettings({ ...base, VOBIZ_DELETE_AFTER_DAYS: '31', RETENTION_DAYS: '30' }),
    ).toThrow(
      expect.objectContaining({
        constructor: ConfigError,
        message: expect.stringMatching(
          /VOBIZ_DELETE_AFTER_DAYS \(31\) must not be longer than RETENTION_DAYS \(30\)/,
        ),
      }),
    );
    expect(
      readLifecycleSettings({ ...base, VOBIZ_DELETE_AFTER_DAYS: '30', RETENTION_DAYS: '30' })
        .vobizDeleteAfterMs,
    ).toBe(30 * 86_400_000);
    expect(readLifecycleSettings({ ...base, VOBIZ_DELETE_AFTER_DAYS: '400' }).retentionMs).toBeUndefined();
  });
});

describe('operator command arguments', () => {
  it('vobiz-cleanup: --older-than in days or hours, --dry-run, --limit, --concurrency', () => {
    expect(parseVobizCleanupArgs([])).toMatchObject({ olderThanMs: 0, dryRun: false, concurrency: 8 });
    expect(
      parseVobizCleanupArgs(['--older-than', '30d', '--dry-run', '--limit', '10', '--concurrency', '2']),
    ).toMatchObject({
      olderThanMs: 30 * 86_400_000,
      dryRun: true,
      limit: 10,
      concurrency: 2,
    });
    expect(parseDuration('12h', '--x')).toBe(12 * 3_600_000);
    for (const argv of [['--older-than', '30'], ['--older-than', '-1d'], ['--limit', '0'], ['extra']])
      expect(() => parseVobizCleanupArgs(argv)).toThrow(UsageError);
  });

  it('erase: exactly one selector; ids repeat and are deduplicated; deletes at Vobiz unless --keep-vobiz', () => {
    expect(parseEraseArgs(['--id', 'a', '--id', 'b', '--id', 'a', '--reason', 'DSR-1'])).toMatchObject({
      recordingIds: ['a', 'b'],
      alsoVobiz: true,
      dryRun: false,
      reason: 'DSR-1',
    });
    // --also-vobiz is the default now, still accepted.
    expect(parseEraseArgs(['--id', 'a', '--also-vobiz', '--reason', 'DSR-1'])).toMatchObject({
      alsoVobiz: true,
    });
    expect(parseEraseArgs(['--id', 'a', '--keep-vobiz', '--reason', 'DSR-1'])).toMatchObject({
      alsoVobiz: false,
    });
    expect(parseEraseArgs(['--number', '+919800000000', '--reason', 'DSR-2'])).toMatchObject({
      number: '+919800000000',
    });
    expect(parseEraseArgs(['--call-uuid', 'c-1', '--dry-run'])).toMatchObject({
      callUuid: 'c-1',
      dryRun: true,
      reason: undefined,
    });
    for (const argv of [
      ['--reason', 'DSR'],
      ['--id', 'a', '--call-uuid', 'c', '--reason', 'DSR'],
      ['--call-uuid', 'c/1', '--reason', 'DSR'],
      ['a', '--reason', 'DSR'],
      ['--id', 'a', '--keep-vobiz', '--also-vobiz', '--reason', 'DSR'],
    ])
      expect(() => parseEraseArgs(argv)).toThrow(UsageError);
  });

  it('erase: --reason is required (unless --dry-run) and is a reference, as the API wants', () => {
    expect(() => parseEraseArgs(['--id', 'a'])).toThrow(
      /--reason is required: a reference such as DSR-2026-0042/,
    );
    expect(() => parseEraseArgs(['--id', 'a', '--reason', 'Jane asked by phone'])).toThrow(
      /--reason must be a reference/,
    );
    expect(() => parseEraseArgs(['--id', 'a', '--dry-run', '--reason', 'free text'])).toThrow(UsageError);
  });
});
