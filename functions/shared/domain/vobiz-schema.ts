// zod/mini: the same schemas as `zod`, tree-shakable, so each function bundle carries only what it uses.
import * as z from 'zod/mini';
import type { $ZodIssue } from 'zod/v4/core';
import type { VobizRecording } from './recording.js';
import { RECORDING_FORMAT_PATTERN, RECORDING_ID_PATTERN } from './recording.js';

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

/**
 * What the archive cannot work without: the id (a URL, key and log component), the audio URL, the time
 * (the S3 key's date and the listing order) and a format that can name the file.
 */
const RequiredFieldsSchema = z.object({
  recording_id: z.string().check(z.regex(RECORDING_ID_PATTERN, 'has an unexpected format')),
  recording_url: z.string().check(z.minLength(1, 'must not be empty')),
  add_time: timestamp,
  recording_format: z.pipe(
    z.pipe(
      z.string(),
      z.transform((v) => v.trim().toLowerCase()),
    ),
    z
      .string()
      .check(z.regex(RECORDING_FORMAT_PATTERN, 'cannot name a file (expected 1-10 letters or digits)')),
  ),
});

/** Vobiz sends several numbers as decimal strings (`"10080.00000"`, also `"1.008E4"`); accept both forms. */
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/**
 * Numbers we can store and read back exactly: the DynamoDB document client refuses numbers beyond ±2^53
 * (and returns them as BigInt), and DynamoDB refuses magnitudes below 1e-130.
 */
const storable = (n: number) => Math.abs(n) <= Number.MAX_SAFE_INTEGER && (n === 0 || Math.abs(n) >= 1e-130);
const decimal = z.pipe(
  z.union([z.number(), z.pipe(z.string().check(z.trim(), z.regex(DECIMAL)), z.transform(Number))]),
  z.number().check(z.refine(storable)),
);
/**
 * Strings, bounded: a few become index keys (DynamoDB allows 2 KB there, and a failed write would fail the
 * recording), and none needs more than a short line.
 */
const text = (maxLength: number) => z.string().check(z.maxLength(maxLength));
/** Documented as strings, with or without `+`; digits sent as a JSON number are the same number. */
const phoneNumber = z.union([
  text(32),
  z.pipe(z.number().check(z.refine((n) => Number.isSafeInteger(n) && n >= 0)), z.transform(String)),
]);

type RequiredField = keyof z.output<typeof RequiredFieldsSchema>;
type InformativeField = Exclude<keyof VobizRecording, RequiredField | 'add_time_ms' | 'unparsed_fields'>;

/** Every other field of the response: informative, so one that does not parse becomes `null`, never an error. */
const INFORMATIVE_FIELDS = {
  api_id: text(1024),
  call_uuid: text(128),
  conference_name: text(1024),
  from_number: phoneNumber,
  monthly_recording_storage_amount: decimal,
  recording_duration_ms: decimal,
  recording_end_ms: decimal,
  recording_start_ms: decimal,
  recording_storage_duration: decimal,
  recording_storage_rate: decimal,
  recording_type: text(1024),
  resource_uri: text(1024),
  rounded_recording_duration: decimal,
  to_number: phoneNumber,
} satisfies { [K in InformativeField]: z.ZodMiniType<NonNullable<VobizRecording[K]>> };

/** Raw values kept per unparsed field: enough to see what Vobiz sent, bounded so a record stays small. */
const MAX_RAW_CHARS = 256;

export type VobizRecordingParse =
  | {
      ok: true;
      value: VobizRecording;
      /** Names of the informative fields that were present but did not parse (for a log line: names only). */
      unparsedFields: string[];
    }
  | { ok: false; error: string };

/**
 * Parses a Retrieve Recording body (or one `objects[]` entry of List All Recordings) into our typed shape.
 * Fails only when a required field is missing or unusable; see `VobizRecording` for the rest.
 */
export function parseVobizRecording(body: unknown): VobizRecordingParse {
  const required = RequiredFieldsSchema.safeParse(body);
  if (!required.success) return { ok: false, error: describeIssues(required.error.issues) };
  const raw = body as Record<string, unknown>;
  const informative: Record<string, unknown> = {};
  const unparsed: Record<string, string> = {};
  for (const [name, schema] of Object.entries(INFORMATIVE_FIELDS)) {
    const value = raw[name];
    const parsed = value === undefined || value === null ? undefined : schema.safeParse(value);
    informative[name] = parsed?.success ? parsed.data : null;
    if (parsed && !parsed.success) unparsed[name] = rawText(value);
  }
  const { add_time, ...rest } = required.data;
  const unparsedFields = Object.keys(unparsed);
  return {
    ok: true,
    value: {
      ...(informative as Pick<VobizRecording, InformativeField>),
      ...rest,
      add_time: new Date(add_time).toISOString(),
      add_time_ms: add_time,
      unparsed_fields: unparsedFields.length > 0 ? unparsed : null,
    },
    unparsedFields,
  };
}

/** The names of the fields of a parsed recording that did not parse (what the worker logs, once). */
export function unparsedFieldNames(recording: Partial<Pick<VobizRecording, 'unparsed_fields'>>): string[] {
  return Object.keys(recording.unparsed_fields ?? {});
}

function rawText(value: unknown): string {
  return (typeof value === 'string' ? value : String(JSON.stringify(value))).slice(0, MAX_RAW_CHARS);
}

function describeIssues(issues: readonly $ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
