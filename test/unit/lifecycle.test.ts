import { describe, expect, it } from 'vitest';
import { parseDuration, parseEraseArgs, parseVobizCleanupArgs, UsageError } from '../../bin/lib/cli.js';
import { parseEraseParams, parseHoldBody } from '../../functions/lifecycle-api/app.js';
import { resolveLifecycleRoute } from '../../functions/lifecycle-api/routes.js';
import { auditKeys, renderAudit } from '../../functions/shared/domain/audit.js';
import { indexAttributes, tombstone, toItem } from '../../functions/shared/domain/recording.js';
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

  it('held: in neither; deleted at Vobiz or blocked: not in VDEL#; expiring: only in expiry; others: in neither', () => {
    const held = indexAttributes({ ...stored, legal_hold: true });
    expect(held.gsi_due_pk).toBeUndefined();
    expect(held.gsi_exp_pk).toBeUndefined();
    expect(
      indexAttributes({ ...stored, vobiz_deleted_at: '2026-02-01T00:00:00Z' }).gsi_due_pk,
    ).toBeUndefined();
    expect(indexAttributes({ ...stored, vobiz_delete_blocked: 'size' }).gsi_due_pk).toBeUndefined();
    const expiring = indexAttributes({ ...stored, status: 'expiring' });
    expect([expiring.gsi_due_pk, expiring.gsi_exp_pk?.slice(0, 4)]).toEqual([undefined, 'EXP#']);
    for (const status of ['expired', 'failed', 'erasing'] as const) {
      const keys = indexAttributes({ ...stored, status });
      expect([keys.gsi_due_pk, keys.gsi_exp_pk], status).toEqual([undefined, undefined]);
    }
  });

  it('a tombstone carries no personal data and is listed under status=erased only', () => {
    const grave = tombstone({
      recordingId: 'r1',
      erasureId: 'e1',
      erasedAt: '2026-03-01T00:00:00.000Z',
      reason: 'DSR-1',
      erasedBy: 'arn:aws:iam::1:user/dpo',
    });
    expect(toItem(grave)).toEqual({
      pk: 'REC#r1',
      sk: 'REC',
      recording_id: 'r1',
      status: 'erased',
      erasure_id: 'e1',
      erased_at: '2026-03-01T00:00:00.000Z',
      erasure_reason: 'DSR-1',
      erased_by: 'arn:aws:iam::1:user/dpo',
      updated_at: '2026-03-01T00:00:00.000Z',
      gsi_status_pk: expect.stringMatching(/^STATUS#erased#[0-7]$/),
      gsi_time_sk: `${String(Date.parse('2026-03-01T00:00:00.000Z')).padStart(15, '0')}#r1`,
    });
  });

  it('audit entries live in AUDIT#<0-3> sorted by time, and render without their keys', () => {
    const entry = {
      audit_id: 'a'.repeat(32),
      time: '2026-03-01T00:00:00.000Z',
      action: 'erase' as const,
      recording_id: 'r1',
      actor: 'system',
      outcome: 'done' as const,
    };
    expect(auditKeys(entry)).toEqual({
      pk: expect.stringMatching(/^AUDIT#[0-3]$/),
      sk: `${String(Date.parse(entry.time)).padStart(15, '0')}#${'a'.repeat(32)}`,
    });
    expect(renderAudit({ ...entry, ...auditKeys(entry) })).toEqual(entry);
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

  it('erasure needs a reason; also_vobiz is true or false; nothing else is accepted', () => {
    expect(parseEraseParams({ reason: ' DSR-1 ' })).toEqual({ reason: 'DSR-1', alsoVobiz: false });
    expect(parseEraseParams({ reason: 'x', also_vobiz: 'true' })).toEqual({ reason: 'x', alsoVobiz: true });
    expect(() => parseEraseParams({})).toThrow(/reason is required/);
    expect(() => parseEraseParams({ reason: 'x', also_vobiz: 'yes' })).toThrow(/true or false/);
    expect(() => parseEraseParams({ reason: 'x', force: '1' })).toThrow(/unknown query parameter/);
    expect(() => parseEraseParams({ reason: 'a'.repeat(201) })).toThrow(/1 to 200/);
    expect(() => parseEraseParams({ reason: 'a\nb' })).toThrow(/control characters/);
  });

  it('a hold takes an optional JSON body with a reason', () => {
    expect(parseHoldBody(httpEvent({ method: 'PUT', path: '/', body: '' }))).toEqual({});
    expect(parseHoldBody(httpEvent({ method: 'PUT', path: '/', body: '{"reason":"case 7"}' }))).toEqual({
      reason: 'case 7',
    });
    for (const body of ['nope', '[]', '{"reason":5}', '{"why":"x"}'])
      expect(() => parseHoldBody(httpEvent({ method: 'PUT', path: '/', body }))).toThrow(
        expect.objectContaining({ statusCode: 400 }),
      );
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

  it('erase: exactly one selector; ids repeat and are deduplicated', () => {
    expect(parseEraseArgs(['--id', 'a', '--id', 'b', '--id', 'a', '--also-vobiz'])).toMatchObject({
      recordingIds: ['a', 'b'],
      alsoVobiz: true,
      dryRun: false,
      reason: expect.stringMatching(/operator/),
    });
    expect(parseEraseArgs(['--number', '+91 98000 00000'.replace(/ /g, '')])).toMatchObject({
      number: '+919800000000',
    });
    expect(parseEraseArgs(['--call-uuid', 'c-1', '--dry-run', '--reason', 'DSR'])).toMatchObject({
      callUuid: 'c-1',
      dryRun: true,
      reason: 'DSR',
    });
    for (const argv of [[], ['--id', 'a', '--call-uuid', 'c'], ['--call-uuid', 'c/1'], ['a']])
      expect(() => parseEraseArgs(argv)).toThrow(UsageError);
  });
});
