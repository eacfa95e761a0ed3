import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminListGroupsForUserCommand,
  AdminRemoveUserFromGroupCommand,
  CognitoIdentityProviderClient,
  ListUsersCommand,
  ListUsersInGroupCommand,
  UsernameExistsException,
  UserNotFoundException,
  type UserType,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  CONSOLE_GROUPS,
  CONSOLE_USER_USAGE,
  parseCommandLine,
  UsageError,
  type ConsoleGroup,
} from './cli.js';
import { fail, HELP, setUp, targetEnv, type CommandIo, wantsJson } from './command.js';
import { formatTable, writeResult } from './output.js';
import type { Target } from './targets.js';

export { CONSOLE_GROUPS, type ConsoleGroup };

export interface ConsoleUserArgs {
  action: 'add' | 'remove' | 'list' | 'help';
  email?: string;
  group: ConsoleGroup;
  /** Undefined with `--stage` until the stage's UserPoolId output is read. */
  userPoolId?: string;
  region?: string;
  json: boolean;
  target: Target;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;
/** `<region>_<id>`, e.g. `ap-south-1_AbCdEf123`: the region is part of the id. */
const USER_POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+$/;

export function parseConsoleUserArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ConsoleUserArgs {
  const { values, positionals, help, json, target } = parseCommandLine(
    argv,
    { group: { type: 'string' }, 'user-pool-id': { type: 'string' } },
    'aws',
  );
  const [action, email, ...rest] = positionals;
  if (help || action === 'help') return { action: 'help', group: 'reviewers', json, target };
  if (action !== 'add' && action !== 'remove' && action !== 'list')
    throw new UsageError(
      action ? `unknown action "${action}": use add, remove or list` : 'give an action: add, remove or list',
    );
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (action === 'list' && email !== undefined) throw new UsageError('list takes no e-mail address');
  if (action !== 'list') {
    if (email === undefined) throw new UsageError(`${action} needs the user's e-mail address`);
    if (!EMAIL.test(email)) throw new UsageError(`"${email.slice(0, 100)}" is not an e-mail address`);
  }
  const groupValue = values.group as string | undefined;
  if (groupValue !== undefined && action !== 'add') throw new UsageError('--group goes with add');
  const group = groupValue ?? 'reviewers';
  if (!(CONSOLE_GROUPS as readonly string[]).includes(group))
    throw new UsageError(`--group must be reviewers or admins, got "${group}"`);
  const userPoolId = (values['user-pool-id'] as string | undefined) ?? env.USER_POOL_ID;
  if (!userPoolId && target.kind !== 'stage')
    throw new UsageError(
      'give the user pool id: --stage <name> (its UserPoolId output), --user-pool-id <id>, or USER_POOL_ID',
    );
  const region = target.kind === 'local' ? undefined : target.region;
  return {
    action,
    ...(email === undefined ? {} : { email: email.toLowerCase() }),
    group: group as ConsoleGroup,
    json,
    target,
    ...(userPoolId ? withPool(userPoolId, region) : region ? { region } : {}),
  };
}

/** The pool id checked, and the region it names unless --region says otherwise. */
function withPool(userPoolId: string, region: string | undefined): { userPoolId: string; region: string } {
  const match = USER_POOL_ID.exec(userPoolId);
  if (!match) throw new UsageError(`"${userPoolId}" is not a user pool id (like ap-south-1_AbCdEf123)`);
  return { userPoolId, region: region ?? match[1]! };
}

function attribute(user: UserType, name: string): string | undefined {
  return user.Attributes?.find((a) => a.Name === name)?.Value;
}

/**
 * `vobiz-archive console-user`: add, remove and list the people who may use the recordings console.
 * Exit code 0 done, 1 the operation failed (e.g. no such user), 2 usage or configuration.
 */
export async function runConsoleUserCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
  makeClient: (region: string) => CognitoIdentityProviderClient = (region) =>
    new CognitoIdentityProviderClient({ region, ...(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}) }),
): Promise<number> {
  const setup = await setUp(
    'console-user',
    CONSOLE_USER_USAGE,
    io,
    async () => {
      const args = parseConsoleUserArgs(argv, env);
      if (args.action === 'help') return HELP;
      if (args.userPoolId) return { args, pool: { userPoolId: args.userPoolId, region: args.region! } };
      const { env: resolved } = await targetEnv(args.target, env, ['UserPoolId'], io);
      return { args, pool: withPool(resolved.USER_POOL_ID!, args.region) };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { args, pool: target } = setup.value;
  const cognito = makeClient(target.region);
  const pool = { UserPoolId: target.userPoolId };
  try {
    switch (args.action) {
      case 'add':
        return await add(cognito, pool, args.email!, args.group, io, args.json);
      case 'remove':
        await cognito.send(new AdminDeleteUserCommand({ ...pool, Username: args.email! }));
        writeResult(
          io.stdout,
          args.json,
          { email: args.email, removed: true },
          () => `${args.email}: removed\n`,
        );
        return 0;
      case 'list':
        return await list(cognito, pool, io, args.json);
      default:
        return 2;
    }
  } catch (error) {
    if (error instanceof UserNotFoundException) {
      io.stderr.write(`console-user: there is no user ${args.email ?? ''} in ${target.userPoolId}\n`);
      return 1;
    }
    return fail('console-user', io, error, wantsJson(argv));
  } finally {
    cognito.destroy();
  }
}

async function add(
  cognito: CognitoIdentityProviderClient,
  pool: { UserPoolId: string },
  email: string,
  group: ConsoleGroup,
  io: CommandIo,
  json: boolean,
): Promise<number> {
  let created = true;
  try {
    await cognito.send(
      new AdminCreateUserCommand({
        ...pool,
        Username: email,
        UserAttributes: [
          { Name: 'email', Value: email },
          // The address is the one the administrator typed; the invitation itself proves it works.
          { Name: 'email_verified', Value: 'true' },
        ],
        DesiredDeliveryMediums: ['EMAIL'],
      }),
    );
  } catch (error) {
    if (!(error instanceof UsernameExistsException)) throw error;
    created = false;
  }
  const { Groups = [] } = await cognito.send(new AdminListGroupsForUserCommand({ ...pool, Username: email }));
  const current = Groups.map((g) => g.GroupName).filter((g): g is ConsoleGroup =>
    (CONSOLE_GROUPS as readonly (string | undefined)[]).includes(g),
  );
  for (const other of current.filter((g) => g !== group))
    await cognito.send(new AdminRemoveUserFromGroupCommand({ ...pool, Username: email, GroupName: other }));
  if (!current.includes(group))
    await cognito.send(new AdminAddUserToGroupCommand({ ...pool, Username: email, GroupName: group }));
  writeResult(io.stdout, json, { email, created, group, previous_groups: current }, () =>
    created
      ? `${email}: created in ${group}; Cognito e-mails a temporary password (valid 3 days), MFA is set up at first sign-in\n`
      : `${email}: already a user; group ${current.length ? `${current.join(', ')} → ` : ''}${group}\n`,
  );
  return 0;
}

async function list(
  cognito: CognitoIdentityProviderClient,
  pool: { UserPoolId: string },
  io: CommandIo,
  json: boolean,
): Promise<number> {
  const users: UserType[] = [];
  let token: string | undefined;
  do {
    const page = await cognito.send(new ListUsersCommand({ ...pool, PaginationToken: token }));
    users.push(...(page.Users ?? []));
    token = page.PaginationToken;
  } while (token);
  const groupsOf = new Map<string, string[]>();
  for (const group of CONSOLE_GROUPS) {
    let next: string | undefined;
    do {
      const page = await cognito.send(
        new ListUsersInGroupCommand({ ...pool, GroupName: group, NextToken: next }),
      );
      for (const user of page.Users ?? [])
        groupsOf.set(user.Username!, [...(groupsOf.get(user.Username!) ?? []), group]);
      next = page.NextToken;
    } while (next);
  }
  const rows = users
    .map((user) => ({
      email: attribute(user, 'email') ?? user.Username ?? '',
      status: user.UserStatus ?? '',
      enabled: user.Enabled !== false,
      groups: groupsOf.get(user.Username!) ?? [],
      created: user.UserCreateDate?.toISOString().slice(0, 10) ?? '',
      // The API access log names a console caller by this id (cognitoUser ends with `:CognitoSignIn:<sub>`).
      sub: attribute(user, 'sub') ?? '',
    }))
    .sort((a, b) => a.email.localeCompare(b.email));
  writeResult(io.stdout, json, { users: rows }, () =>
    rows.length === 0
      ? 'no users yet: vobiz-archive console-user add <email>\n'
      : formatTable(
          ['email', 'status', 'enabled', 'group', 'created', 'sub'],
          rows.map((r) => [
            r.email,
            r.status,
            r.enabled ? 'enabled' : 'disabled',
            r.groups.join(',') || '(none: no access)',
            r.created,
            r.sub,
          ]),
        ),
  );
  return 0;
}
