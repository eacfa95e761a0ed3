import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { RecoveryRunSummary } from '../functions/redrive/handler.js';
import { checkVobizCredentials } from '../functions/shared/adapters/vobiz-check.js';
import type { LifecycleRunSummary } from '../functions/shared/lifecycle/lifecycle-run.js';
import {
  ARCHIVE_TRIGGER,
  ARCHIVE_TRIGGER_FILTER,
  MAX_PARALLELIZATION_FACTOR,
} from '../functions/shared/domain/archive-trigger.js';
import {
  createBucket,
  createTable,
  emulatorEnvironment,
  freePort,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  startDynamoDbLocal,
  startS3Server,
  type RunningDynamo,
  type RunningS3,
} from './emulators.js';
import {
  createGateway,
  jsonError,
  localContext,
  type FunctionBinding,
  type GatewayResponse,
  type RouteTarget,
} from './gateway.js';
import { VobizSimulator } from './simulator.js';
import { startStreamTrigger, type StreamTrigger } from './stream-trigger.js';
import { startAuditCopyTrigger } from './audit-copy-trigger.js';
import { CONSOLE_PATH, createConsoleFiles, localGroupRefusal } from './console-files.js';
import { localApiRoute, openApiDocument } from './local-api.js';
import { RunMarker } from './run-marker.js';
import { LOCAL_ENV, parseOptions, StartError, USAGE, type Options } from './start-options.js';

/**
 * `npm start`: the whole product on 127.0.0.1 — DynamoDB Local, s3rver, the Vobiz simulator (unless
 * real credentials are set) and one gateway serving the same routes with the same handlers as AWS.
 */

const WEBHOOK_PATH = '/webhooks/vobiz/recording';
/** The Lambda timeouts in infra/ (webhook.ts, lookup-api.ts, …), so handlers budget their time as in AWS. */
const TIMEOUTS_MS = {
  webhook: 10_000,
  lookup: 10_000,
  lifecycle: 28_000,
  retry: 10_000,
  worker: 15 * 60_000,
};
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, text: string) => (useColor ? `\u001b[${code}m${text}\u001b[0m` : text);

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function portInUse(port: number, variable: string, what: string): StartError {
  return new StartError(`Port ${port} is in use${what}; set ${variable}=… or stop the other process.`);
}

async function assertPortFree(port: number, variable: string, what: string): Promise<void> {
  const probe = createServer();
  try {
    await listen(probe as unknown as Server, port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(port, variable, what);
    throw error;
  } finally {
    probe.close();
  }
}

/** A key for signing page cursors that stays the same across restarts, so open cursors keep working. */
function cursorSigningKey(options: Options): string {
  if (process.env.CURSOR_SIGNING_KEY) return process.env.CURSOR_SIGNING_KEY;
  if (options.inMemory) return randomBytes(32).toString('base64url');
  const file = join(options.dataDir, 'cursor-signing-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

function vobizMode(env: NodeJS.ProcessEnv): 'simulator' | 'vobiz' {
  const id = env.VOBIZ_AUTH_ID?.trim();
  const token = env.VOBIZ_AUTH_TOKEN?.trim();
  if (id && token) return 'vobiz';
  if (id || token)
    throw new StartError(
      'Set both VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN to use the real Vobiz, or neither to use the simulator.',
    );
  return 'simulator';
}

function statusColor(status: number): string {
  return paint(status >= 500 ? 31 : status >= 400 ? 33 : 32, String(status));
}

async function main(): Promise<void> {
  // Before any SDK client exists: the machine's Node 20 is known (Lambda runs 22).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const parsed = parseOptions(process.argv.slice(2), process.env);
  if (parsed === 'help') {
    console.log(USAGE);
    return;
  }
  const options = parsed;
  const mode = vobizMode(process.env);
  const gatewayUrl = `http://127.0.0.1:${options.port}`;
  const webhookUrl = process.env.WEBHOOK_PUBLIC_URL?.trim() || `${gatewayUrl}${WEBHOOK_PATH}`;

  let dynamo: RunningDynamo | undefined;
  let s3: RunningS3 | undefined;
  let simulator: VobizSimulator | undefined;
  let functions: Partial<Record<RouteTarget, FunctionBinding>> = {};
  const auditBucketName = LOCAL_ENV.AUDIT_BUCKET_NAME.read(process.env);
  let ready = false;
  let stopping = false;
  let javaPid: number | undefined;
  let redriveTimer: NodeJS.Timeout | undefined = undefined;
  let lifecycleTimer: NodeJS.Timeout | undefined = undefined;
  let trigger: StreamTrigger | undefined = undefined;
  let auditTrigger: StreamTrigger | undefined = undefined;
  let consoleFiles: ReturnType<typeof createConsoleFiles> | undefined = undefined;
  const starting: Promise<unknown>[] = [];
  const pidFile = options.inMemory ? undefined : join(options.dataDir, 'dynamodb.pid');
  // Read now, written only once this run may accept callbacks (see local/crash-recovery.ts).
  const runMarker = options.inMemory ? undefined : new RunMarker(options.dataDir, Date.now());
  const startedAt = new Date().toISOString();
  let discardedBatches = 0;

  const health = (): GatewayResponse => {
    if (!ready || stopping)
      return jsonError(
        503,
        stopping ? 'stopping' : 'starting',
        stopping ? 'The local stack is stopping' : 'The local stack is starting',
      );
    const body = {
      status: 'ok',
      vobiz: mode,
      webhook_url: webhookUrl,
      simulator_url: simulator?.baseUrl ?? null,
      dynamodb_endpoint: dynamo?.endpoint,
      s3_endpoint: s3?.endpoint,
      audit_bucket: auditBucketName,
      data_dir: options.inMemory ? null : options.dataDir,
      // What vobiz-archive --local and doctor --local need to know about this stack.
      table_name: process.env.TABLE_NAME,
      bucket_name: process.env.BUCKET_NAME,
      started_at: startedAt,
      archive_worker: trigger ? 'running' : 'stopped',
      discarded_batches: discardedBatches,
      redrive_interval_seconds: options.redriveIntervalMs / 1000,
      lifecycle_interval_seconds: options.lifecycleIntervalMs / 1000,
    };
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: Buffer.from(JSON.stringify(body)),
    };
  };

  /** Whether Vobiz (or the simulator) accepts the credentials the functions use: one List call. */
  const vobizHealth = async (): Promise<GatewayResponse> => {
    const check = await checkVobizCredentials(process.env.VOBIZ_API_BASE_URL ?? 'https://api.vobiz.ai', {
      authId: process.env.VOBIZ_AUTH_ID ?? '',
      authToken: process.env.VOBIZ_AUTH_TOKEN ?? '',
    });
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: Buffer.from(JSON.stringify(check)),
    };
  };

  const gateway = createGateway({
    functions: () => functions,
    authorize: localGroupRefusal,
    local: (method, path, url) => {
      switch (localApiRoute(method, path)) {
        case 'health':
          return health();
        case 'vobizHealth':
          if (ready) return vobizHealth();
          break;
        case 'openapi':
          return openApiDocument(gatewayUrl);
      }
      return consoleFiles?.handle(method, path, url);
    },
    onRequest: ({ method, path, status, ms }) => {
      if (path !== '/health') console.log(`${method} ${path} ${statusColor(status)} ${ms}ms`);
    },
    onError: (error) => console.error(paint(31, 'handler error:'), error),
  });

  // A Java child must never outlive us, however we end.
  process.on('exit', () => {
    if (javaPid === undefined) return;
    try {
      process.kill(javaPid, 'SIGKILL');
    } catch {
      // already gone
    }
  });

  async function shutdown(code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    clearInterval(redriveTimer);
    clearInterval(lifecycleTimer);
    const force = setTimeout(() => process.exit(code || 1), 8_000);
    force.unref();
    gateway.closeAllConnections();
    // Recordings in flight are not waited for: their leases run out and the re-drive finishes them.
    await Promise.all([trigger?.stop({ drain: false }), auditTrigger?.stop({ drain: false })]);
    // Whatever is still starting is stopped once it is up, so no emulator is left behind.
    await Promise.allSettled(starting);
    await Promise.allSettled([
      new Promise<void>((resolve) => (gateway.listening ? gateway.close(() => resolve()) : resolve())),
      simulator?.stop(),
      s3?.stop(),
      dynamo?.stop(),
    ]);
    if (pidFile && javaPid === undefined) rmSync(pidFile, { force: true });
    // Only a stop that closed DynamoDB Local itself is clean; after an error the next start checks.
    if (code === 0 && javaPid === undefined) runMarker?.stopped();
    console.log(code === 0 ? 'Stopped.' : 'Stopped after an error.');
    process.exit(code);
  }

  let signals = 0;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (++signals > 1) {
        console.error('\nForced stop.');
        process.exit(1);
      }
      console.log(`\n${signal === 'SIGINT' ? 'Ctrl-C: ' : ''}stopping the local stack…`);
      void shutdown(0);
    });
  }
  process.on('uncaughtException', (error) => {
    console.error(paint(31, 'Unexpected error:'), error);
    void shutdown(1);
  });
  process.on('unhandledRejection', (error) => {
    console.error(paint(31, 'Unexpected error:'), error);
    void shutdown(1);
  });

  try {
    await listen(gateway, options.port);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(options.port, 'PORT', '');
    throw error;
  }
  if (mode === 'simulator')
    await assertPortFree(options.simulatorPort, 'VOBIZ_SIMULATOR_PORT', ' (Vobiz simulator)');
  console.log(`Starting the local stack${options.inMemory ? ' (in memory)' : ''}…`);

  if (!options.inMemory) mkdirSync(options.dataDir, { recursive: true });
  const tableName = LOCAL_ENV.TABLE_NAME.read(process.env);
  const bucketName = LOCAL_ENV.BUCKET_NAME.read(process.env);
  const dynamoPort = await freePort();
  let s3Port = await freePort();
  while (s3Port === dynamoPort) s3Port = await freePort();
  const dynamoEndpoint = `http://127.0.0.1:${dynamoPort}`;
  const s3Endpoint = `http://127.0.0.1:${s3Port}`;
  consoleFiles = createConsoleFiles({ mediaOrigin: s3Endpoint }); // esbuild, ≈ 0.1 s
  if (mode === 'simulator') {
    simulator = new VobizSimulator({
      port: options.simulatorPort,
      ...(options.inMemory ? {} : { stateFile: join(options.dataDir, 'simulator.json') }),
      onRequest: options.verbose
        ? ({ method, path, status, ms }) =>
            console.log(paint(2, `  simulator ${method} ${path} ${status} ${ms}ms`))
        : undefined,
    });
  }
  const simulatorUrl = `http://127.0.0.1:${options.simulatorPort}`;

  // The handlers read their configuration from the environment at import or first use, as in Lambda;
  // the endpoints are known before the emulators are up, so the imports overlap with their start.
  delete process.env.VOBIZ_SECRET_ARN;
  delete process.env.CURSOR_SECRET_ARN;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    BUCKET_NAME: bucketName,
    AUDIT_BUCKET_NAME: auditBucketName,
    ...emulatorEnvironment({ dynamo: dynamoEndpoint, s3: s3Endpoint }),
    WEBHOOK_PUBLIC_URL: webhookUrl,
    CURSOR_SIGNING_KEY: cursorSigningKey(options),
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...(simulator
      ? {
          VOBIZ_AUTH_ID: simulator.authId,
          VOBIZ_AUTH_TOKEN: simulator.authToken,
          VOBIZ_PARENT_AUTH_TOKEN: simulator.parentAuthToken,
          VOBIZ_API_BASE_URL: simulatorUrl,
          ALLOWED_MEDIA_ORIGINS: simulatorUrl,
        }
      : {}),
  });

  if (pidFile) stopLeftover(pidFile);
  const dynamoStarting = startDynamoDbLocal({
    port: dynamoPort,
    ...(options.inMemory ? {} : { dataDir: join(options.dataDir, 'dynamodb') }),
  }).then(async (running) => {
    dynamo = running;
    javaPid = running.pid;
    if (pidFile && running.pid !== undefined) writeFileSync(pidFile, String(running.pid));
    void running.exited.then((code) => {
      javaPid = undefined;
      if (stopping) return;
      // Ctrl-C in a terminal signals the whole process group, so Java may see it before we do.
      if (code === 130 || code === 143) return void shutdown(0);
      console.error(
        paint(31, `DynamoDB Local stopped unexpectedly (exit code ${code}); stopping the local stack.`),
      );
      void shutdown(1);
    });
    const client = new DynamoDBClient({
      endpoint: running.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    await createTable(client, tableName).finally(() => client.destroy());
    return running;
  });
  const s3Starting = startS3Server({
    port: s3Port,
    buckets: [bucketName, auditBucketName],
    ...(options.inMemory ? {} : { directory: join(options.dataDir, 's3') }),
  }).then(async (running) => {
    s3 = running;
    const client = new S3Client({
      endpoint: running.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
    });
    await Promise.all([createBucket(client, bucketName), createBucket(client, auditBucketName)]).finally(() =>
      client.destroy(),
    );
    return running;
  });
  const startups = [
    dynamoStarting,
    s3Starting,
    simulator ? simulator.start() : Promise.resolve(undefined),
    import('../functions/webhook/handler.js'),
    import('../functions/lookup/handler.js'),
    import('../functions/redrive/handler.js'),
    import('../functions/archive-worker/handler.js'),
    import('../functions/lifecycle-api/handler.js'),
    import('../functions/lifecycle/handler.js'),
    import('../functions/audit-copy/handler.js'),
    import('../functions/retry-api/handler.js'),
  ] as const;
  starting.push(...startups);
  const [
    dynamoRunning,
    s3Running,
    ,
    webhook,
    lookup,
    redrive,
    worker,
    lifecycleApi,
    lifecycle,
    auditCopy,
    retryApi,
  ] = await Promise.all(startups);
  if (stopping) return;
  const previous = runMarker?.previous;
  const recovery = previous?.clean === false ? await import('./crash-recovery.js') : undefined;
  const stream = { endpoint: dynamoRunning.endpoint, tableName, checkpointFile: checkpointFileOf(options) };
  // Before the trigger: it must not resume past writes the emulator lost, nor find dead workers' leases.
  const prepared =
    recovery &&
    (await recovery.prepareAfterUncleanStop(process.env, stream, [auditCheckpointFileOf(options)]));
  if (!options.noWorker) {
    trigger = await startArchiveTrigger(dynamoRunning.endpoint, tableName, worker.handler, options, () => {
      discardedBatches++;
    });
    if (stopping) return void trigger.stop({ drain: false });
  }
  // Every audit entry is copied to the audit bucket, as in AWS (write-once; s3rver has no Object Lock).
  auditTrigger = await startAuditCopyTrigger({
    endpoint: dynamoRunning.endpoint,
    tableName,
    handler: (event, context) => auditCopy.handler(event, context),
    ...(options.inMemory ? {} : { checkpointFile: auditCheckpointFileOf(options) }),
    onError: (error) =>
      console.error(paint(31, 'audit-copy failed:'), error instanceof Error ? error.message : error),
    onDiscard: (batch) =>
      console.error(
        paint(31, `audit copy gave up on ${batch.DDBStreamBatchInfo.batchSize} stream record(s)`),
      ),
  });
  if (stopping) return void auditTrigger.stop({ drain: false });
  // The sweep runs while the stack finishes starting; its one line comes after the banner.
  const swept =
    recovery && prepared && previous?.clean === false
      ? recovery.sweepAfterUncleanStop(process.env, previous, prepared)
      : undefined;

  functions = {
    webhook: {
      handler: (event, context) => webhook.handler(event, context),
      functionName: 'webhook',
      timeoutMs: TIMEOUTS_MS.webhook,
    },
    lookup: {
      handler: (event, context) => lookup.handler(event, context),
      functionName: 'lookup',
      timeoutMs: TIMEOUTS_MS.lookup,
    },
    lifecycle: {
      handler: (event, context) => lifecycleApi.handler(event, context),
      functionName: 'lifecycle-api',
      timeoutMs: TIMEOUTS_MS.lifecycle,
    },
    retry: {
      handler: (event, context) => retryApi.handler(event, context),
      functionName: 'retry-api',
      timeoutMs: TIMEOUTS_MS.retry,
    },
  };
  redriveTimer = schedule(
    'redrive',
    redrive.handler,
    { intervalMs: options.redriveIntervalMs, timeoutMs: 5 * 60_000, describe: describeRedrive },
    () => stopping,
  );
  lifecycleTimer = schedule(
    'lifecycle',
    lifecycle.handler,
    { intervalMs: options.lifecycleIntervalMs, timeoutMs: 4 * 60_000, describe: describeLifecycle },
    () => stopping,
  );
  runMarker?.running();
  ready = true;

  printBanner({
    options,
    mode,
    gatewayUrl,
    webhookUrl,
    dynamo: dynamoRunning,
    s3: s3Running,
    simulator,
  });
  void swept?.then(({ complete, line }) => {
    if (!complete) return console.error(paint(31, line));
    runMarker?.recovered();
    console.log(line);
  });
}

/**
 * A stack killed with SIGKILL cannot stop its Java child; the next start in the same data directory
 * does, since that process would also hold the database file.
 */
function stopLeftover(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 1) return;
  let command: string;
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return; // gone, or no /proc to make sure it is ours: leave it alone
  }
  if (!command.includes('DynamoDBLocal')) return;
  try {
    process.kill(pid, 'SIGKILL');
    console.log(`Stopped a DynamoDB Local left over from an earlier run (pid ${pid}).`);
  } catch {
    // already gone
  }
}

function checkpointFileOf(options: Options): string {
  return join(options.dataDir, 'archive-trigger.json');
}

function auditCheckpointFileOf(options: Options): string {
  return join(options.dataDir, 'audit-copy-trigger.json');
}

/**
 * Starts the archive worker the way AWS does: from the table's stream, with the stack's filter, batch
 * size, retries and concurrency (infra/archive-worker.ts), one line per batch.
 */
function startArchiveTrigger(
  endpoint: string,
  tableName: string,
  handler: (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>,
  options: Options,
  onDiscarded: () => void,
): Promise<StreamTrigger> {
  return startStreamTrigger({
    endpoint,
    tableName,
    filter: ARCHIVE_TRIGGER_FILTER,
    batchSize: ARCHIVE_TRIGGER.batchSize,
    maxRetryAttempts: ARCHIVE_TRIGGER.maxRetryAttempts,
    bisectOnError: ARCHIVE_TRIGGER.bisectOnError,
    parallelizationFactor: Math.min(MAX_PARALLELIZATION_FACTOR, options.archiveConcurrency),
    maxConcurrency: options.archiveConcurrency,
    timeoutMs: TIMEOUTS_MS.worker,
    ...(options.inMemory ? {} : { checkpointFile: checkpointFileOf(options) }),
    handler: async (event, context) => {
      const started = performance.now();
      const result = await handler(event, context);
      const back = result.batchItemFailures.length;
      const count = event.Records.length;
      console.log(
        `archive-worker ${count} recording${count === 1 ? '' : 's'}` +
          `${back > 0 ? paint(33, `, ${back} handed back for a retry`) : ''} ${Math.round(performance.now() - started)}ms`,
      );
      return result;
    },
    onError: (error) =>
      console.error(paint(31, 'archive-worker failed:'), error instanceof Error ? error.message : error),
    onDiscard: (batch) => {
      onDiscarded();
      console.error(
        paint(
          31,
          `archive trigger gave up on ${batch.DDBStreamBatchInfo.batchSize} record(s) after ${batch.requestContext.approximateInvokeCount} attempts;` +
            ' the re-drive picks them up when they are due',
        ),
      );
    },
  });
}

/**
 * Runs a scheduled function as its EventBridge schedule does in AWS (the re-drive every minute, the
 * lifecycle every 5 minutes there): one run at a time, quiet unless the run did something.
 */
function schedule<Summary>(
  name: string,
  handler: (event: Record<string, never>, context: Context) => Promise<Summary>,
  options: { intervalMs: number; timeoutMs: number; describe: (summary: Summary) => string | undefined },
  stopped: () => boolean,
): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running || stopped()) return;
    running = true;
    const started = performance.now();
    handler({}, localContext(name, options.timeoutMs))
      .then((result) => {
        const line = options.describe(result);
        if (line) console.log(`${name} ${line} ${Math.round(performance.now() - started)}ms`);
      })
      .catch((error: unknown) =>
        console.error(paint(31, `${name} failed:`), error instanceof Error ? error.message : error),
      )
      .finally(() => (running = false));
  }, options.intervalMs);
  timer.unref();
  return timer;
}

/** `2 deleted at Vobiz, 1 expired` when a run did something; nothing when idle. */
function describeLifecycle({ vobiz, expiry, erasures }: LifecycleRunSummary): string | undefined {
  const parts: string[] = [];
  const deleted = (vobiz?.deleted ?? 0) + (vobiz?.alreadyAbsent ?? 0);
  if (deleted > 0) parts.push(`${deleted} deleted at Vobiz`);
  if (vobiz?.refused) parts.push(paint(31, `${vobiz.refused} kept at Vobiz (verification failed)`));
  if (vobiz?.deferred) parts.push(paint(33, `${vobiz.deferred} deferred`));
  if (expiry?.expired) parts.push(`${expiry.expired} expired`);
  if (erasures.finished) parts.push(`${erasures.finished} erasures finished`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

/** `2 stored, 1 deferred, sweep found 1 without a callback` when a run did something; nothing when idle. */
function describeRedrive({ redrive, sweep }: RecoveryRunSummary): string | undefined {
  const parts: string[] = [];
  for (const key of ['stored', 'deferred', 'failed', 'errors'] as const)
    if (redrive[key] > 0) parts.push(`${redrive[key]} ${key}`);
  if (sweep && sweep.enqueued > 0) parts.push(`sweep found ${sweep.enqueued} without a callback`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function printBanner(input: {
  options: Options;
  mode: 'simulator' | 'vobiz';
  gatewayUrl: string;
  webhookUrl: string;
  dynamo: RunningDynamo;
  s3: RunningS3;
  simulator: VobizSimulator | undefined;
}): void {
  const { options, gatewayUrl, webhookUrl, simulator } = input;
  const label = (text: string) => paint(1, text.padEnd(14));
  const pad = ' '.repeat(14);
  const relativeDir = relative(process.cwd(), options.dataDir);
  const dataDir = relativeDir.startsWith('..') ? options.dataDir : relativeDir || '.';
  const lines = [
    '',
    paint(1, `vobiz-recording-archive: local stack ready in ${process.uptime().toFixed(1)} s`),
    '',
    `  ${label('Gateway')}${gatewayUrl}  (health: ${gatewayUrl}/health)`,
    `  ${label('Console')}${gatewayUrl}${CONSOLE_PATH}`,
    `  ${label('Webhook URL')}${webhookUrl}`,
  ];
  if (simulator) {
    lines.push(
      `  ${label('Vobiz')}simulator at ${simulator.baseUrl} (account ${simulator.authId}, ${simulator.size} recordings)`,
    );
  } else {
    lines.push(
      `  ${label('Vobiz')}${process.env.VOBIZ_API_BASE_URL ?? 'https://api.vobiz.ai'} as ${process.env.VOBIZ_AUTH_ID} (credentials from the environment)`,
      `  ${pad}Set the Webhook URL above as the recording callback URL at Vobiz.`,
      ...(process.env.WEBHOOK_PUBLIC_URL?.trim()
        ? [
            `  ${pad}It must forward to ${gatewayUrl}${WEBHOOK_PATH}; signatures are checked against it (WEBHOOK_PUBLIC_URL).`,
          ]
        : [
            `  ${pad}Vobiz cannot reach 127.0.0.1: expose port ${options.port} through a tunnel and restart with`,
            `  ${pad}WEBHOOK_PUBLIC_URL=https://<tunnel-host>${WEBHOOK_PATH} (signatures are checked against that exact URL).`,
          ]),
    );
  }
  lines.push(
    `  ${label('Lookup')}curl ${gatewayUrl}/recordings`,
    `  ${pad}curl ${gatewayUrl}/recordings/<recording_id>`,
    `  ${pad}curl -L -o audio.mp3 ${gatewayUrl}/recordings/<recording_id>/audio`,
    `  ${label('Storage')}DynamoDB Local ${input.dynamo.endpoint}, S3 (s3rver) ${input.s3.endpoint}`,
    `  ${label('Data')}${options.inMemory ? 'in memory (nothing is kept)' : `${dataDir}/ (kept across restarts; --in-memory keeps nothing)`}`,
    options.noWorker
      ? `  ${label('Archive')}${paint(33, 'worker not started (--no-worker)')}: callbacks wait as pending; re-drive every ${options.redriveIntervalMs / 1000} s`
      : `  ${label('Archive')}worker started by the table's stream, ${options.archiveConcurrency} at a time; re-drive every ${options.redriveIntervalMs / 1000} s`,
    `  ${label('Lifecycle')}every ${options.lifecycleIntervalMs / 1000} s: delete at Vobiz ${describeDays(process.env.VOBIZ_DELETE_AFTER_DAYS, 'off', (d) => (d === '0' ? 'once verified' : `${d} days after archiving`))}, retention ${describeDays(process.env.RETENTION_DAYS, 'off (audio kept)', (d) => `${d} days`)}`,
  );
  if (simulator)
    lines.push(
      '',
      `  ${label('Try it')}npm run simulate -- --count 3${options.port === 3000 ? '' : ` --port ${options.port}`}`,
    );
  lines.push('', 'Ctrl-C stops everything. One line per request follows.', '');
  console.log(lines.join('\n'));
}

function describeDays(value: string | undefined, off: string, on: (days: string) => string): string {
  const days = value?.trim();
  return !days || days === 'none' ? off : on(days);
}

main().catch((error: unknown) => {
  if (error instanceof StartError) console.error(error.message);
  else
    console.error(
      paint(31, 'The local stack could not start:'),
      error instanceof Error ? error.message : error,
    );
  // Stop whatever did start (the exit handler kills DynamoDB Local if it is up).
  process.exit(1);
});
