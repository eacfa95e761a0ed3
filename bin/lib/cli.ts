import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isValidReason, REASON_RULE } from '../../functions/shared/domain/audit.js';
import { parseTimeBound, TIME_BOUND_FORMS } from '../../functions/shared/domain/time-bound.js';

/** A mistake on the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The lookup API's rule for `since`/`until` (see `parseTimeBound`), with `--until` a date's last millisecond. */
export function parseTime(value: string, flag: string, bound: 'lower' | 'upper'): number {
  const ms = parseTimeBound(value.trim(), bound === 'lower' ? 'since' : 'until');
  if (ms === undefined) throw new UsageError(`${flag}: expected ${TIME_BOUND_FORMS}, got "${value}"`);
  return ms;
}

export interface CommonArgs {
  table: string | undefined;
  region: string | undefined;
  help: boolean;
}

export interface BackfillArgs extends CommonArgs {
  sinceMs: number;
  untilMs: number | undefined;
  dryRun: boolean;
}

export const BACKFILL_USAGE = `Usage: npm run backfill -- --since <date> [--until <date>] [--dry-run] [--table <name>] [--region <region>]

Lists the recordings of the Vobiz account between --since and --until (default: now) and enqueues, as
pending, every one the archive does not have; each new record starts the archive worker, which archives
them (archiveConcurrency at a time). Safe to run again.
Dates: 2026-01-01 (UTC; --until includes that whole day), 2026-01-01T12:00:00Z (Z or an offset
required), or epoch milliseconds with 12 to 15 digits.
Environment: VOBIZ_AUTH_ID + VOBIZ_AUTH_TOKEN (or VOBIZ_SECRET_ARN), TABLE_NAME (or --table),
VOBIZ_API_BASE_URL, AWS credentials (AWS_ENDPOINT_URL_DYNAMODB for the local stack).`;

export function parseBackfillArgs(argv: readonly string[], nowMs: number): BackfillArgs {
  const { values, positionals } = parse(argv, {
    since: { type: 'string' },
    until: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    table: { type: 'string' },
    region: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const common = { table: str(values.table), region: str(values.region), help: values.help === true };
  if (common.help) return { ...common, sinceMs: 0, untilMs: undefined, dryRun: false };
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const since = str(values.since);
  if (!since) throw new UsageError('--since is required');
  const sinceMs = parseTime(since, '--since', 'lower');
  const until = str(values.until);
  const untilMs = until === undefined ? undefined : parseTime(until, '--until', 'upper');
  if (sinceMs > nowMs) throw new UsageError('--since is in the future');
  if (untilMs !== undefined && untilMs < sinceMs) throw new UsageError('--until is before --since');
  return { ...common, sinceMs, untilMs, dryRun: values['dry-run'] === true };
}

export interface RetryArgs extends CommonArgs {
  recordingIds: string[];
  allFailed: boolean;
  dryRun: boolean;
}

export const RETRY_USAGE = `Usage: npm run retry -- <recording_id> [<recording_id> ...] [--table <name>] [--region <region>]
       npm run retry -- --all-failed [--dry-run] [--table <name>] [--region <region>]

Puts failed recordings back in the queue (status pending, attempts 0, due now); the re-drive archives
them within a minute. Records that are not failed are left alone.
Environment: TABLE_NAME (or --table), AWS credentials (AWS_ENDPOINT_URL_DYNAMODB for the local stack).`;

export function parseRetryArgs(argv: readonly string[]): RetryArgs {
  const { values, positionals } = parse(argv, {
    'all-failed': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    table: { type: 'string' },
    region: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const args: RetryArgs = {
    table: str(values.table),
    region: str(values.region),
    help: values.help === true,
    recordingIds: [...new Set(positionals)],
    allFailed: values['all-failed'] === true,
    dryRun: values['dry-run'] === true,
  };
  if (args.help) return args;
  if (args.allFailed && args.recordingIds.length > 0)
    throw new UsageError('give recording ids or --all-failed, not both');
  if (!args.allFailed && args.recordingIds.length === 0)
    throw new UsageError('give at least one recording id, or --all-failed');
  if (args.dryRun && !args.allFailed) throw new UsageError('--dry-run goes with --all-failed');
  return args;
}

/** `30d`, `12h`, `0d`: a duration in days or hours. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d{1,5})([dh])$/.exec(value.trim());
  if (!match) throw new UsageError(`${flag}: expected a duration like 30d or 12h, got "${value}"`);
  return Number(match[1]) * (match[2] === 'd' ? 86_400_000 : 3_600_000);
}

function positiveInt(value: string | undefined, flag: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`${flag} must be an integer from 1 to ${max}`);
  return n;
}

export interface StorageArgs extends CommonArgs {
  bucket: string | undefined;
}

export interface VobizCleanupArgs extends StorageArgs {
  olderThanMs: number;
  dryRun: boolean;
  /** Verify again the recordings an earlier verification kept at Vobiz. */
  retryBlocked: boolean;
  limit: number | undefined;
  concurrency: number;
}

export const VOBIZ_CLEANUP_USAGE = `Usage: npm run vobiz-cleanup -- [--older-than 30d] [--dry-run] [--retry-blocked] [--limit N] [--concurrency N]
                              [--table <name>] [--bucket <name>] [--region <region>]

Deletes at Vobiz the recordings this archive holds a verified copy of, to stop paying Vobiz for their
storage. For every stored recording whose add_time is older than --older-than (default 0d: all) and that
is not deleted at Vobiz yet, it checks the S3 version, its size and SHA-256 (S3's checksum, or the audio
read back for recordings archived before checksums), then calls Delete a Recording. Recordings on legal
hold are skipped; a failed verification keeps the recording at Vobiz and is reported (blocked: later
runs skip it unless --retry-blocked). Every deletion is audited. --dry-run verifies and reports,
deleting nothing. Safe to run again.
Environment: VOBIZ_AUTH_ID + VOBIZ_AUTH_TOKEN (or VOBIZ_SECRET_ARN), TABLE_NAME (or --table),
BUCKET_NAME (or --bucket), VOBIZ_API_BASE_URL, AWS credentials (AWS_ENDPOINT_URL_DYNAMODB and
AWS_ENDPOINT_URL_S3 for the local stack), LIFECYCLE_ACTOR (who to record in the audit trail).`;

export function parseVobizCleanupArgs(argv: readonly string[]): VobizCleanupArgs {
  const { values, positionals } = parse(argv, {
    'older-than': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'retry-blocked': { type: 'boolean', default: false },
    limit: { type: 'string' },
    concurrency: { type: 'string' },
    table: { type: 'string' },
    bucket: { type: 'string' },
    region: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const args: VobizCleanupArgs = {
    table: str(values.table),
    bucket: str(values.bucket),
    region: str(values.region),
    help: values.help === true,
    olderThanMs: 0,
    dryRun: values['dry-run'] === true,
    retryBlocked: values['retry-blocked'] === true,
    limit: undefined,
    concurrency: 8,
  };
  if (args.help) return args;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const olderThan = str(values['older-than']);
  if (olderThan !== undefined) args.olderThanMs = parseDuration(olderThan, '--older-than');
  args.limit = positiveInt(str(values.limit), '--limit', 10_000_000);
  args.concurrency = positiveInt(str(values.concurrency), '--concurrency', 64) ?? 8;
  return args;
}

export interface EraseArgs extends StorageArgs {
  recordingIds: string[];
  callUuid: string | undefined;
  number: string | undefined;
  /** Delete at Vobiz too (the default); false with --keep-vobiz. */
  alsoVobiz: boolean;
  dryRun: boolean;
  /** A reference (REASON_PATTERN); required unless --dry-run. */
  reason: string | undefined;
}

export const ERASE_USAGE = `Usage: npm run erase -- (--id <recording_id> [--id …] | --call-uuid <uuid> | --number <phone>)
                      --reason <reference> [--keep-vobiz | --also-vobiz] [--dry-run]
                      [--table <name>] [--bucket <name>] [--region <region>]

Erases recordings for good (a data-protection request): every version of the audio is deleted, the
record is replaced by a tombstone without personal data (id, time, reason, who), so that neither a late
callback nor the backfill sweep archives it again, and the recording is deleted at Vobiz too (if Vobiz
fails now, the scheduled lifecycle run retries it). --number matches calls from or to that number, with
or without "+"; with --call-uuid or --number, Vobiz's Bulk Delete is asked for the same filter too (it
removes what was never archived, asynchronously). --keep-vobiz keeps Vobiz's copy (--also-vobiz, the
default now, is still accepted). --reason is required (except with --dry-run): a reference such as
DSR-2026-0042, 1 to 64 letters, digits and . _ : / # -, never free text (it is kept in the audit trail).
Recordings on legal hold are refused. --dry-run lists what would be erased. This cannot be undone.
Environment: TABLE_NAME (or --table), BUCKET_NAME (or --bucket), AWS credentials; unless --keep-vobiz,
VOBIZ_AUTH_ID + VOBIZ_AUTH_TOKEN (or VOBIZ_SECRET_ARN); LIFECYCLE_ACTOR (who to record).`;

export function parseEraseArgs(argv: readonly string[]): EraseArgs {
  const { values, positionals } = parse(argv, {
    id: { type: 'string', multiple: true },
    'call-uuid': { type: 'string' },
    number: { type: 'string' },
    'keep-vobiz': { type: 'boolean', default: false },
    'also-vobiz': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    reason: { type: 'string' },
    table: { type: 'string' },
    bucket: { type: 'string' },
    region: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  const ids = ((values.id as string[] | undefined) ?? []).map((id) => id.trim()).filter(Boolean);
  const args: EraseArgs = {
    table: str(values.table),
    bucket: str(values.bucket),
    region: str(values.region),
    help: values.help === true,
    recordingIds: [...new Set(ids)],
    callUuid: str(values['call-uuid']),
    number: str(values.number),
    alsoVobiz: values['keep-vobiz'] !== true,
    dryRun: values['dry-run'] === true,
    reason: str(values.reason),
  };
  if (args.help) return args;
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}"; ids go after --id`);
  const selectors = [args.recordingIds.length > 0, args.callUuid !== undefined, args.number !== undefined];
  if (selectors.filter(Boolean).length !== 1)
    throw new UsageError('give exactly one of --id (repeatable), --call-uuid, --number');
  if (values['keep-vobiz'] === true && values['also-vobiz'] === true)
    throw new UsageError('--keep-vobiz and --also-vobiz contradict each other; give one');
  if (args.callUuid !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/.test(args.callUuid))
    throw new UsageError('--call-uuid must be a call UUID (letters, digits, - and _)');
  if (args.number !== undefined && !/^[+ ]?\d{6,20}$/.test(args.number))
    throw new UsageError(
      '--number must be a phone number in international form, like +919876543210 or 919876543210',
    );
  if (args.reason === undefined && !args.dryRun) throw new UsageError(`--reason is required: ${REASON_RULE}`);
  if (args.reason !== undefined && !isValidReason(args.reason))
    throw new UsageError(`--reason must be ${REASON_RULE}`);
  return args;
}

export const LIFECYCLE_INDEX_USAGE = `Usage: npm run lifecycle-index -- [--dry-run] [--table <name>] [--region <region>]

Once, after upgrading a stack that archived recordings before the lifecycle existed: puts those stored
records into the lifecycle's indexes (expiry, and due for the delete at Vobiz), so that retention and the
scheduled delete at Vobiz see them; and puts expired records still at Vobiz (expired before retention
implied the delete there) back in line for it. Held records are left out, as the lifecycle leaves them.
Idempotent; one pass over the stored and expired records.
Environment: TABLE_NAME (or --table), AWS credentials (AWS_ENDPOINT_URL_DYNAMODB for the local stack).`;

export function parseLifecycleIndexArgs(argv: readonly string[]): CommonArgs & { dryRun: boolean } {
  const { values, positionals } = parse(argv, {
    'dry-run': { type: 'boolean', default: false },
    table: { type: 'string' },
    region: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (positionals.length > 0 && values.help !== true)
    throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return {
    table: str(values.table),
    region: str(values.region),
    help: values.help === true,
    dryRun: values['dry-run'] === true,
  };
}

function parse(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** The smallest interface of a stream the commands write to (process.stdout/stderr, or a test buffer). */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Progress on stderr: a redrawn bar on a terminal, an occasional plain line otherwise (logs, CI), so
 * that redirected output never fills with carriage returns.
 */
export function createProgress(out: Output, options: { everyLines?: number } = {}) {
  let updates = 0;
  let drawn = false;
  return {
    update(fraction: number, label: string): void {
      updates++;
      if (out.isTTY) {
        const width = Math.max(10, Math.min(40, (out.columns ?? 80) - label.length - 10));
        const clamped = Math.max(0, Math.min(1, fraction));
        const filled = Math.round(clamped * width);
        out.write(
          `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(clamped * 100)).padStart(3)}% ${label}\x1b[K`,
        );
        drawn = true;
      } else if (updates % (options.everyLines ?? 10) === 1) {
        out.write(`${label}\n`);
      }
    },
    done(): void {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
