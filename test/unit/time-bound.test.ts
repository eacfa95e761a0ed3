import { describe, expect, it } from 'vitest';
import { parseTimeBound } from '../../functions/shared/domain/time-bound.js';

describe('parseTimeBound', () => {
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
    ['100000000000', 100_000_000_000],
    ['999999999999999', 999_999_999_999_999],
  ])('reads %s', (value, expected) => {
    expect(parseTimeBound(value, 'until')).toBe(expected);
  });

  it('rounds sub-millisecond digits inwards: since up, until down', () => {
    expect(parseTimeBound('2025-01-15T10:30:00.1230001Z', 'since')).toBe(ms + 1);
    expect(parseTimeBound('2025-01-15T10:30:00.1239999Z', 'until')).toBe(ms);
    expect(parseTimeBound('2025-01-15T10:30:00.123000Z', 'since')).toBe(ms);
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
    '0',
    '1',
    '2025',
    '20251101',
    '1762436939',
    '99999999999',
    '012345678901',
    '1000000000000000',
    ' 1762436950751',
    '1969-12-31T23:59:59Z',
  ])('rejects %s', (value) => {
    expect(parseTimeBound(value, 'until')).toBeUndefined();
  });

  it('reads a date alone as the whole UTC day', () => {
    expect(parseTimeBound('2025-01-15', 'since')).toBe(Date.UTC(2025, 0, 15));
    expect(parseTimeBound('2025-01-15', 'until')).toBe(Date.UTC(2025, 0, 16) - 1);
  });

  it('accepts 29 February in a leap year', () => {
    expect(parseTimeBound('2024-02-29T00:00:00Z', 'until')).toBe(Date.UTC(2024, 1, 29));
  });
});
