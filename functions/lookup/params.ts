// zod/mini: the same schemas as `zod`, tree-shakable, so the bundle carries only what it uses.
import * as z from 'zod/mini';
import type { $ZodIssue } from 'zod/v4/core';
import { ValidationError } from '../shared/domain/errors.js';
import {
  RECORDING_ID_PATTERN,
  RECORDING_STATUSES,
  normalizePhoneNumber,
  type RecordingStatus,
} from '../shared/domain/recording.js';
import { parseTimeBound, TIME_BOUND_FORMS } from '../shared/domain/time-bound.js';
import { AUDIT_ACTIONS, type AuditAction } from '../shared/domain/audit.js';
import type { AuditListQuery, ListFilter, RecordingListQuery } from '../shared/ports/recording-queries.js';

export const DEFAULT_LIMIT = 25;
export const MAX_LIMIT = 100;
function instant(bound: 'since' | 'until') {
  return z.pipe(
    z.string(),
    z.transform((value, ctx) => {
      const ms = parseTimeBound(value, bound);
      if (ms === undefined) {
        ctx.issues.push({ code: 'custom', input: value, message: `must be ${TIME_BOUND_FORMS}` });
        return z.NEVER;
      }
      return ms;
    }),
  );
}

const phoneNumber = z.pipe(
  z
    .string()
    .check(
      z.regex(
        /^[+ ]?\d{6,20}$/,
        'must be a phone number in international form, like +919876543210 or 919876543210',
      ),
    ),
  z.transform(normalizePhoneNumber),
);

const limitMessage = `must be an integer between 1 and ${MAX_LIMIT}`;

/** `limit` and `cursor`, shared by every paginated route. */
const pageFields = {
  limit: z.optional(
    z.pipe(
      z.pipe(z.string().check(z.regex(/^\d{1,3}$/, limitMessage)), z.transform(Number)),
      z.number().check(z.refine((n) => n >= 1 && n <= MAX_LIMIT, limitMessage)),
    ),
  ),
  cursor: z.optional(z.string().check(z.minLength(1, 'must not be empty'))),
};

function checkTimeOrder(
  params: { since?: number; until?: number },
  ctx: { addIssue(issue: { code: 'custom'; input: unknown; path: string[]; message: string }): void },
): void {
  if (params.since !== undefined && params.until !== undefined && params.since > params.until)
    ctx.addIssue({ code: 'custom', input: params, path: ['since'], message: 'must not be after until' });
}

const ListParamsSchema = z
  .strictObject({
    call_uuid: z.optional(
      z
        .string()
        .check(
          z.regex(
            /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/,
            'must be a call UUID (letters, digits, - and _, at most 128)',
          ),
        ),
    ),
    from_number: z.optional(phoneNumber),
    to_number: z.optional(phoneNumber),
    since: z.optional(instant('since')),
    until: z.optional(instant('until')),
    status: z.optional(
      z.enum(RECORDING_STATUSES as [RecordingStatus, ...RecordingStatus[]], {
        message: `must be one of ${RECORDING_STATUSES.join(', ')}`,
      }),
    ),
    ...pageFields,
  })
  .check(
    z.superRefine((params, ctx) => {
      const filters = (['call_uuid', 'from_number', 'to_number'] as const).filter(
        (name) => params[name] !== undefined,
      );
      if (filters.length > 1) {
        ctx.addIssue({
          code: 'custom',
          input: params,
          message: `use at most one of call_uuid, from_number, to_number (got ${filters.join(' and ')})`,
        });
      }
      checkTimeOrder(params, ctx);
    }),
  );

export interface ListParams {
  query: RecordingListQuery;
  limit: number;
  cursor?: string;
  /** A canonical form of the query (not of the page size): cursors are bound to it. */
  binding: string;
}

/** Validates the query string of `GET /recordings`; every problem is reported in one 400 message. */
export function parseListParams(raw: Record<string, string>): ListParams {
  const parsed = ListParamsSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(describeIssues(parsed.error.issues));
  const p = parsed.data;
  let filter: ListFilter | undefined;
  if (p.call_uuid !== undefined) filter = { kind: 'call', callUuid: p.call_uuid };
  else if (p.from_number !== undefined) filter = { kind: 'from', digits: p.from_number };
  else if (p.to_number !== undefined) filter = { kind: 'to', digits: p.to_number };
  const query: RecordingListQuery = { filter, status: p.status, sinceMs: p.since, untilMs: p.until };
  const filterValue = filter?.kind === 'call' ? filter.callUuid : filter?.digits;
  const binding = JSON.stringify([
    filter?.kind ?? null,
    filterValue ?? null,
    p.status ?? null,
    p.since ?? null,
    p.until ?? null,
  ]);
  return { query, limit: p.limit ?? DEFAULT_LIMIT, cursor: p.cursor, binding };
}

const AuditParamsSchema = z
  .strictObject({
    since: z.optional(instant('since')),
    until: z.optional(instant('until')),
    action: z.optional(
      z.enum(AUDIT_ACTIONS as [AuditAction, ...AuditAction[]], {
        message: `must be one of ${AUDIT_ACTIONS.join(', ')}`,
      }),
    ),
    recording_id: z.optional(
      z
        .string()
        .check(
          z.regex(
            RECORDING_ID_PATTERN,
            'must be a recording id (1–128 letters, digits, "-" or "_", starting with a letter or digit)',
          ),
        ),
    ),
    ...pageFields,
  })
  .check(
    z.superRefine((params, ctx) => {
      checkTimeOrder(params, ctx);
    }),
  );

export interface AuditParams {
  query: AuditListQuery;
  limit: number;
  cursor?: string;
  binding: string;
}

/**
 * Validates the query string of `GET /audit` (the same rules as `/recordings` for since, until, limit,
 * cursor); `recording_id` narrows it to one recording's entries.
 */
export function parseAuditParams(raw: Record<string, string>): AuditParams {
  const parsed = AuditParamsSchema.safeParse(raw);
  if (!parsed.success)
    throw new ValidationError(
      describeIssues(parsed.error.issues, 'since, until, action, recording_id, limit, cursor'),
    );
  const p = parsed.data;
  return {
    query: { action: p.action, recordingId: p.recording_id, sinceMs: p.since, untilMs: p.until },
    limit: p.limit ?? DEFAULT_LIMIT,
    cursor: p.cursor,
    binding: JSON.stringify([
      'audit',
      p.action ?? null,
      p.since ?? null,
      p.until ?? null,
      ...(p.recording_id === undefined ? [] : [p.recording_id]),
    ]),
  };
}

function describeIssues(
  issues: readonly $ZodIssue[],
  allowed = 'call_uuid, from_number, to_number, since, until, status, limit, cursor',
): string {
  return [...issues]
    .sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'))
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `unknown query parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (allowed: ${allowed})`;
      }
      const name = issue.path.map(String).join('.');
      return name ? `${name} ${issue.message}` : issue.message;
    })
    .join('; ');
}

/**
 * A download file name: letters, digits, `.`, `_`, `-` and `+`, starting with a letter or digit, at
 * most 200 characters. Nothing that needs quoting in a `Content-Disposition` header, no path.
 */
export const AUDIO_FILENAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

const AudioParamsSchema = z.strictObject({
  download: z.optional(z.enum(['1', 'true', '0', 'false'], { message: 'must be true or false (or 1 or 0)' })),
  filename: z.optional(
    z
      .string()
      .check(
        z.regex(
          AUDIO_FILENAME_PATTERN,
          'must be 1–200 letters, digits, ".", "_", "-" or "+", starting with a letter or digit',
        ),
      ),
  ),
});

export interface AudioParams {
  /** Serve the audio as a file download (`Content-Disposition: attachment`). */
  download: boolean;
  /** The file name to download as; implies `download`. */
  filename?: string;
}

/** Validates the query string of `GET /recordings/{id}/audio`. */
export function parseAudioParams(raw: Record<string, string>): AudioParams {
  const parsed = AudioParamsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationError(
      parsed.error.issues
        .map((issue) =>
          issue.code === 'unrecognized_keys'
            ? `unknown query parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (allowed: download, filename)`
            : `${issue.path.map(String).join('.')} ${issue.message}`,
        )
        .join('; '),
    );
  }
  const { download, filename } = parsed.data;
  return {
    download: filename !== undefined || download === '1' || download === 'true',
    ...(filename === undefined ? {} : { filename }),
  };
}
