import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ARCHIVE_CONCURRENCY } from '../functions/shared/domain/archive-trigger.js';
import { envVars, optionalVar, type EnvVarSpec } from '../functions/shared/config.js';

/**
 * `npm start`'s command line and environment, apart from local/start.ts (which starts the stack when
 * imported), so that the docs can be generated from them.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export class StartError extends Error {}

export const USAGE = `Usage: npm start [-- --in-memory] [--port N] [--verbose] [--no-worker]

  --in-memory   keep nothing: no data is read from or written to .data/
  --port N      gateway port (default: PORT or 3000)
  --verbose     also log the requests the Vobiz simulator answers
  --no-worker   do not start the archive worker (as if its stream mapping were disabled): callbacks
                are recorded and wait as pending, which vobiz-archive doctor --local reports

Environment: PORT, VOBIZ_SIMULATOR_PORT (4010), VOBIZ_AUTH_ID + VOBIZ_AUTH_TOKEN (talk to the real
Vobiz instead of the simulator), WEBHOOK_PUBLIC_URL (the URL Vobiz calls, e.g. through a tunnel),
REDRIVE_INTERVAL_SECONDS (15), ARCHIVE_CONCURRENCY (${DEFAULT_ARCHIVE_CONCURRENCY}: recordings archived at once),
LIFECYCLE_INTERVAL_SECONDS (30), VOBIZ_DELETE_AFTER_DAYS (unset: only what retention expires; 0: once
verified; at most RETENTION_DAYS), RETENTION_DAYS (unset: keep audio forever), LOCAL_DATA_DIR (.data).`;

function parsePort(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new StartError(`${name} must be a port number (1-65535), got "${value}"`);
  return port;
}

function port(description: string, fallback: number): EnvVarSpec<number> {
  return {
    description,
    default: String(fallback),
    accepted: '1–65535',
    read: (env, name) => (env[name] ? parsePort(env[name], name) : fallback),
  };
}

function seconds(description: string, fallback: number): EnvVarSpec<number> {
  return {
    description,
    default: String(fallback),
    accepted: '≥ 1',
    read: (env, name) => {
      const value = Number(env[name] ?? fallback);
      if (!Number.isFinite(value) || value < 1)
        throw new StartError(`${name} must be a number of seconds >= 1`);
      return value;
    },
  };
}

/** A name the local stack gives a resource, unless the variable names another. */
function named(description: string, fallback: string): EnvVarSpec<string> {
  return {
    description,
    default: `\`${fallback}\``,
    read: (env, name) => env[name]?.trim() || fallback,
  };
}

/**
 * What the local stack itself reads. It sets the functions' variables (table, bucket, endpoints, cursor
 * key, the simulator's credentials) before it loads them; every other function variable passes through.
 */
export const LOCAL_ENV = envVars({
  PORT: port('the gateway port (`--port N` wins); also read by `npm run simulate`', 3000),
  VOBIZ_SIMULATOR_PORT: port("the Vobiz simulator's port", 4010),
  REDRIVE_INTERVAL_SECONDS: seconds('how often the re-drive runs', 15),
  LIFECYCLE_INTERVAL_SECONDS: seconds('how often the scheduled lifecycle runs', 30),
  ARCHIVE_CONCURRENCY: {
    description: 'how many recordings the archive worker takes at once; also read by `npm run bench:ack`',
    default: String(DEFAULT_ARCHIVE_CONCURRENCY),
    accepted: '1–1000',
    read: (env, name) => {
      const value = Number(env[name] ?? DEFAULT_ARCHIVE_CONCURRENCY);
      if (!Number.isInteger(value) || value < 1 || value > 1000)
        throw new StartError(`${name} must be an integer from 1 to 1000`);
      return value;
    },
  },
  LOCAL_DATA_DIR: {
    description:
      "where the table, the audio, the cursor key and the simulator's state are kept (unless `--in-memory`)",
    default: '`.data`',
    read: (env, name) => env[name] ?? join(ROOT, '.data'),
  },
  TABLE_NAME: named('the local table', 'vobiz-recordings'),
  BUCKET_NAME: named('the local audio bucket', 'vobiz-recordings-audio'),
  AUDIT_BUCKET_NAME: named('the local bucket the audit entries are copied to', 'vobiz-recordings-audit'),
  CURSOR_SIGNING_KEY: optionalVar({
    description: 'the key that signs page cursors',
    default: 'kept in `.data/cursor-signing-key` (a new one with `--in-memory`)',
  }),
  VOBIZ_AUTH_ID: optionalVar({
    description:
      'with `VOBIZ_AUTH_TOKEN` (and `VOBIZ_PARENT_AUTH_TOKEN`): archive from the real Vobiz instead of the simulator; one without the other stops the start',
    default: 'unset: the simulator',
  }),
  VOBIZ_AUTH_TOKEN: optionalVar({ description: 'see `VOBIZ_AUTH_ID`', default: 'unset: the simulator' }),
  VOBIZ_PARENT_AUTH_TOKEN: optionalVar({
    description: 'with `VOBIZ_AUTH_ID`: the parent account token, for a sub-account',
    default: 'unset',
  }),
  VOBIZ_API_BASE_URL: optionalVar({
    description: 'the Vobiz API, with `VOBIZ_AUTH_ID` and `VOBIZ_AUTH_TOKEN`',
    default: '`https://api.vobiz.ai` (the simulator without credentials)',
  }),
  WEBHOOK_PUBLIC_URL: optionalVar({
    description: 'the URL Vobiz calls (through a tunnel)',
    default: "the gateway's webhook URL",
  }),
  VOBIZ_DELETE_AFTER_DAYS: optionalVar({
    description:
      'the verified delete at Vobiz, as in AWS (a delay longer than `RETENTION_DAYS` is refused: every lifecycle run fails with a message naming both)',
    default: 'unset: only what retention expires',
  }),
  RETENTION_DAYS: optionalVar({ description: 'retention, as in AWS', default: 'unset: off' }),
  POWERTOOLS_LOG_LEVEL: optionalVar({ description: "the functions' log level", default: '`WARN`' }),
  NO_COLOR: optionalVar({ description: 'no colours in the request log' }),
});

export interface Options {
  inMemory: boolean;
  noWorker: boolean;
  port: number;
  simulatorPort: number;
  verbose: boolean;
  dataDir: string;
  redriveIntervalMs: number;
  lifecycleIntervalMs: number;
  archiveConcurrency: number;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options | 'help' {
  let inMemory = false;
  let verbose = false;
  let noWorker = false;
  let port = LOCAL_ENV.PORT.read(env);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    else if (arg === '--in-memory') inMemory = true;
    else if (arg === '--verbose') verbose = true;
    else if (arg === '--no-worker') noWorker = true;
    else if (arg === '--port') port = parsePort(argv[++i] ?? '', '--port');
    else if (arg.startsWith('--port=')) port = parsePort(arg.slice('--port='.length), '--port');
    else throw new StartError(`Unknown option ${arg}\n\n${USAGE}`);
  }
  const interval = LOCAL_ENV.REDRIVE_INTERVAL_SECONDS.read(env);
  const lifecycleInterval = LOCAL_ENV.LIFECYCLE_INTERVAL_SECONDS.read(env);
  const archiveConcurrency = LOCAL_ENV.ARCHIVE_CONCURRENCY.read(env);
  return {
    inMemory,
    noWorker,
    verbose,
    port,
    simulatorPort: LOCAL_ENV.VOBIZ_SIMULATOR_PORT.read(env),
    dataDir: LOCAL_ENV.LOCAL_DATA_DIR.read(env),
    redriveIntervalMs: interval * 1000,
    lifecycleIntervalMs: lifecycleInterval * 1000,
    archiveConcurrency,
  };
}
