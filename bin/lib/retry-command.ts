import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { DynamoRecoveryRepository } from '../../functions/shared/adapters/dynamo-recovery.js';
import { required } from '../../functions/shared/config.js';
import { systemClock } from '../../functions/shared/ingest/ports.js';
import { makeRetryFailed } from '../../functions/shared/recovery/retry-failed.js';
import { parseRetryArgs, RETRY_USAGE } from './cli.js';
import {
  checkRecordingIds,
  HELP,
  setUp,
  storageEnv,
  targetEnv,
  type CommandIo,
  wantsJson,
} from './command.js';
import { createProgress, formatRows, writeResult } from './output.js';
import { awsConfig } from './targets.js';

const RESULT_TEXT = {
  reset: 'queued again (pending, due now)',
  not_failed: 'not failed: left alone',
  missing: 'not found',
} as const;

/**
 * `vobiz-archive retry`: puts `failed` records back in the queue, one by id or all of them (found
 * through the status index, with progress). Exit code 0 when every named record was reset, 1 otherwise,
 * 2 usage/configuration.
 */
export async function runRetryCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
): Promise<number> {
  const setup = await setUp(
    'retry',
    RETRY_USAGE,
    io,
    async () => {
      const args = parseRetryArgs(argv);
      if (args.help) return HELP;
      checkRecordingIds(args.recordingIds);
      const { env: resolved } = await targetEnv(args.target, storageEnv(env, args), ['TableName'], io);
      return { args, env: resolved, tableName: required(resolved, 'TABLE_NAME') };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { args, tableName, env: resolved } = setup.value;

  const dynamo = new DynamoDBClient(awsConfig(resolved, 'dynamodb'));
  const retry = makeRetryFailed({
    failed: new DynamoRecoveryRepository(createDocumentClient(dynamo), tableName),
    clock: io.clock ?? systemClock,
  });
  try {
    if (args.allFailed) {
      const progress = createProgress(io.stderr);
      let examined = 0;
      const results: { recording_id: string; result: string }[] = [];
      const summary = await retry.all({
        dryRun: args.dryRun,
        onRecord: (id, result) => {
          examined++;
          results.push({
            recording_id: id,
            result: args.dryRun && result === 'reset' ? 'would_reset' : result,
          });
          progress.note(
            `${id}: ${result === 'error' ? 'error (try again)' : args.dryRun ? 'would be queued again' : RESULT_TEXT[result]}`,
          );
          progress.update(0, `examined ${examined} failed records`);
        },
      });
      progress.done();
      writeResult(
        io.stdout,
        args.json,
        {
          dry_run: args.dryRun,
          reset: summary.reset,
          skipped: summary.skipped,
          errors: summary.errors,
          results,
        },
        () =>
          formatRows([
            [args.dryRun ? 'would reset' : 'reset', summary.reset],
            ['skipped', summary.skipped],
            ['errors', summary.errors],
          ]),
      );
      return summary.errors === 0 ? 0 : 1;
    }
    const results: { recording_id: string; result: string }[] = [];
    for (const id of args.recordingIds) results.push({ recording_id: id, result: await retry.one(id) });
    writeResult(io.stdout, args.json, { results }, () =>
      results
        .map((r) => `${r.recording_id}: ${RESULT_TEXT[r.result as keyof typeof RESULT_TEXT]}\n`)
        .join(''),
    );
    return results.every((r) => r.result === 'reset') ? 0 : 1;
  } finally {
    dynamo.destroy();
  }
}
