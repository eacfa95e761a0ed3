import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadVobizCredentials } from '../../functions/shared/adapters/credentials.js';
import { ConfigError, type VobizCredentials } from '../../functions/shared/config.js';
import { RECORDING_ID_PATTERN } from '../../functions/shared/domain/recording.js';
import type { Clock } from '../../functions/shared/ingest/ports.js';
import { UsageError, type Output } from './cli.js';

/** What an operator command talks to: its two streams, and for tests an abort signal and a clock. */
export interface CommandIo {
  stdout: Output;
  stderr: Output;
  signal?: AbortSignal;
  clock?: Clock;
}

/** Returned by a command's set-up when it was asked for `--help`. */
export const HELP = Symbol('help');

export type SetUp<T> = { ok: true; value: T } | { ok: false; exitCode: number };

/**
 * Runs a command's set-up (its arguments and configuration), the same way for every command: `--help`
 * prints the usage on stdout (exit 0); a usage or configuration error prints `<command>: <message>` and
 * the usage on stderr (exit 2). Anything else is a bug and propagates.
 */
export function setUp<T>(
  command: string,
  usage: string,
  io: CommandIo,
  prepare: () => T | typeof HELP,
): SetUp<T> {
  try {
    const value = prepare();
    if (value === HELP) {
      io.stdout.write(`${usage}\n`);
      return { ok: false, exitCode: 0 };
    }
    return { ok: true, value };
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.stderr.write(`${command}: ${error.message}\n\n${usage}\n`);
      return { ok: false, exitCode: 2 };
    }
    throw error;
  }
}

/** Refuses, as a usage error, the first argument that is not a recording id. */
export function checkRecordingIds(ids: readonly string[]): void {
  const invalid = ids.find((id) => !RECORDING_ID_PATTERN.test(id));
  if (invalid !== undefined) throw new UsageError(`"${invalid.slice(0, 140)}" is not a recording id`);
}

/**
 * The Vobiz credentials (from the environment or `VOBIZ_SECRET_ARN`), or undefined after writing why
 * they could not be read (`<command>: <message>`; the caller exits 2).
 */
export async function commandCredentials(
  command: string,
  env: Record<string, string | undefined>,
  region: string | undefined,
  io: CommandIo,
): Promise<VobizCredentials | undefined> {
  try {
    return await loadVobizCredentials(env, () => new SecretsManagerClient({ region }));
  } catch (error) {
    io.stderr.write(`${command}: ${(error as Error).message}\n`);
    return undefined;
  }
}

/** The environment with `--table` and `--bucket` in place of `TABLE_NAME` and `BUCKET_NAME`. */
export function storageEnv(
  env: Record<string, string | undefined>,
  args: { table?: string; bucket?: string },
): Record<string, string | undefined> {
  return {
    ...env,
    ...(args.table ? { TABLE_NAME: args.table } : {}),
    ...(args.bucket ? { BUCKET_NAME: args.bucket } : {}),
  };
}
