import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isValidReason, REASON_RULE } from '../../functions/shared/domain/audit.js';
import { AUDIT_EXPORT_COLUMNS, RECORDING_EXPORT_COLUMNS } from '../../functions/shared/domain/export.js';
import { parseTimeBound, TIME_BOUND_FORMS } from '../../functions/shared/domain/time-bound.js';
import { DEFAULT_LOCAL_PORT, stackNameOf, type Target } from './targets.js';

export type { Output } from './output.js';
export { createProgress } from './output.js';

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

/**
 * The options every command shares: where it acts (`--stage`, `--local [--port]`, `--region`,
 * `--profile`), `--json` and `--help`. Described once, in TARGET_HELP.
 */
const TARGET_OPTIONS = {
  stage: { type: 'string' },
  local: { type: 'boolean', default: false },
  port: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Which targets a command accepts: any, a deployed stage only, or a stage it cannot do without. */
export type TargetRule = 'any' | 'aws' | 'stage' | 'stage-or-local';

/** The shared options, as each usage text ends with them (`aws`: commands for a deployed stage only). */
export function targetHelp(rule: TargetRule = 'any'): string {
  const where =
    rule === 'aws' || rule === 'stage'
      ? `--stage <name>${rule === 'aws' ? '' : ' (required)'}; --region R, --profile P (as in the AWS CLI); --json.
  --stage reads what the command needs from the stage's stack outputs (DescribeStacks on
  VobizRecordingArchive-<name>, or the outputs file deploy wrote).`
      : `--stage <name> | --local [--port N]; --region R, --profile P (as in the AWS CLI); --json.
  --stage reads what the command needs (table, bucket, secret, API URL) from the stage's stack outputs;
  --local acts on the running local stack (npm start; default port 3000).`;
  return `Target options: ${where}
  Environment variables (TABLE_NAME, BUCKET_NAME, VOBIZ_SECRET_ARN or VOBIZ_AUTH_ID + VOBIZ_AUTH_TOKEN,
  USER_POOL_ID, ARCHIVE_API_URL) override the stage's outputs. --json prints one JSON document on
  stdout; progress and notes go to stderr. Exit codes: 0 done, 1 failed, 2 usage.`;
}

const TARGET_HELP = targetHelp();

export interface CommonArgs {
  table: string | undefined;
  region: string | undefined;
  help: boolean;
  json: boolean;
  target: Target;
}

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/** Parses a command line with the shared options added; positionals are allowed, the caller checks them. */
export function parseCommandLine(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  rule: TargetRule = 'any',
) {
  const { values, positionals } = parse(argv, { ...TARGET_OPTIONS, ...options });
  const help = values.help === true;
  const common = { help, json: values.json === true, region: str(values.region) };
  if (help) return { values, positionals, ...common, target: { kind: 'environment' } as Target };
  return { values, positionals, ...common, target: targetOf(values, rule) };
}

function targetOf(values: Record<string, unknown>, rule: TargetRule): Target {
  const stage = str(values.stage);
  const local = values.local === true;
  const port = str(values.port);
  const region = str(values.region);
  const profile = str(values.profile);
  if (stage !== undefined && local) throw new UsageError('give --stage or --local, not both');
  if (port !== undefined && !local) throw new UsageError('--port goes with --local');
  if (local) {
    if (rule === 'aws' || rule === 'stage')
      throw new UsageError('--local is not supported by this command: it acts on a deployed stage');
    if (region !== undefined || profile !== undefined)
      throw new UsageError('--region and --profile do not apply to the local stack');
    const number = port === undefined ? DEFAULT_LOCAL_PORT : Number(port);
    if (!Number.isInteger(number) || number < 1 || number > 65_535)
      throw new UsageError(`--port must be a port number (1-65535), got "${port}"`);
    return { kind: 'local', port: number };
  }
  const aws = { ...(region ? { region } : {}), ...(profile ? { profile } : {}) };
  if (stage !== undefined) {
    if (!STAGE_PATTERN.test(stage))
      throw new UsageError(`--stage must be lowercase letters, digits and dashes (max 20), got "${stage}"`);
    return { kind: 'stage', stage, stackName: stackNameOf(stage), ...aws };
  }
  if (rule === 'stage') throw new UsageError('give the stage: --stage <name>');
  if (rule === 'stage-or-local') throw new UsageError('give --stage <name> or --local');
  return { kind: 'environment', ...aws };
}

export interface BackfillArgs extends CommonArgs {
  sinceMs: number;
  untilMs: number | undefined;
  dryRun: boolean;
}

export const BACKFILL_USAGE = `Usage: vobiz-archive backfill --since <date> [--until <date>] [--dry-run] [--table <name>] [target options]

Lists the recordings of the Vobiz account between --since and --until (default: now) and enqueues, as
pending, every one the archive does not have; each new record starts the archive worker, which archives
them (archiveConcurrency at a time). Safe to run again.
Dates: 2026-01-01 (UTC; --until includes that whole day), 2026-01-01T12:00:00Z (Z or an offset
required), or epoch milliseconds with 12 to 15 digits.
Needs: the table (TableName; --table or TABLE_NAME), the Vobiz credentials (the stage's secret, or
VOBIZ_AUTH_ID + VOBIZ_AUTH_TOKEN) and VOBIZ_API_BASE_URL (default https://api.vobiz.ai).
${TARGET_HELP}`;

export function parseBackfillArgs(argv: readonly string[], nowMs: number): BackfillArgs {
  const { values, positionals, ...common } = parseCommandLine(argv, {
    since: { type: 'string' },
    until: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    table: { type: 'string' },
  });
  const args = { ...common, table: str(values.table), sinceMs: 0, untilMs: undefined, dryRun: false };
  if (common.help) return args;
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const since = str(values.since);
  if (!since) throw new UsageError('--since is required');
  const sinceMs = parseTime(since, '--since', 'lower');
  const until = str(values.until);
  const untilMs = until === undefined ? undefined : parseTime(until, '--until', 'upper');
  if (sinceMs > nowMs) throw new UsageError('--since is in the future');
  if (untilMs !== undefined && untilMs < sinceMs) throw new UsageError('--until is before --since');
  return { ...args, sinceMs, untilMs, dryRun: values['dry-run'] === true };
}

export interface RetryArgs extends CommonArgs {
  recordingIds: string[];
  allFailed: boolean;
  dryRun: boolean;
}

export const RETRY_USAGE = `Usage: vobiz-archive retry <recording_id> [<recording_id> ...] [--table <name>] [target options]
       vobiz-archive retry --all-failed [--dry-run] [--table <name>] [target options]

Puts failed recordings back in the queue (status pending, attempts 0, due now); the re-drive archives
them within a minute. Records that are not failed are left alone. --all-failed finds them through the
status index, with progress on stderr.
Needs: the table (TableName; --table or TABLE_NAME).
${TARGET_HELP}`;

export function parseRetryArgs(argv: readonly string[]): RetryArgs {
  const { values, positionals, ...common } = parseCommandLine(argv, {
    'all-failed': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    table: { type: 'string' },
  });
  const args: RetryArgs = {
    ...common,
    table: str(values.table),
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

export const VOBIZ_CLEANUP_USAGE = `Usage: vobiz-archive vobiz-cleanup [--older-than 30d] [--dry-run] [--retry-blocked] [--limit N] [--concurrency N]
                                   [--table <name>] [--bucket <name>] [target options]

Deletes at Vobiz the recordings this archive holds a verified copy of, to stop paying Vobiz for their
storage. For every stored recording whose add_time is older than --older-than (default 0d: all) and that
is not deleted at Vobiz yet, it checks the S3 version, its size and SHA-256 (S3's checksum, or the audio
read back for recordings archived before checksums), then calls Delete a Recording. Recordings on legal
hold are skipped; a failed verification keeps the recording at Vobiz and is reported (blocked: later
runs skip it unless --retry-blocked). Every deletion is audited. --dry-run verifies and reports,
deleting nothing. Safe to run again.
Needs: the table and bucket (TableName, BucketName; --table/--bucket or TABLE_NAME/BUCKET_NAME), the
Vobiz credentials (the stage's secret, or VOBIZ_AUTH_ID + VOBIZ_AUTH_TOKEN), LIFECYCLE_ACTOR (who to
record in the audit trail; default your AWS identity).
${TARGET_HELP}`;

export function parseVobizCleanupArgs(argv: readonly string[]): VobizCleanupArgs {
  const { values, positionals, ...common } = parseCommandLine(argv, {
    'older-than': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'retry-blocked': { type: 'boolean', default: false },
    limit: { type: 'string' },
    concurrency: { type: 'string' },
    table: { type: 'string' },
    bucket: { type: 'string' },
  });
  const args: VobizCleanupArgs = {
    ...common,
    table: str(values.table),
    bucket: str(values.bucket),
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

export const ERASE_USAGE = `Usage: vobiz-archive erase (--id <recording_id> [--id …] | --call-uuid <uuid> | --number <phone>)
                           --reason <reference> [--keep-vobiz | --also-vobiz] [--dry-run]
                           [--table <name>] [--bucket <name>] [target options]

Erases recordings for good (a data-protection request): every version of the audio is deleted, the
record is replaced by a tombstone without personal data (id, time, reason, who), so that neither a late
callback nor the backfill sweep archives it again, and the recording is deleted at Vobiz too (if Vobiz
fails now, the scheduled lifecycle run retries it). --number matches calls from or to that number, with
or without "+"; with --call-uuid or --number, Vobiz's Bulk Delete is asked for the same filter too (it
removes what was never archived, asynchronously). --keep-vobiz keeps Vobiz's copy (--also-vobiz, the
default now, is still accepted). --reason is required (except with --dry-run): a reference such as
DSR-2026-0042, 1 to 64 letters, digits and . _ : / # -, never free text (it is kept in the audit trail).
Recordings on legal hold are refused. --dry-run lists what would be erased. This cannot be undone. One
line per recording and progress on stderr.
Needs: the table and bucket (TableName, BucketName; --table/--bucket or TABLE_NAME/BUCKET_NAME); unless
--keep-vobiz the Vobiz credentials (the stage's secret, or VOBIZ_AUTH_ID + VOBIZ_AUTH_TOKEN);
LIFECYCLE_ACTOR (who to record; default your AWS identity).
${TARGET_HELP}`;

export function parseEraseArgs(argv: readonly string[]): EraseArgs {
  const { values, positionals, ...common } = parseCommandLine(argv, {
    id: { type: 'string', multiple: true },
    'call-uuid': { type: 'string' },
    number: { type: 'string' },
    'keep-vobiz': { type: 'boolean', default: false },
    'also-vobiz': { type: 'boolean', default: false },
    'dry-run': { type: 'boolean', default: false },
    reason: { type: 'string' },
    table: { type: 'string' },
    bucket: { type: 'string' },
  });
  const ids = ((values.id as string[] | undefined) ?? []).map((id) => id.trim()).filter(Boolean);
  const args: EraseArgs = {
    ...common,
    table: str(values.table),
    bucket: str(values.bucket),
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

export const LIFECYCLE_INDEX_USAGE = `Usage: vobiz-archive lifecycle-index [--dry-run] [--table <name>] [target options]

Once, after upgrading a stack that archived recordings before the lifecycle existed (or before legal
holds were indexed): puts those stored records into the lifecycle's indexes (expiry, and due for the
delete at Vobiz), held records into the legal-hold index that destroy reads, and expired records still
at Vobiz (expired before retention implied the delete there) back in line for it. Held records are left
out of expiry, as the lifecycle leaves them. Idempotent; one pass over the stored and expired records,
with progress on stderr.
Needs: the table (TableName; --table or TABLE_NAME).
${TARGET_HELP}`;

export interface LifecycleIndexArgs extends CommonArgs {
  dryRun: boolean;
}

export function parseLifecycleIndexArgs(argv: readonly string[]): LifecycleIndexArgs {
  const { values, positionals, ...common } = parseCommandLine(argv, {
    'dry-run': { type: 'boolean', default: false },
    table: { type: 'string' },
  });
  if (positionals.length > 0 && !common.help) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return { ...common, table: str(values.table), dryRun: values['dry-run'] === true };
}

function parse(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Breaks a long comma list into lines of at most `width` characters, continuation lines indented. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width - (lines.length === 0 ? 28 : indent.length)) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** The console's groups (infra/console.ts): what each may do is in docs/guides/console-admins.md. */
export const CONSOLE_GROUPS = ['reviewers', 'admins'] as const;
export type ConsoleGroup = (typeof CONSOLE_GROUPS)[number];

export const CONSOLE_USER_USAGE = `Usage: vobiz-archive console-user add <email> [--group reviewers|admins] [--user-pool-id <id>] [target options]
       vobiz-archive console-user remove <email> [--user-pool-id <id>] [target options]
       vobiz-archive console-user list [--user-pool-id <id>] [target options]

add     creates the user (Cognito e-mails a temporary password; it expires after 3 days) and puts them
        in the group (default reviewers: search, play, download; admins also: legal hold, erasure, audit).
        For an existing user it only changes the group.
remove  deletes the user; their signed-in sessions end when their credentials expire (at most 1 hour).
list    shows every user with their status, group and sub (the id the API access log names them by).
Needs: the user pool (UserPoolId; --user-pool-id or USER_POOL_ID); its id names its region.
${targetHelp('aws')}`;

export const QUERY_USAGE = `Usage: vobiz-archive query [GET] <path> [--all] [--csv | --jsonl] [--api-url <url>] [target options]

Calls the archive's HTTP API, signed with your AWS credentials (SigV4; the local stack needs no
signature), and prints the answer for people: a table of recordings or audit entries, one recording's
fields, or the audio link alone on stdout (to pipe: curl -o rec.mp3 "$(vobiz-archive query …)").
--json prints the API's JSON document as it came. --all follows next_cursor through every page
(progress on stderr). --csv and --jsonl print the items, page by page as they arrive: CSV with the
columns below (a cell that a spreadsheet would run as a formula is prefixed with '), JSON Lines with
every field of each item.
  e.g. vobiz-archive query --stage prod '/recordings?from_number=%2B919876543210&since=2026-01-01'
       vobiz-archive query --stage prod /recordings/<recording_id>/audio
       vobiz-archive query --stage prod '/recordings?status=failed' --all --csv > failed.csv
CSV columns, recordings: ${wrap(RECORDING_EXPORT_COLUMNS.join(', '), 100, '  ')}
CSV columns, audit entries: ${wrap(AUDIT_EXPORT_COLUMNS.join(', '), 100, '  ')}
Needs: the API URL (ApiUrl; --api-url or ARCHIVE_API_URL).
${TARGET_HELP}`;

export const DOCTOR_USAGE = `Usage: vobiz-archive doctor (--stage <name> | --local [--port N]) [--region R] [--profile P] [--json]

Says whether a stage (or the local stack) works: each check with what it saw and, when it fails, the
one thing to do. Checks: the stack's state; the Vobiz secret is set, not the placeholder, and accepted
by Vobiz (one List call, limit 1); the webhook answers an unsigned POST with 401 within 3 s; the archive
worker's stream mapping is enabled and its dead-letter queue empty; recordings pending for more than 10
minutes and failed ones (by-status index, bounded reads); alarms in ALARM; the last backfill sweep and
lifecycle run are recent (their heartbeats); reserved concurrency fits the account's limit. Locally,
the checks that exist there (no alarms, no account limits).
--json prints {"ok": bool, "checks": [{"name", "ok", "detail", "fix"}]}.
Exit codes: 0 every check holds, 1 otherwise, 2 usage.
${targetHelp('stage-or-local')}`;

export const SET_SECRET_USAGE = `Usage: vobiz-archive set-secret --stage <name> [--auth-id <id>] [--skip-check] [--no-recycle]
                                [--region R] [--profile P] [--json]

Puts your Vobiz Auth ID and Auth Token into the stage's secret. On a terminal it asks for them (the
token without echo); otherwise it reads them from stdin: JSON {"auth_id", "auth_token",
"parent_auth_token"?} or lines (auth id, auth token, optional parent auth token). It checks them with
one Vobiz call (List All Recordings, limit 1) before writing (--skip-check writes without asking
Vobiz), refuses the placeholder the stack wrote, then recycles every function that holds the token so
that warm containers read the new value at once (--no-recycle leaves them: they re-read it within 5
minutes), and prints the callback URL to give Vobiz.
The local stack has no secret: it reads VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN from its environment when
it starts (npm start), so --local is refused.
${targetHelp('stage')}`;

export const DEPLOY_USAGE = `Usage: vobiz-archive deploy --stage <name> [-c key=value ...] [--yes] [--allow-replacement <LogicalId> ...]
                            [--keep-change-set] [--region R] [--profile P] [--json]

Deploys the stage as a CloudFormation change set that is inspected before it runs: it refuses (exit 1,
naming the resource) when the change set would replace or remove a stateful resource (S3 bucket,
DynamoDB table, Cognito user or identity pool, KMS key, Secrets Manager secret), and deletes that change
set (--keep-change-set keeps it for inspection). Otherwise it executes it, waits with progress on
stderr, and sets a stack policy that denies Update:Replace and Update:Delete on those resources, so
that no later deploy (a plain cdk deploy included) can replace them. --allow-replacement lets one named
resource be replaced or removed, once, on purpose. Then it writes the stage's outputs to
.vobiz-archive/<stage>.outputs.json (which the other commands read) and prints what to do next.
Settings: -c key=value as cdk deploy takes them, over context.stages.<stage> in cdk.json (see the
settings reference). --yes approves IAM changes without asking (for scripts).
${targetHelp('stage')}`;

export const DESTROY_USAGE = `Usage: vobiz-archive destroy --stage <name> [--yes] [--region R] [--profile P] [--json]

Deletes the stage's stack. It refuses while any recording is on legal hold (found through the
legal-hold index), then says what goes and what stays: a throwaway stage (dev, test, ci, or
throwaway=true) deletes its table, its audio bucket with every recording, and its logs; any other stage
keeps them (they remain in the account, and a new deploy of the stage does not adopt them). It asks you
to type the stage name (--yes skips that, for scripts; without a terminal --yes is required).
${targetHelp('stage')}`;
