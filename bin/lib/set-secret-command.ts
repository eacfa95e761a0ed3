import { setTimeout as sleep } from 'node:timers/promises';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  ResourceConflictException,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { checkVobizCredentials } from '../../functions/shared/adapters/vobiz-check.js';
import {
  AUTH_ID_PATTERN,
  VOBIZ_SECRET_PLACEHOLDER_AUTH_ID,
  type VobizCredentials,
} from '../../functions/shared/config.js';
import { parseCommandLine, SET_SECRET_USAGE, UsageError } from './cli.js';
import { fail, HELP, setUp, targetEnv, type CommandIo, wantsJson } from './command.js';
import { stackResources } from './doctor-probes.js';
import { describeError, formatRows, writeResult } from './output.js';
import { ask, readAll } from './prompt.js';
import { awsConfig } from './targets.js';

const DEFAULT_VOBIZ_API = 'https://api.vobiz.ai';
/** Lambda allows 256 characters of description; the marker replaces the previous one. */
const RECYCLE_MARKER = / \[Vobiz credentials updated [^\]]*\]$/;

/** Credentials read from a pipe: JSON `{auth_id, auth_token, parent_auth_token?}` or one value per line. */
export function parseCredentialsInput(text: string, authIdFlag: string | undefined): VobizCredentials {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw new UsageError('stdin is not valid JSON: give {"auth_id": "…", "auth_token": "…"}');
    }
    const field = (name: string) => (typeof value[name] === 'string' ? value[name].trim() : undefined);
    return credentials(authIdFlag ?? field('auth_id'), field('auth_token'), field('parent_auth_token'));
  }
  const lines = trimmed.split(/\r?\n/).map((line) => line.trim());
  if (authIdFlag !== undefined) return credentials(authIdFlag, lines[0], lines[1]);
  return credentials(lines[0], lines[1], lines[2]);
}

/** The credentials, or a usage error saying what is wrong with them (the token itself is never shown). */
export function credentials(
  authId: string | undefined,
  authToken: string | undefined,
  parent: string | undefined,
): VobizCredentials {
  if (!authId) throw new UsageError('no Auth ID given');
  if (authId === VOBIZ_SECRET_PLACEHOLDER_AUTH_ID)
    throw new UsageError('that is the placeholder the stack wrote, not your Vobiz Auth ID');
  if (!AUTH_ID_PATTERN.test(authId))
    throw new UsageError('the Auth ID must be letters, digits, - and _ (as the Vobiz console shows it)');
  if (!authToken) throw new UsageError('no Auth Token given');
  if (/\s/.test(authToken) || authToken.length > 256)
    throw new UsageError('the Auth Token has spaces or is too long');
  if (parent !== undefined && parent !== '' && /\s/.test(parent))
    throw new UsageError('the parent Auth Token has spaces');
  return { authId, authToken, ...(parent ? { parentAuthToken: parent } : {}) };
}

/**
 * `vobiz-archive set-secret`: checks the Vobiz credentials with Vobiz, writes them into the stage's
 * secret, recycles the functions that hold them, prints the callback URL. Exit code 0 written, 1 Vobiz
 * refused them (nothing written) or a write failed, 2 usage (the input included).
 */
export async function runSetSecretCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
  fetchImpl?: typeof fetch,
): Promise<number> {
  const setup = await setUp(
    'set-secret',
    SET_SECRET_USAGE,
    io,
    async () => {
      const { values, positionals, help, json, target } = parseCommandLine(
        argv,
        {
          'auth-id': { type: 'string' },
          'skip-check': { type: 'boolean', default: false },
          'no-recycle': { type: 'boolean', default: false },
        },
        'stage-or-local',
      );
      if (help) return HELP;
      if (target.kind === 'local')
        throw new UsageError(
          'the local stack has no secret: it reads VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN from its environment when it starts; restart npm start with them set',
        );
      if (target.kind !== 'stage') throw new UsageError('give the stage: --stage <name>');
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const stdin = io.stdin;
      const authIdFlag = (values['auth-id'] as string | undefined)?.trim();
      let given: VobizCredentials;
      if (stdin?.isTTY) {
        const authId = authIdFlag ?? (await ask(io, stdin, 'Vobiz Auth ID: '))?.trim();
        const authToken = (await ask(io, stdin, 'Vobiz Auth Token (not shown): ', { hidden: true }))?.trim();
        const parent = (
          await ask(io, stdin, 'Parent Auth Token, for a sub-account (not shown; Enter to skip): ', {
            hidden: true,
          })
        )?.trim();
        given = credentials(authId, authToken, parent);
      } else {
        if (!stdin) throw new UsageError('no terminal and no stdin to read the credentials from');
        given = parseCredentialsInput(await readAll(stdin), authIdFlag);
      }
      const { env: resolved, outputs } = await targetEnv(
        target,
        env,
        ['VobizSecretArn', 'WebhookUrl', 'VobizApiBaseUrl'],
        io,
      );
      return {
        json,
        target,
        resolved,
        cfn: outputs,
        given,
        skipCheck: values['skip-check'] === true,
        recycle: values['no-recycle'] !== true,
      };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { json, target, resolved, given, skipCheck, recycle } = setup.value;
  const secretArn = resolved.VOBIZ_SECRET_ARN!;
  const baseUrl = resolved.VOBIZ_API_BASE_URL ?? DEFAULT_VOBIZ_API;

  if (!skipCheck) {
    io.stderr.write(`set-secret: asking Vobiz (${baseUrl}) about auth id ${given.authId}…\n`);
    const check = await checkVobizCredentials(baseUrl, given, fetchImpl ? { fetch: fetchImpl } : {});
    if (!check.ok) {
      io.stderr.write(
        `set-secret: ${check.detail}\nNothing was written.${check.reason === 'unreachable' ? ' Try again, or --skip-check to write without asking Vobiz.' : ''}\n`,
      );
      return 1;
    }
  }

  const config = awsConfig(resolved);
  const secrets = new SecretsManagerClient(config);
  try {
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: secretArn,
        SecretString: JSON.stringify({
          auth_id: given.authId,
          auth_token: given.authToken,
          ...(given.parentAuthToken ? { parent_auth_token: given.parentAuthToken } : {}),
        }),
      }),
    );
  } catch (error) {
    return fail('set-secret', io, error, wantsJson(argv));
  } finally {
    secrets.destroy();
  }

  let recycled: string[] = [];
  let recycleError: string | undefined;
  if (recycle) {
    try {
      recycled = await recycleFunctions(target.stackName, secretArn, config, io.clock?.nowMs() ?? Date.now());
    } catch (error) {
      recycleError = describeError(error);
      io.stderr.write(
        `set-secret: the secret is written, but the functions could not be recycled (${recycleError}); they read the new value by themselves within 5 minutes\n`,
      );
    }
  }
  const callbackUrl = resolved.WEBHOOK_URL!;
  writeResult(
    io.stdout,
    json,
    {
      stage: target.stage,
      secret_arn: secretArn,
      auth_id: given.authId,
      checked_with_vobiz: !skipCheck,
      recycled,
      ...(recycleError ? { recycle_error: recycleError } : {}),
      callback_url: callbackUrl,
    },
    () =>
      formatRows([
        ['auth id', given.authId],
        ['checked with Vobiz', skipCheck ? 'no (--skip-check)' : 'yes: accepted'],
        ['secret', secretArn],
        ['recycled', recycle ? recycled.join(', ') || 'none' : 'no (--no-recycle): within 5 minutes'],
      ]) +
      `\nGive Vobiz this recording callback URL (callback_url of Start Recording, or the <Record> action):\n${callbackUrl}\n`,
  );
  return 0;
}

/**
 * The README's "after a token change", done: every function of the stack whose environment names the
 * secret gets a new description, which makes Lambda start fresh containers (they read the secret at cold
 * start). A function whose last update is still in progress is retried a few times.
 */
export async function recycleFunctions(
  stackName: string,
  secretArn: string,
  config: ReturnType<typeof awsConfig>,
  nowMs: number,
): Promise<string[]> {
  const cfn = new CloudFormationClient(config);
  const lambda = new LambdaClient(config);
  try {
    const functions = (await stackResources(cfn, stackName))
      .filter((r) => r.ResourceType === 'AWS::Lambda::Function' && r.PhysicalResourceId)
      .map((r) => r.PhysicalResourceId!);
    const recycled: string[] = [];
    for (const name of functions) {
      const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
      if (current.Environment?.Variables?.VOBIZ_SECRET_ARN !== secretArn) continue;
      const base = (current.Description ?? '').replace(RECYCLE_MARKER, '');
      const marker = ` [Vobiz credentials updated ${new Date(nowMs).toISOString()}]`;
      const description = `${base.slice(0, 256 - marker.length)}${marker}`;
      for (let attempt = 1; ; attempt++) {
        try {
          await lambda.send(
            new UpdateFunctionConfigurationCommand({ FunctionName: name, Description: description }),
          );
          break;
        } catch (error) {
          if (!(error instanceof ResourceConflictException) || attempt >= 5) throw error;
          await sleep(2_000 * attempt);
        }
      }
      recycled.push(name);
    }
    return recycled;
  } finally {
    cfn.destroy();
    lambda.destroy();
  }
}
