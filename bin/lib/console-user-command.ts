import { parseArgs } from 'node:util';
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
import type { CommandIo } from './command.js';
import { UsageError } from './cli.js';

/** The console's groups (infra/console.ts): what each may do is in docs/guides/console-admins.md. */
export const CONSOLE_GROUPS = ['reviewers', 'admins'] as const;
export type ConsoleGroup = (typeof CONSOLE_GROUPS)[number];

export const CONSOLE_USER_USAGE = `Usage: npm run console-user -- add <email> [--group reviewers|admins] [--user-pool-id <id>] [--region <region>]
       npm run console-user -- remove <email> [--user-pool-id <id>] [--region <region>]
       npm run console-user -- list [--user-pool-id <id>] [--region <region>]

add     creates the user (Cognito e-mails a temporary password; it expires after 3 days) and puts them
        in the group (default reviewers: search, play, download; admins also: legal hold, erasure, audit).
        For an existing user it only changes the group.
remove  deletes the user; their signed-in sessions end when their credentials expire (at most 1 hour).
list    shows every user with their status, group and sub (the id the API access log names them by).
The user pool id is the stack output UserPoolId: --user-pool-id, or USER_POOL_ID. AWS credentials as usual.`;

export interface ConsoleUserArgs {
  action: 'add' | 'remove' | 'list' | 'help';
  email?: string;
  group: ConsoleGroup;
  userPoolId: string;
  region: string;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;
/** `<region>_<id>`, e.g. `ap-south-1_AbCdEf123`: the region is part of the id. */
const USER_POOL_ID = /^([a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+$/;

export function parseConsoleUserArgs(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): ConsoleUserArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        group: { type: 'string' },
        'user-pool-id': { type: 'string' },
        region: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [action, email, ...rest] = positionals;
  if (values.help || action === 'help')
    return { action: 'help', group: 'reviewers', userPoolId: '', region: '' };
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
  if (values.group !== undefined && action !== 'add') throw new UsageError('--group goes with add');
  const group = values.group ?? 'reviewers';
  if (!(CONSOLE_GROUPS as readonly string[]).includes(group))
    throw new UsageError(`--group must be reviewers or admins, got "${group}"`);
  const userPoolId = values['user-pool-id'] ?? env.USER_POOL_ID;
  if (!userPoolId)
    throw new UsageError('give the user pool id: --user-pool-id <UserPoolId output>, or USER_POOL_ID');
  const match = USER_POOL_ID.exec(userPoolId);
  if (!match) throw new UsageError(`"${userPoolId}" is not a user pool id (like ap-south-1_AbCdEf123)`);
  return {
    action,
    ...(email === undefined ? {} : { email: email.toLowerCase() }),
    group: group as ConsoleGroup,
    userPoolId,
    region: values.region ?? match[1]!,
  };
}

function attribute(user: UserType, name: string): string | undefined {
  return user.Attributes?.find((a) => a.Name === name)?.Value;
}

/**
 * `npm run console-user`: add, remove and list the people who may use the recordings console.
 * Exit code 0 done, 1 the operation failed (e.g. no such user), 2 usage or configuration.
 */
export async function runConsoleUserCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
  makeClient: (region: string) => CognitoIdentityProviderClient = (region) =>
    new CognitoIdentityProviderClient({ region }),
): Promise<number> {
  let args: ConsoleUserArgs;
  try {
    args = parseConsoleUserArgs(argv, env);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`console-user: ${error.message}\n\n${CONSOLE_USER_USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (args.action === 'help') {
    io.stdout.write(`${CONSOLE_USER_USAGE}\n`);
    return 0;
  }
  const cognito = makeClient(args.region);
  const pool = { UserPoolId: args.userPoolId };
  try {
    switch (args.action) {
      case 'add':
        return await add(cognito, pool, args.email!, args.group, io);
      case 'remove':
        await cognito.send(new AdminDeleteUserCommand({ ...pool, Username: args.email! }));
        io.stdout.write(`${args.email}: removed\n`);
        return 0;
      case 'list':
        return await list(cognito, pool, io);
    }
  } catch (error) {
    if (error instanceof UserNotFoundException) {
      io.stderr.write(`console-user: there is no user ${args.email ?? ''} in ${args.userPoolId}\n`);
      return 1;
    }
    const name = (error as Error).name;
    io.stderr.write(`console-user: ${name}: ${(error as Error).message}\n`);
    return 1;
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
  io.stdout.write(
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
  if (users.length === 0) {
    io.stdout.write('no users yet: npm run console-user -- add <email>\n');
    return 0;
  }
  const rows = users
    .map((user) => [
      attribute(user, 'email') ?? user.Username ?? '',
      user.UserStatus ?? '',
      user.Enabled === false ? 'disabled' : 'enabled',
      groupsOf.get(user.Username!)?.join(',') ?? '(none: no access)',
      user.UserCreateDate?.toISOString().slice(0, 10) ?? '',
      // The API access log names a console caller by this id (cognitoUser ends with `:CognitoSignIn:<sub>`).
      attribute(user, 'sub') ?? '',
    ])
    .sort((a, b) => a[0]!.localeCompare(b[0]!));
  const header = ['email', 'status', 'enabled', 'group', 'created', 'sub'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows])
    io.stdout.write(
      `${row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  return 0;
}
