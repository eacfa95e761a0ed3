/**
 * Time bounds given by people (`since`/`until` of the lookup API, `--since`/`--until` of the backfill
 * command): one rule for both, so the same text means the same instant everywhere.
 */

/** The largest epoch ms the 15-digit time sort key can hold (year 33658). */
export const MAX_TIME_MS = 10 ** 15 - 1;

/** What `parseTimeBound` accepts, for error messages. */
export const TIME_BOUND_FORMS =
  'an ISO-8601 date-time with Z or an offset (2025-01-15T10:30:00Z), a UTC date (2025-01-15) or epoch milliseconds with 12 to 15 digits (1736937000000)';

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+\- ])(\d{2})(?::?(\d{2}))?))?$/;
/**
 * Epoch milliseconds must have 12–15 digits (from 1973-03-03 on). Shorter numbers are refused rather than
 * guessed at: `2025` and `20251101` look like dates, ten digits like epoch seconds, and read as
 * milliseconds all of them would silently mean 1970.
 */
const EPOCH_MS = /^[1-9]\d{11,14}$/;
const DAY_MS = 86_400_000;

/**
 * A bound given as ISO-8601 with `Z` or an offset, as a UTC date (the whole day: `since` from its first
 * millisecond, `until` to its last), or as epoch milliseconds (see EPOCH_MS). Sub-millisecond digits
 * round inwards (`since` up, `until` down), so inclusive bounds stay exact on millisecond timestamps. A
 * space where the offset sign belongs is read as `+`: an unescaped `+` in a query string decodes to one.
 * Anything else, and anything before 1970, is undefined.
 */
export function parseTimeBound(value: string, bound: 'since' | 'until'): number | undefined {
  const ms = EPOCH_MS.test(value) ? Number(value) : parseIso(value, bound);
  return ms === undefined || ms < 0 || ms > MAX_TIME_MS ? undefined : ms;
}

function parseIso(value: string, bound: 'since' | 'until'): number | undefined {
  const m = ISO_INSTANT.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [
    m[1],
    m[2],
    m[3],
    m[4] ?? '0',
    m[5] ?? '0',
    m[6] ?? '0',
  ].map(Number) as [number, number, number, number, number, number];
  const dateOnly = m[4] === undefined;
  const fraction = (m[7] ?? '').padEnd(9, '0');
  if (year < 1000 || month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, Number(fraction.slice(0, 3)));
  // Date.UTC rolls 30 February over into March; a real date survives the round trip.
  if (new Date(local).getUTCDate() !== day) return undefined;
  if (dateOnly) return bound === 'since' ? local : local + DAY_MS - 1;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11] ?? '0');
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const subMillisecond = Number(fraction.slice(3)) > 0 && bound === 'since' ? 1 : 0;
  return local - offsetMinutes * 60_000 + subMillisecond;
}
