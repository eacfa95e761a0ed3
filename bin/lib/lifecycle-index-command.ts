import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient } from '../../functions/shared/adapters/aws-clients.js';
import { DynamoLifecycleRepository } from '../../functions/shared/adapters/dynamo-lifecycle.js';
import { required } from '../../functions/shared/config.js';
import type { CommandIo } from './command.js';
import { createProgress, LIFECYCLE_INDEX_USAGE, parseLifecycleIndexArgs } from './cli.js';
import { HELP, setUp } from './command.js';

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
  const setup = setUp('lifecycle-index', LIFECYCLE_INDEX_USAGE, io, () => {
    const args = parseLifecycleIndexArgs(argv);
    if (args.help) return HELP;
    return { args, tableName: args.table ?? required(env, 'TABLE_NAME') };
  });
  if (!setup.ok) return setup.exitCode;
  const { args, tableName } = setup.value;
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
        `examined ${examined} stored and expired records, ${args.dryRun ? 'would index' : 'indexed'} ${indexed}`,
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
