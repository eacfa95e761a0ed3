import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudFormationClient, Stack } from '@aws-sdk/client-cloudformation';
import type { Output } from './output.js';

/**
 * Where a command acts, and the names it needs from there. A deployed stage's table, bucket, secret,
 * user pool and URLs are its stack outputs; the local stack's come from its `/health`. Precedence, first
 * wins: the command's own flags (`--table`, `--api-url`, …), environment variables (`TABLE_NAME`, …),
 * the outputs file `deploy` wrote (`.vobiz-archive/<stage>.outputs.json`), `cdk-outputs.json`, and
 * CloudFormation `DescribeStacks` on `VobizRecordingArchive-<stage>`.
 */

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Per-clone state of the command line (outputs files); ignored by git. */
export const STATE_DIR = '.vobiz-archive';
export const DEFAULT_LOCAL_PORT = 3000;

export function stackNameOf(stage: string): string {
  return `VobizRecordingArchive-${stage}`;
}

export interface AwsSelection {
  region?: string;
  profile?: string;
}

export type Target =
  | ({ kind: 'stage'; stage: string; stackName: string } & AwsSelection)
  | { kind: 'local'; port: number }
  /** Neither `--stage` nor `--local`: everything comes from the environment, as before the stages. */
  | ({ kind: 'environment' } & AwsSelection);

/** A stack output, and the environment variable that overrides it. */
export const OUTPUT_VARIABLES = {
  TableName: 'TABLE_NAME',
  BucketName: 'BUCKET_NAME',
  VobizSecretArn: 'VOBIZ_SECRET_ARN',
  UserPoolId: 'USER_POOL_ID',
  ApiUrl: 'ARCHIVE_API_URL',
  WebhookUrl: 'WEBHOOK_URL',
  VobizApiBaseUrl: 'VOBIZ_API_BASE_URL',
} as const;
export type OutputName = keyof typeof OUTPUT_VARIABLES;
/** Outputs that older stacks lack: without them the functions' own defaults apply. */
const OPTIONAL_OUTPUTS: ReadonlySet<OutputName> = new Set(['VobizApiBaseUrl']);

/** The stack could not be read, or lacks what the command needs: a failure (exit 1), with what to do. */
export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

type Env = Record<string, string | undefined>;

export interface OutputsFile {
  stack_name: string;
  stage: string;
  region: string;
  account?: string;
  written_at: string;
  outputs: Record<string, string>;
}

/** `VOBIZ_ARCHIVE_STATE_DIR` moves the outputs files (default: `.vobiz-archive/` in the clone). */
function stateDir(root: string): string {
  return process.env.VOBIZ_ARCHIVE_STATE_DIR || join(root, STATE_DIR);
}

export function outputsFilePath(stage: string, root = REPO_ROOT): string {
  return join(stateDir(root), `${stage}.outputs.json`);
}

export function readOutputsFile(stage: string, root = REPO_ROOT): OutputsFile | undefined {
  const file = outputsFilePath(stage, root);
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as OutputsFile;
    return parsed && typeof parsed.outputs === 'object' && parsed.stage === stage ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function writeOutputsFile(content: OutputsFile, root = REPO_ROOT): string {
  const file = outputsFilePath(content.stage, root);
  mkdirSync(stateDir(root), { recursive: true });
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  return file;
}

export function removeOutputsFile(stage: string, root = REPO_ROOT): void {
  rmSync(outputsFilePath(stage, root), { force: true });
}

/** `cdk deploy --outputs-file cdk-outputs.json`, as the README once suggested: that stack's outputs. */
function cdkOutputsFile(stackName: string, root: string): Record<string, string> | undefined {
  try {
    const all = JSON.parse(readFileSync(join(root, 'cdk-outputs.json'), 'utf8')) as Record<
      string,
      Record<string, string>
    >;
    return all[stackName];
  } catch {
    return undefined;
  }
}

/** The region in a stack id (`arn:aws:cloudformation:<region>:<account>:stack/…`). */
export function arnParts(arn: string | undefined): { region?: string; account?: string } {
  const match = /^arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]+):(\d{12}):/.exec(arn ?? '');
  return match ? { region: match[1], account: match[2] } : {};
}

/** DescribeStacks of one stack; a missing stack or missing credentials become a TargetError. */
export async function describeStack(cfn: CloudFormationClient, stackName: string): Promise<Stack> {
  // Loaded when used: every command's --help stays quick.
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  try {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks[0];
    if (!stack) throw new TargetError(`CloudFormation has no stack ${stackName}`);
    return stack;
  } catch (error) {
    throw explainAwsError(error, stackName);
  }
}

/** AWS errors a person can act on, in words. */
export function explainAwsError(error: unknown, stackName?: string): Error {
  if (error instanceof TargetError) return error;
  const e = error as Error & { name?: string };
  if (stackName && e.name === 'ValidationError' && /does not exist/.test(e.message))
    return new TargetError(
      `there is no stack ${stackName} in this account and region: deploy it (vobiz-archive deploy --stage ${stackName.replace(/^VobizRecordingArchive-/, '')}) or pick --region/--profile`,
    );
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/.test(e.message ?? ''))
    return new TargetError(
      'no AWS credentials: sign in (aws sso login, or AWS_PROFILE/--profile, or AWS_ACCESS_KEY_ID)',
    );
  if (/Region is missing/.test(e.message ?? ''))
    return new TargetError('no AWS region: pass --region, or set AWS_REGION');
  return e instanceof Error ? e : new Error(String(error));
}

export function stageOutputs(stack: Stack): Record<string, string> {
  return Object.fromEntries(
    (stack.Outputs ?? [])
      .filter((o) => o.OutputKey && o.OutputValue !== undefined)
      .map((o) => [o.OutputKey!, o.OutputValue!]),
  );
}

export interface LoadedOutputs {
  outputs: Record<string, string>;
  /** Where they came from, for messages: a file path or `DescribeStacks`. */
  source: string;
  region?: string;
}

/**
 * A stage's outputs, read once: the outputs file `deploy` wrote (when it is for the same region), then
 * `cdk-outputs.json`, then DescribeStacks.
 */
export class StackOutputs {
  private loading: Promise<LoadedOutputs> | undefined;

  constructor(
    readonly target: Extract<Target, { kind: 'stage' }>,
    private readonly cloudFormation: () => CloudFormationClient,
    private readonly root = REPO_ROOT,
  ) {}

  load(): Promise<LoadedOutputs> {
    this.loading ??= this.read();
    return this.loading;
  }

  private async read(): Promise<LoadedOutputs> {
    const file = readOutputsFile(this.target.stage, this.root);
    if (file && (!this.target.region || this.target.region === file.region))
      return {
        outputs: file.outputs,
        source: outputsFilePath(this.target.stage, this.root),
        region: file.region,
      };
    const legacy = this.target.region ? undefined : cdkOutputsFile(this.target.stackName, this.root);
    if (legacy) return { outputs: legacy, source: 'cdk-outputs.json' };
    const stack = await describeStack(this.cloudFormation(), this.target.stackName);
    return { outputs: stageOutputs(stack), source: 'DescribeStacks', region: arnParts(stack.StackId).region };
  }

  async require(name: string): Promise<string> {
    const { outputs, source } = await this.load();
    const value = outputs[name];
    if (!value)
      throw new TargetError(
        `stage ${this.target.stage} has no ${name} output (read from ${source}): deploy the current version (vobiz-archive deploy --stage ${this.target.stage})`,
      );
    return value;
  }
}

/** What the local stack's `/health` says about itself (`npm start`). */
export interface LocalHealth {
  status: string;
  vobiz: 'simulator' | 'vobiz';
  webhook_url: string;
  simulator_url: string | null;
  dynamodb_endpoint: string;
  s3_endpoint: string;
  data_dir: string | null;
  table_name?: string;
  bucket_name?: string;
  started_at?: string;
  archive_worker?: 'running' | 'stopped';
  discarded_batches?: number;
  redrive_interval_seconds?: number;
  lifecycle_interval_seconds?: number;
}

export async function localHealth(port: number, fetchImpl: typeof fetch = fetch): Promise<LocalHealth> {
  const url = `http://127.0.0.1:${port}/health`;
  let response: Response;
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(5_000) });
  } catch {
    throw new TargetError(
      `no local stack answers at ${url}: start it (npm start${port === DEFAULT_LOCAL_PORT ? '' : ` -- --port ${port}`}) or pass its --port`,
    );
  }
  if (response.status !== 200)
    throw new TargetError(`the local stack at ${url} is not ready (HTTP ${response.status}); try again`);
  return (await response.json()) as LocalHealth;
}

/**
 * The simulator's credentials, for commands that call Vobiz against the local stack: its account id
 * from its admin API, its token from the state file it keeps in the data directory (`--in-memory`
 * keeps none: then set VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN).
 */
async function simulatorCredentials(
  health: LocalHealth,
  fetchImpl: typeof fetch,
): Promise<{ authId: string; authToken: string } | undefined> {
  if (health.vobiz !== 'simulator' || !health.simulator_url || !health.data_dir) return undefined;
  try {
    const state = JSON.parse(readFileSync(join(health.data_dir, 'simulator.json'), 'utf8')) as {
      tokens?: { authToken?: string };
    };
    const account = (await (
      await fetchImpl(`${health.simulator_url}/_simulator`, { signal: AbortSignal.timeout(5_000) })
    ).json()) as { auth_id?: string };
    return state.tokens?.authToken && account.auth_id
      ? { authId: account.auth_id, authToken: state.tokens.authToken }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The environment that points a command at the running local stack (its emulators and simulator). */
export async function localEnv(
  port: number,
  env: Env,
  fetchImpl: typeof fetch = fetch,
): Promise<{ env: Env; health: LocalHealth }> {
  const health = await localHealth(port, fetchImpl);
  const { LOCAL_CREDENTIALS, LOCAL_REGION } = await import('../../local/emulators.js');
  const vobiz =
    env.VOBIZ_AUTH_ID && env.VOBIZ_AUTH_TOKEN ? undefined : await simulatorCredentials(health, fetchImpl);
  return {
    health,
    env: {
      ...env,
      TABLE_NAME: health.table_name ?? 'vobiz-recordings',
      BUCKET_NAME: health.bucket_name ?? 'vobiz-recordings-audio',
      AWS_ENDPOINT_URL_DYNAMODB: health.dynamodb_endpoint,
      AWS_ENDPOINT_URL_S3: health.s3_endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_REGION: LOCAL_REGION,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      ARCHIVE_API_URL: `http://127.0.0.1:${port}`,
      WEBHOOK_URL: health.webhook_url,
      VOBIZ_SECRET_ARN: undefined,
      ...(health.simulator_url
        ? { VOBIZ_API_BASE_URL: health.simulator_url, ALLOWED_MEDIA_ORIGINS: health.simulator_url }
        : {}),
      ...(vobiz ? { VOBIZ_AUTH_ID: vobiz.authId, VOBIZ_AUTH_TOKEN: vobiz.authToken } : {}),
    },
  };
}

export interface ResolvedEnv {
  env: Env;
  /** The stage's outputs (stage targets only), for what has no environment variable. */
  outputs?: StackOutputs;
  health?: LocalHealth;
}

/**
 * The environment a command runs with. For a stage, every needed output the environment does not set
 * is filled in from the stage (read only when something is missing); Vobiz credentials in the
 * environment (`VOBIZ_AUTH_ID` + `VOBIZ_AUTH_TOKEN`) win over the stage's secret. `--region` and
 * `--profile` become `AWS_REGION` and `AWS_PROFILE`.
 */
export async function resolveEnv(
  target: Target,
  env: Env,
  needs: readonly OutputName[],
  options: {
    stderr: Output;
    cloudFormation?: () => CloudFormationClient;
    fetch?: typeof fetch;
    root?: string;
  },
): Promise<ResolvedEnv> {
  if (target.kind === 'local') return localEnv(target.port, env, options.fetch);
  const selected: Env = {
    ...env,
    ...(target.region ? { AWS_REGION: target.region } : {}),
    ...(target.profile ? { AWS_PROFILE: target.profile } : {}),
  };
  if (target.kind === 'environment') return { env: selected };
  const { CloudFormationClient } = await import('@aws-sdk/client-cloudformation');
  const outputs = new StackOutputs(
    target,
    options.cloudFormation ?? (() => new CloudFormationClient(awsConfig(selected))),
    options.root,
  );
  const resolved: Env = { ...selected };
  const hasVobizEnv = Boolean(env.VOBIZ_AUTH_ID && env.VOBIZ_AUTH_TOKEN);
  for (const name of needs) {
    const variable = OUTPUT_VARIABLES[name];
    const overridden =
      name === 'VobizSecretArn' && hasVobizEnv
        ? 'VOBIZ_AUTH_ID/VOBIZ_AUTH_TOKEN'
        : env[variable]
          ? variable
          : undefined;
    if (overridden) {
      options.stderr.write(
        `note: ${overridden} from the environment overrides stage ${target.stage}'s ${name}\n`,
      );
      continue;
    }
    if (OPTIONAL_OUTPUTS.has(name)) {
      const value = (await outputs.load()).outputs[name];
      if (value) resolved[variable] = value;
    } else resolved[variable] = await outputs.require(name);
  }
  const { region } = needs.length > 0 ? await outputs.load() : { region: undefined };
  if (!resolved.AWS_REGION && !resolved.AWS_DEFAULT_REGION && region) resolved.AWS_REGION = region;
  return { env: resolved, outputs };
}

/**
 * SDK client settings from an environment map (not `process.env`), so that a command pointed at the
 * local stack, or a test, gets exactly its endpoints and credentials; in AWS the default chain applies.
 */
export function awsConfig(
  env: Env,
  service?: 'dynamodb' | 's3',
): {
  region?: string;
  profile?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  requestChecksumCalculation?: 'WHEN_REQUIRED';
  responseChecksumValidation?: 'WHEN_REQUIRED';
} {
  const endpoint =
    service === 'dynamodb'
      ? env.AWS_ENDPOINT_URL_DYNAMODB
      : service === 's3'
        ? env.AWS_ENDPOINT_URL_S3
        : undefined;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return {
    ...(region ? { region } : {}),
    // As the SDK's own chain does: a named profile wins over keys in the environment.
    ...(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(service === 's3' && endpoint ? { forcePathStyle: true } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY && !env.AWS_PROFILE
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
    ...(env.AWS_REQUEST_CHECKSUM_CALCULATION === 'WHEN_REQUIRED'
      ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const }
      : {}),
    ...(env.AWS_RESPONSE_CHECKSUM_VALIDATION === 'WHEN_REQUIRED'
      ? { responseChecksumValidation: 'WHEN_REQUIRED' as const }
      : {}),
  };
}
