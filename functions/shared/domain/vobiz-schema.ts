import { z } from 'zod';
import type { VobizRecording } from './recording.js';
import { RECORDING_ID_PATTERN } from './recording.js';

/** Vobiz sends several numbers as decimal strings (`"10080.00000"`); accept both forms. */
const decimal = z.union([
  z.number().finite(),
  z
    .string()
    .trim()
    .regex(/^-?\d+(\.\d+)?$/, 'expected a decimal number')
    .transform(Number),
]);
const nullableDecimal = z
  .union([decimal, z.null()])
  .optional()
  .transform((v) => v ?? null);

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

const timestamp = z.string().transform((value, ctx) => {
  const ms = parseVobizTimestamp(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `unrecognised timestamp "${value.slice(0, 40)}"` });
    return z.NEVER;
  }
  return ms;
});

const text = z.string();
const nullableText = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) => v ?? null);
const integer = decimal.pipe(z.number().int());

export const RetrieveRecordingResponseSchema = z.object({
  recording_id: z.string().regex(RECORDING_ID_PATTERN, 'recording_id has an unexpected format'),
  api_id: text.optional().default(''),
  add_time: timestamp,
  call_uuid: text,
  conference_name: nullableText,
  from_number: text,
  to_number: text,
  monthly_recording_storage_amount: decimal.optional().default(0),
  recording_duration_ms: decimal,
  recording_start_ms: nullableDecimal,
  recording_end_ms: nullableDecimal,
  recording_format: z
    .string()
    .transform((v) => v.toLowerCase())
    .pipe(z.enum(['mp3', 'wav'])),
  recording_storage_duration: integer.optional().default(0),
  recording_storage_rate: decimal.optional().default(0),
  recording_type: text,
  recording_url: z.string().min(1),
  resource_uri: text.optional().default(''),
  rounded_recording_duration: integer.optional().default(0),
});

export type RetrieveRecordingResponse = z.input<typeof RetrieveRecordingResponseSchema>;

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
