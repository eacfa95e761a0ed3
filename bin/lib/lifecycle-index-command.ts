import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { DynamoLifecycleRepository } from '../../functions/shared/adapters/dynamo-lifecycle.js';
import { ConfigError, required } from '../../functions/shared/config.js';
import type { CommandIo } from './backfill-command.js';
import { createProgress, LIFECYCLE_INDEX_USAGE, parseLifecycleIndexArgs, UsageError } from './cli.js';

/**
 * `npm run lifecycle-index`: once after upgrading a stack that archived recordings before the lifecycle
 * existed, puts those records into the lifecycle's indexes so that retention and the scheduled delete at
 * Vobiz see them. Idempotent. Exit code 0 when done, 1 when interrupted, 2 usage/configuration.
 */
export async function runLifecycleIndexCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
): Promise<number> {
  let args;
  let tableName;
  try {
    args = parseLifecycleIndexArgs(argv);
    if (args.help) {
      io.stdout.write(`${LIFECYCLE_INDEX_USAGE}\n`);
      return 0;
    }
    tableName = args.table ?? required(env, 'TABLE_NAME');
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr.write(`lifecycle-index: ${error.message}\n\n${LIFECYCLE_INDEX_USAGE}\n`);
      return 2;
    }
    throw error;
  }
  const dynamo = new DynamoDBClient({ region: args.region ?? env.AWS_REGION });
  const repository = new DynamoLifecycleRepository(createDocumentClient(dynamo), tableName);
  const progress = createProgress(io.stderr);
  let examined = 0;
  let indexed = 0;
  try {
    for await (const page of repository.indexExisting({ dryRun: args.dryRun })) {
      examined += page.examined;
      indexed += page.indexed;
      progress.update(
        0,
        `examined ${examined} stored records, ${args.dryRun ? 'would index' : 'indexed'} ${indexed}`,
      );
      if (io.signal?.aborted) break;
    }
  } finally {
    progress.done();
    dynamo.destroy();
  }
  io.stdout.write(
    `examined             ${examined}\n${args.dryRun ? 'would index' : 'indexed    '}          ${indexed}\n`,
  );
  if (io.signal?.aborted) {
    io.stderr.write('interrupted: run again to finish (it is idempotent)\n');
    return 1;
  }
  return 0;
}
