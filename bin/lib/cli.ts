import { parseArgs, type ParseArgsConfig } from 'node:util';
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
pending, every one the archive does not have; the re-drive then archives them. Safe to run again.
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
