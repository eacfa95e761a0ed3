import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { TransientError } from '../../functions/shared/domain/errors.js';
import { monthlyStorageCost } from '../../functions/shared/domain/vobiz-cost.js';
import { systemClock } from '../../functions/shared/ingest/ports.js';
import { stopsTheRun, type VobizDeleteOutcome } from '../../functions/shared/lifecycle/delete-at-vobiz.js';
import { pool } from '../../functions/shared/lifecycle/lifecycle-run.js';
import { buildLifecycle, readLifecycleSettings } from '../../functions/shared/wiring/lifecycle.js';
import { resolveActor } from './actor.js';
import type { CommandIo } from './command.js';
import { parseVobizCleanupArgs, VOBIZ_CLEANUP_USAGE } from './cli.js';
import { commandCredentials, HELP, setUp, storageEnv, targetEnv, wantsJson } from './command.js';
import { createProgress, formatRows, writeResult } from './output.js';
import { awsConfig } from './targets.js';

export interface CleanupSummary {
  examined: number;
  deleted: number;
  alreadyAbsent: number;
  wouldDelete: number;
  skippedHeld: number;
  skipped: number;
  refused: number;
  failed: number;
  /** Monthly storage cost at Vobiz of what was deleted (or would be, in a dry run). */
  monthlyCost: number;
  /** Deleted recordings whose fields do not say what they cost. */
  costUnknown: number;
  stoppedBy?: string;
}

/** Attempts per recording when Vobiz or S3 answers 429/5xx, all workers pausing in between. */
const ATTEMPTS = 3;

/**
 * `vobiz-archive vobiz-cleanup`: the one-off delete at Vobiz of history, with the scheduled lifecycle's own
 * verification. Progress on stderr, a summary (with the monthly storage cost it removes at Vobiz) on
 * stdout. Exit code 0 when every examined recording was deleted, skipped on hold or already gone; 1 when
 * a verification failed, a deletion failed or the run was interrupted; 2 usage/configuration.
 */
export async function runVobizCleanupCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo & { pauseMs?: (attempt: number) => number },
): Promise<number> {
  const setup = await setUp(
    'vobiz-cleanup',
    VOBIZ_CLEANUP_USAGE,
    io,
    async () => {
      const args = parseVobizCleanupArgs(argv);
      if (args.help) return HELP;
      const { env: resolved } = await targetEnv(
        args.target,
        storageEnv(env, args),
        ['TableName', 'BucketName', 'VobizSecretArn', 'VobizApiBaseUrl'],
        io,
      );
      return { args, env: resolved, settings: readLifecycleSettings(resolved) };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { args, settings, env: resolved } = setup.value;
  const region = resolved.AWS_REGION;
  const credentials = await commandCredentials('vobiz-cleanup', resolved, io);
  if (!credentials) return 2;
  const clock = io.clock ?? systemClock;
  const dynamo = new DynamoDBClient(awsConfig(resolved, 'dynamodb'));
  const s3 = new S3Client(awsConfig(resolved, 's3'));
  const lifecycle = buildLifecycle(settings, credentials, {
    documents: createDocumentClient(dynamo),
    s3,
    clock,
  });
  const actor = await resolveActor(resolved, region);
  const pauseMs = io.pauseMs ?? ((attempt: number) => Math.min(60_000, 1_000 * 2 ** attempt));
  const cutoffMs = clock.nowMs() - args.olderThanMs;
  const summary: CleanupSummary = {
    examined: 0,
    deleted: 0,
    alreadyAbsent: 0,
    wouldDelete: 0,
    skippedHeld: 0,
    skipped: 0,
    refused: 0,
    failed: 0,
    monthlyCost: 0,
    costUnknown: 0,
  };
  const progress = createProgress(io.stderr);
  io.stderr.write(
    `vobiz-cleanup: recordings added before ${new Date(cutoffMs).toISOString()}, verified against ${settings.bucketName}, ` +
      `deleted at ${settings.vobizApiBaseUrl}${args.dryRun ? ' (dry run: nothing is deleted)' : ''}; audited as ${actor.arn}\n`,
  );
  let paused: Promise<void> = Promise.resolve();
  const attempt = async (id: string): Promise<VobizDeleteOutcome> => {
    for (let n = 1; ; n++) {
      await paused;
      const outcome = await lifecycle.deleteAtVobiz(id, {
        actor,
        dryRun: args.dryRun,
        retryBlocked: args.retryBlocked,
        signal: io.signal,
      });
      if (outcome.outcome !== 'deferred' || n >= ATTEMPTS || stopsTheRun(outcome.error)) return outcome;
      if (!(outcome.error instanceof TransientError)) return outcome;
      // Vobiz (or S3) is struggling: every worker waits, then this recording is tried again.
      const hinted = outcome.error.retryAfterMs ?? 0;
      paused = sleep(Math.max(pauseMs(n), hinted), undefined, { signal: io.signal }).catch(() => undefined);
    }
  };

  try {
    outer: for await (const page of lifecycle.repository.storedUntil(cutoffMs)) {
      const batch = args.limit === undefined ? page : page.slice(0, args.limit - summary.examined);
      await pool(batch, args.concurrency, async (record) => {
        if (summary.stoppedBy || io.signal?.aborted) return;
        summary.examined++;
        let outcome: VobizDeleteOutcome;
        try {
          outcome = await attempt(record.recording_id);
        } catch (error) {
          summary.failed++;
          io.stderr.write(`${record.recording_id}: error ${(error as Error).message}\n`);
          return;
        }
        const counts = () => {
          const cost = monthlyStorageCost(record);
          if (cost === undefined) summary.costUnknown++;
          else summary.monthlyCost += cost;
        };
        switch (outcome.outcome) {
          case 'deleted':
            if (outcome.vobiz === 'deleted') summary.deleted++;
            else summary.alreadyAbsent++;
            counts();
            break;
          case 'verified':
            summary.wouldDelete++;
            counts();
            break;
          case 'skipped':
            if (outcome.reason === 'held') summary.skippedHeld++;
            else summary.skipped++;
            break;
          case 'refused':
            summary.refused++;
            io.stderr.write(
              `${record.recording_id}: kept at Vobiz, verification failed: ${outcome.reason}\n`,
            );
            break;
          case 'deferred':
            summary.failed++;
            io.stderr.write(
              `${record.recording_id}: not deleted (${outcome.error.message}); run again later\n`,
            );
            if (stopsTheRun(outcome.error)) summary.stoppedBy = outcome.error.message;
            break;
        }
        progress.update(
          args.limit === undefined ? 0 : summary.examined / args.limit,
          `examined ${summary.examined}, ${args.dryRun ? `would delete ${summary.wouldDelete}` : `deleted ${summary.deleted + summary.alreadyAbsent}`}, held ${summary.skippedHeld}, refused ${summary.refused}, failed ${summary.failed}`,
        );
      });
      if (
        summary.stoppedBy ||
        io.signal?.aborted ||
        (args.limit !== undefined && summary.examined >= args.limit)
      )
        break outer;
    }
  } finally {
    progress.done();
    dynamo.destroy();
    s3.destroy();
  }

  const rows: [string, number | string][] = [
    ['examined', summary.examined],
    ...(args.dryRun
      ? ([['would delete at Vobiz', summary.wouldDelete]] as [string, number][])
      : ([
          ['deleted at Vobiz', summary.deleted],
          ['already gone at Vobiz (404)', summary.alreadyAbsent],
        ] as [string, number][])),
    ['skipped: legal hold', summary.skippedHeld],
    ['skipped: no longer stored, or blocked earlier', summary.skipped],
    ['kept: verification failed', summary.refused],
    ['failed (run again)', summary.failed],
  ];
  const costLine =
    `Vobiz storage cost ${args.dryRun ? 'this would remove' : 'removed'}: ${summary.monthlyCost.toFixed(4)} per month` +
    ` (account currency; recording_storage_rate × rounded minutes, or monthly_recording_storage_amount where Vobiz states it` +
    `${summary.costUnknown > 0 ? `; ${summary.costUnknown} without those fields not counted` : ''})\n`;
  writeResult(
    io.stdout,
    args.json,
    { dry_run: args.dryRun, ...summary, monthlyCost: Number(summary.monthlyCost.toFixed(4)) },
    () => formatRows(rows) + costLine,
  );
  if (summary.stoppedBy) io.stderr.write(`stopped early: ${summary.stoppedBy}\n`);
  if (io.signal?.aborted) io.stderr.write('interrupted: run again to finish (it is idempotent)\n');
  const clean = summary.refused === 0 && summary.failed === 0 && !summary.stoppedBy && !io.signal?.aborted;
  return clean ? 0 : 1;
}
