import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { systemClock } from '../../functions/shared/ingest/ports.js';
import type { SweepSummary } from '../../functions/shared/recovery/backfill-sweep.js';
import { buildBackfillSweep, readRecoverySettings } from '../../functions/redrive/dependencies.js';
import { BACKFILL_USAGE, parseBackfillArgs } from './cli.js';
import {
  commandCredentials,
  HELP,
  setUp,
  storageEnv,
  targetEnv,
  type CommandIo,
  wantsJson,
} from './command.js';
import { createProgress, formatRows, writeResult } from './output.js';
import { awsConfig } from './targets.js';

export type { CommandIo } from './command.js';

const STOP_REASONS: Record<NonNullable<SweepSummary['stoppedBy']>, string> = {
  window: 'reached --since',
  end: 'reached the end of the list',
  max_pages: 'page limit reached',
  aborted: 'interrupted: run again to finish (it is idempotent)',
  error: 'stopped by an error: run again to finish (it is idempotent)',
};

/**
 * `npm run backfill`: enqueues every recording Vobiz lists in a time window that the archive does not
 * have. It writes `pending` records only (no S3 access); the scheduled re-drive archives them.
 * Returns the process exit code: 0 done, 1 incomplete, a write failed or an entry had no usable id,
 * 2 usage/configuration.
 */
export async function runBackfillCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
): Promise<number> {
  const clock = io.clock ?? systemClock;
  const startedMs = clock.nowMs();
  const setup = await setUp(
    'backfill',
    BACKFILL_USAGE,
    io,
    async () => {
      const args = parseBackfillArgs(argv, startedMs);
      if (args.help) return HELP;
      const { env: resolved } = await targetEnv(
        args.target,
        storageEnv(env, args),
        ['TableName', 'VobizSecretArn', 'VobizApiBaseUrl'],
        io,
      );
      return { args, env: resolved, settings: readRecoverySettings(resolved) };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { args, settings, env: resolved } = setup.value;

  const credentials = await commandCredentials('backfill', resolved, io);
  if (!credentials) return 2;
  const dynamo = new DynamoDBClient(awsConfig(resolved, 'dynamodb'));
  const sweep = buildBackfillSweep(settings, credentials, credentials.authId, {
    documents: createDocumentClient(dynamo),
    clock,
  });

  const untilMs = args.untilMs;
  const topMs = Math.min(untilMs ?? startedMs, startedMs);
  const span = Math.max(1, topMs - args.sinceMs);
  const progress = createProgress(io.stderr);
  io.stderr.write(
    `backfill ${new Date(args.sinceMs).toISOString()} → ${untilMs === undefined ? 'now' : new Date(untilMs).toISOString()}` +
      ` from ${settings.vobizApiBaseUrl} into ${settings.tableName}${args.dryRun ? ' (dry run: nothing is written)' : ''}\n`,
  );
  let summary: SweepSummary;
  try {
    summary = await sweep({
      sinceMs: args.sinceMs,
      untilMs,
      dryRun: args.dryRun,
      signal: io.signal,
      onPage: (s) => {
        const reached = s.oldestSeenMs ?? topMs;
        const label = `page ${s.pages}, at ${new Date(reached).toISOString().slice(0, 16)}Z: found ${s.found}, new ${s.enqueued}`;
        progress.update((topMs - reached) / span, label);
      },
    });
  } finally {
    progress.done();
    dynamo.destroy();
  }

  const rows: [string, number | string][] = [
    ['found', summary.found],
    [args.dryRun ? 'new (would enqueue)' : 'new (enqueued)', summary.enqueued],
    ['new by id only (entry did not parse)', summary.enqueuedUnparsed],
    ['already archived', summary.alreadyArchived],
    ['already pending', summary.alreadyQueued],
    ['already failed', summary.alreadyFailed],
    ['already removed (expired or erased)', summary.alreadyRemoved],
    ['skipped (no valid recording id)', summary.unidentified],
    ['failed (writes)', summary.errors],
  ];
  const complete = summary.stoppedBy === 'window' || summary.stoppedBy === 'end';
  const { enqueuedIds: _ids, oldestSeenMs: _oldest, ...counts } = summary;
  writeResult(
    io.stdout,
    args.json,
    { ...counts, dry_run: args.dryRun, complete, table: settings.tableName },
    () => formatRows(rows),
  );
  if (summary.enqueuedUnparsed > 0)
    io.stderr.write(
      `${summary.enqueuedUnparsed} listed entries did not parse but had a valid recording id: ${args.dryRun ? 'they would be' : 'they were'} enqueued by id, and the archive reads their metadata from Retrieve Recording\n`,
    );
  if (summary.unidentified > 0) {
    const more = summary.unidentified - summary.unidentifiedIds.length;
    io.stderr.write(
      `${summary.unidentified} listed entries had no valid recording id and were skipped: ${summary.unidentifiedIds.join(', ')}${more > 0 ? ` and ${more} more` : ''}\n`,
    );
  }
  if (summary.errors > 0) io.stderr.write(`${summary.errors} records could not be written\n`);
  if (summary.alreadyFailed > 0)
    io.stderr.write('failed records are retried only on purpose: vobiz-archive retry --all-failed\n');
  io.stderr.write(
    `${summary.pages} pages, ${STOP_REASONS[summary.stoppedBy ?? 'end']}${summary.error ? ` (${summary.error})` : ''}\n`,
  );
  return complete && summary.errors === 0 && summary.unidentified === 0 ? 0 : 1;
}
