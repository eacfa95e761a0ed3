// zod/mini: the same schemas as `zod`, tree-shakable, so each function bundle carries only what it uses.
import * as z from 'zod/mini';
import type { VobizRecording } from './recording.js';
import { RECORDING_ID_PATTERN } from './recording.js';

/** Vobiz sends several numbers as decimal strings (`"10080.00000"`); accept both forms. */
const decimal = z.union([
  z.number(),
  z.pipe(
    z.string().check(z.trim(), z.regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number')),
    z.transform(Number),
  ),
]);
const orNull = <T>(value: T | null | undefined): T | null => value ?? null;
const nullableDecimal = z.pipe(z.optional(z.nullable(decimal)), z.transform(orNull));

/**
 * `2025-11-06 13:49:10.751756+00:00` (space, microseconds, offset). Also accepts ISO-8601 with `T`/`Z`.
 * Returns epoch ms; sub-millisecond digits are truncated.
 */
export function parseVobizTimestamp(value: string): number | undefined {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
    value.trim(),
  );
  if (!match) return undefined;
  const [, date, time, fraction = '', zone = 'Z'] = match;
  const millis = fraction.padEnd(3, '0').slice(0, 3);
  const offset =
    zone === 'Z'
      ? 'Z'
      : zone.length === 3
        ? `${zone}:00`
        : zone.includes(':')
          ? zone
          : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const ms = Date.parse(`${date}T${time}.${millis}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

const timestamp = z.pipe(
  z.string(),
  z.transform((value, ctx) => {
    const ms = parseVobizTimestamp(value);
    if (ms === undefined) {
      ctx.issues.push({
        code: 'custom',
        message: `unrecognised timestamp "${value.slice(0, 40)}"`,
        input: value,
      });
      return z.NEVER;
    }
    return ms;
  }),
);

const text = z.string();
const nullableText = z.pipe(z.optional(z.nullable(z.string())), z.transform(orNull));
const integer = z.pipe(decimal, z.int());

export const RetrieveRecordingResponseSchema = z.object({
  recording_id: z.string().check(z.regex(RECORDING_ID_PATTERN, 'recording_id has an unexpected format')),
  api_id: z._default(text, ''),
  add_time: timestamp,
  call_uuid: text,
  conference_name: nullableText,
  from_number: text,
  to_number: text,
  monthly_recording_storage_amount: z._default(decimal, 0),
  recording_duration_ms: decimal,
  recording_start_ms: nullableDecimal,
  recording_end_ms: nullableDecimal,
  recording_format: z.pipe(
    z.pipe(
      z.string(),
      z.transform((v) => v.toLowerCase()),
    ),
    z.enum(['mp3', 'wav']),
  ),
  recording_storage_duration: z._default(integer, 0),
  recording_storage_rate: z._default(decimal, 0),
  recording_type: text,
  recording_url: z.string().check(z.minLength(1)),
  resource_uri: z._default(text, ''),
  rounded_recording_duration: z._default(integer, 0),
});

/** Parses a Retrieve Recording body (or one `objects[]` entry of List All Recordings) into our typed shape. */
export function parseVobizRecording(
  body: unknown,
): { ok: true; value: VobizRecording } | { ok: false; error: string } {
  const result = RetrieveRecordingResponseSchema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    return { ok: false, error: issues.join('; ') };
  }
  const { add_time, ...rest } = result.data;
  return { ok: true, value: { ...rest, add_time: new Date(add_time).toISOString(), add_time_ms: add_time } };
}
