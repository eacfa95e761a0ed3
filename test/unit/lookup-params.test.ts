import { describe, expect, it } from 'vitest';
import { parseAuditParams, parseListParams } from '../../functions/lookup/params.js';
import { ValidationError } from '../../functions/shared/domain/errors.js';

describe('parseListParams', () => {
  it('defaults to the 25 newest records of any kind', () => {
    expect(parseListParams({})).toMatchObject({ limit: 25, query: {}, cursor: undefined });
  });

  it('reduces phone numbers to digits, so +91… and 91… are the same query', () => {
    const plus = parseListParams({ from_number: '+919876543210' });
    const bare = parseListParams({ from_number: '919876543210' });
    const spaced = parseListParams({ from_number: ' 919876543210' }); // an unescaped + decodes to a space
    expect(plus.query.filter).toEqual({ kind: 'from', digits: '919876543210' });
    expect(bare.binding).toBe(plus.binding);
    expect(spaced.binding).toBe(plus.binding);
  });

  it('binds cursors to filters, window and status but not to the page size', () => {
    const base = {
      to_number: '+919876543210',
      since: '1735689600000',
      until: '1735776000000',
      status: 'stored',
    };
    const binding = parseListParams(base).binding;
    expect(parseListParams({ ...base, limit: '5' }).binding).toBe(binding);
    for (const change of [
      { status: 'failed' },
      { since: '1735689600001' },
      { until: '1735775999999' },
      { to_number: '919876543211' },
    ]) {
      expect(parseListParams({ ...base, ...change }).binding).not.toBe(binding);
    }
    expect(parseListParams({ call_uuid: '919876543210' }).binding).not.toBe(
      parseListParams({ from_number: '919876543210' }).binding,
    );
  });

  it.each([
    [{ limit: '1' }, 1],
    [{ limit: '100' }, 100],
    [{ limit: '007' }, 7],
  ])('accepts limit %o', (raw, limit) => {
    expect(parseListParams(raw).limit).toBe(limit);
  });

  it.each([
    [{ limit: '0' }, /limit must be an integer between 1 and 100/],
    [{ limit: '101' }, /limit/],
    [{ limit: '1.5' }, /limit/],
    [{ limit: '-1' }, /limit/],
    [{ limit: '' }, /limit/],
    [{ foo: '1' }, /unknown query parameter foo/],
    [{ a: '1', b: '2' }, /unknown query parameters a, b/],
    [
      { call_uuid: 'x', to_number: '919876543210' },
      /at most one of call_uuid, from_number, to_number \(got call_uuid and to_number\)/,
    ],
    [{ since: '2025-01-02T00:00:00Z', until: '2025-01-01T23:59:59.999Z' }, /since must not be after until/],
    [{ since: '2025-01-02T10:00' }, /since must be an ISO-8601 date-time/],
    [{ since: '2025-1-2' }, /since/],
    [{ until: '1e12' }, /until/],
    [{ until: '1000000000000000' }, /until/],
    // Too short to be unambiguous epoch milliseconds: a year, a compact date, epoch seconds, tiny numbers.
    [{ since: '2025' }, /^since must be an ISO-8601 date-time .* or epoch milliseconds with 12 to 15 digits/],
    [{ since: '20251101' }, /^since must be/],
    [{ until: '20251101' }, /^until must be/],
    [{ since: '1762436939' }, /^since must be/],
    [{ since: '99999999999' }, /^since must be/],
    [{ since: '1' }, /^since must be/],
    [{ until: '0' }, /^until must be/],
    [{ since: '000000000001' }, /^since must be/],
    [{ status: 'STORED' }, /status must be one of/],
    [{ from_number: '12345' }, /from_number/],
    [{ from_number: '++919876543210' }, /from_number/],
    [{ to_number: '91 9876 543210' }, /to_number/],
    [{ call_uuid: '../x' }, /call_uuid/],
    [{ call_uuid: 'a'.repeat(129) }, /call_uuid/],
  ])('rejects %o', (raw, message) => {
    expect(() => parseListParams(raw as Record<string, string>)).toThrow(ValidationError);
    expect(() => parseListParams(raw as Record<string, string>)).toThrow(message);
  });

  it('reads epoch milliseconds of 12 to 15 digits, dates and ISO date-times with an offset', () => {
    expect(parseListParams({ since: '100000000000' }).query.sinceMs).toBe(100_000_000_000);
    expect(parseListParams({ since: '1762436950751' }).query.sinceMs).toBe(1_762_436_950_751);
    expect(parseListParams({ until: '999999999999999' }).query.untilMs).toBe(999_999_999_999_999);
    expect(parseListParams({ since: '2025-11-01', until: '2025-11-01' }).query).toMatchObject({
      sinceMs: Date.UTC(2025, 10, 1),
      untilMs: Date.UTC(2025, 10, 2) - 1,
    });
    expect(parseListParams({ since: '2025-11-01T10:00:00+05:30' }).query.sinceMs).toBe(
      Date.UTC(2025, 10, 1, 4, 30),
    );
  });

  it('reports every problem in one message', () => {
    expect(() => parseListParams({ limit: '0', status: 'x', bogus: '1' })).toThrow(
      /^unknown query parameter bogus .*; (?=.*status must be one of)(?=.*limit must be an integer)/,
    );
  });
});

describe('parseAuditParams', () => {
  it('reads the window, the action and the page, and binds cursors to all but the page size', () => {
    const raw = { since: '2026-01-01', until: '2026-02-01', action: 'erase', limit: '7' };
    const params = parseAuditParams(raw);
    expect(params).toMatchObject({
      query: { action: 'erase', sinceMs: Date.parse('2026-01-01T00:00:00Z') },
      limit: 7,
    });
    expect(parseAuditParams({ ...raw, limit: '8' }).binding).toBe(params.binding);
    expect(parseAuditParams({ ...raw, action: 'legal_hold' }).binding).not.toBe(params.binding);
    expect(parseAuditParams({}).limit).toBe(25);
  });

  it('narrows to one recording with recording_id; cursors of listings without it keep working', () => {
    expect(parseAuditParams({ recording_id: 'rec_1-a', action: 'audio_link' }).query).toEqual({
      action: 'audio_link',
      recordingId: 'rec_1-a',
      sinceMs: undefined,
      untilMs: undefined,
    });
    expect(parseAuditParams({ action: 'erase' }).binding).toBe(
      JSON.stringify(['audit', 'erase', null, null]),
    );
    expect(parseAuditParams({ recording_id: 'r1' }).binding).not.toBe(parseAuditParams({}).binding);
    expect(parseAuditParams({ recording_id: 'r1' }).binding).not.toBe(
      parseAuditParams({ recording_id: 'r2' }).binding,
    );
  });

  it.each([
    [{ since: '2026-02-01', until: '2026-01-01' }, /since must not be after until/],
    [{ limit: '0' }, /limit must be an integer between 1 and 100/],
    [{ limit: '101' }, /limit must be an integer between 1 and 100/],
    [{ cursor: '' }, /cursor must not be empty/],
    [{ action: 'rewrite' }, /action must be one of/],
    [{ since: '2025' }, /since/],
    [
      { status: 'stored' },
      /unknown query parameter status \(allowed: since, until, action, recording_id, limit, cursor\)/,
    ],
    [{ recording_id: 'a/b' }, /recording_id must be a recording id/],
    [{ action: 'listen' }, /action must be one of .*retry, audio_link/],
  ])('refuses %j with a message naming the parameter', (raw, message) => {
    expect(() => parseAuditParams(raw as Record<string, string>)).toThrow(ValidationError);
    expect(() => parseAuditParams(raw as Record<string, string>)).toThrow(message);
  });
});
