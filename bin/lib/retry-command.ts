import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { DynamoRecoveryRepository } from '../../functions/shared/adapters/dynamo-recovery.js';
import { required } from '../../functions/shared/config.js';
import { systemClock } from '../../functions/shared/ingest/ports.js';
import { makeRetryFailed } from '../../functions/shared/recovery/retry-failed.js';
import type { CommandIo } from './command.js';
import { parseRetryArgs, RETRY_USAGE } from './cli.js';
import { checkRecordingIds, HELP, setUp } from './command.js';

const RESULT_TEXT = {
  reset: 'queued again (pending, due now)',
  not_failed: 'not failed: left alone',
  missing: 'not found',
} as const;

/**
 * `npm run retry`: puts `failed` records back in the queue, one by id or all of them (found through
 * the status index). Exit code 0 when every named record was reset, 1 otherwise, 2 usage/configuration.
 */
export async function runRetryCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
): Promise<number> {
  const setup = setUp('retry', RETRY_USAGE, io, () => {
    const args = parseRetryArgs(argv);
    if (args.help) return HELP;
    checkRecordingIds(args.recordingIds);
    return { args, tableName: args.table ?? required(env, 'TABLE_NAME') };
  });
  if (!setup.ok) return setup.exitCode;
  const { args, tableName } = setup.value;

  const dynamo = new DynamoDBClient({ region: args.region ?? env.AWS_REGION });
  const retry = makeRetryFailed({
    failed: new DynamoRecoveryRepository(createDocumentClient(dynamo), tableName),
    clock: io.clock ?? systemClock,
  });
  try {
    if (args.allFailed) {
      const summary = await retry.all({
        dryRun: args.dryRun,
        onRecord: (id, result) =>
          io.stderr.write(
            `${id}: ${result === 'error' ? 'error (try again)' : args.dryRun ? 'would be queued again' : RESULT_TEXT[result]}\n`,
          ),
      });
      io.stdout.write(
        `${args.dryRun ? 'would reset' : 'reset'}  ${summary.reset}\nskipped      ${summary.skipped}\nerrors       ${summary.errors}\n`,
      );
      return summary.errors === 0 ? 0 : 1;
    }
    let allReset = true;
    for (const id of args.recordingIds) {
      const result = await retry.one(id);
      io.stdout.write(`${id}: ${RESULT_TEXT[result]}\n`);
      allReset &&= result === 'reset';
    }
    return allReset ? 0 : 1;
  } finally {
    dynamo.destroy();
  }
}
