import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { readSecretWithSdk } from '../../functions/shared/adapters/aws-clients.js';
import { loadVobizCredentials } from '../../functions/shared/adapters/credentials.js';
import { ConfigError, type VobizCredentials } from '../../functions/shared/config.js';
import { RECORDING_ID_PATTERN } from '../../functions/shared/domain/recording.js';
import type { Clock } from '../../functions/shared/ingest/ports.js';
import { UsageError } from './cli.js';
import { describeError, writeJson, type Output } from './output.js';
import {
  awsConfig,
  resolveEnv,
  TargetError,
  type OutputName,
  type ResolvedEnv,
  type Target,
} from './targets.js';

/** What an operator command talks to: its streams, and for tests an abort signal, a clock and stdin. */
export interface CommandIo {
  stdout: Output;
  stderr: Output;
  /** Where typed answers come from (set-secret's token, destroy's confirmation); process.stdin by default. */
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  signal?: AbortSignal;
  clock?: Clock;
}

/** One command: what `vobiz-archive <name>` runs, with the process's arguments (after the name). */
export type CommandRun = (
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
) => Promise<number>;

/** Returned by a command's set-up when it was asked for `--help`. */
export const HELP = Symbol('help');

export type SetUp<T> = { ok: true; value: T } | { ok: false; exitCode: number };

/**
 * Runs a command's set-up (its arguments, where it acts, its configuration) the same way for every
 * command: `--help` prints the usage on stdout (exit 0); a usage or configuration error prints
 * `<command>: <message>` and the usage on stderr (exit 2); a stage that cannot be read (no stack, no
 * credentials, a missing output) prints `<command>: <message>` (exit 1). Anything else propagates.
 */
export async function setUp<T>(
  command: string,
  usage: string,
  io: CommandIo,
  prepare: () => Promise<T | typeof HELP> | T | typeof HELP,
  options: { json?: boolean } = {},
): Promise<SetUp<T>> {
  try {
    const value = await prepare();
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
    if (error instanceof TargetError) return { ok: false, exitCode: fail(command, io, error, options.json) };
    throw error;
  }
}

/**
 * `<command>: <message>` on stderr; exit code 1. With `--json` stdout still gets its one document,
 * `{"ok": false, "error": "…"}`, so that a script reading it never parses nothing.
 */
export function fail(command: string, io: CommandIo, error: unknown, json = false): number {
  const message = describeError(error);
  io.stderr.write(`${command}: ${message}\n`);
  if (json) writeJson(io.stdout, { ok: false, error: message });
  return 1;
}

/** Whether a command line asks for JSON, before it is parsed (for failures during set-up). */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/** The environment of a command for its target, filled from the stage's outputs it needs (see targets.ts). */
export function targetEnv(
  target: Target,
  env: Record<string, string | undefined>,
  needs: readonly OutputName[],
  io: CommandIo,
): Promise<ResolvedEnv> {
  return resolveEnv(target, env, needs, { stderr: io.stderr });
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
  io: CommandIo,
): Promise<VobizCredentials | undefined> {
  try {
    return await loadVobizCredentials(
      env,
      readSecretWithSdk(() => new SecretsManagerClient(awsConfig(env))),
    );
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
