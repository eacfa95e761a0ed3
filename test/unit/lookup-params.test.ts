import { describe, expect, it } from 'vitest';
import { parseInstant, parseListParams } from '../../functions/lookup/params.js';
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
    const base = { to_number: '+919876543210', since: '1000', until: '2000', status: 'stored' };
    const binding = parseListParams(base).binding;
    expect(parseListParams({ ...base, limit: '5' }).binding).toBe(binding);
    for (const change of [
      { status: 'failed' },
      { since: '1001' },
      { until: '1999' },
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

  it('reports every problem in one message', () => {
    expect(() => parseListParams({ limit: '0', status: 'x', bogus: '1' })).toThrow(
      /^unknown query parameter bogus .*; (?=.*status must be one of)(?=.*limit must be an integer)/,
    );
  });
});

describe('parseInstant', () => {
  const ms = Date.UTC(2025, 0, 15, 10, 30, 0, 123);
  it.each([
    ['2025-01-15T10:30:00.123Z', ms],
    ['2025-01-15t10:30:00.123z', ms],
    ['2025-01-15T16:00:00.123+05:30', ms],
    ['2025-01-15T16:00:00.123+0530', ms],
    ['2025-01-15T05:30:00.123-05', ms],
    ['2025-01-15T16:00:00.123 05:30', ms],
    ['2025-01-15T10:30:00,123Z', ms],
    ['2025-01-15T10:30Z', ms - 123],
    [String(ms), ms],
    ['0', 0],
  ])('reads %s', (value, expected) => {
    expect(parseInstant(value, 'until')).toBe(expected);
  });

  it('rounds sub-millisecond digits inwards: since up, until down', () => {
    expect(parseInstant('2025-01-15T10:30:00.1230001Z', 'since')).toBe(ms + 1);
    expect(parseInstant('2025-01-15T10:30:00.1239999Z', 'until')).toBe(ms);
    expect(parseInstant('2025-01-15T10:30:00.123000Z', 'since')).toBe(ms);
  });

  it.each([
    '2025-02-29T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-01-01T24:00:00Z',
    '2025-01-01T00:60:00Z',
    '2025-01-01T00:00:00+24:00',
    '2025-01-01T00:00:00',
    '2025-02-30',
    'now',
    '-1',
    '',
  ])('rejects %s', (value) => {
    expect(parseInstant(value, 'until')).toBeUndefined();
  });

  it('reads a date alone as the whole UTC day', () => {
    expect(parseInstant('2025-01-15', 'since')).toBe(Date.UTC(2025, 0, 15));
    expect(parseInstant('2025-01-15', 'until')).toBe(Date.UTC(2025, 0, 16) - 1);
  });

  it('accepts 29 February in a leap year', () => {
    expect(parseInstant('2024-02-29T00:00:00Z', 'until')).toBe(Date.UTC(2024, 1, 29));
  });
});
