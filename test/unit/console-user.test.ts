import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConsoleUserArgs, runConsoleUserCommand } from '../../bin/lib/console-user-command.js';

const POOL = 'ap-south-1_AbCdEf123';
const cognito = mockClient(CognitoIdentityProviderClient);

function io() {
  let stdout = '';
  let stderr = '';
  return {
    io: { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
    out: () => stdout,
    err: () => stderr,
  };
}

async function run(argv: string[], env: Record<string, string> = { USER_POOL_ID: POOL }) {
  const captured = io();
  const regions: string[] = [];
  const code = await runConsoleUserCommand(argv, env, captured.io, (region) => {
    regions.push(region);
    return new CognitoIdentityProviderClient({ region });
  });
  return { code, out: captured.out(), err: captured.err(), regions };
}

beforeEach(() => cognito.reset());

describe('npm run console-user', () => {
  it('add creates the user with a Cognito-mailed temporary password and puts them in reviewers', async () => {
    cognito.on(AdminCreateUserCommand).resolves({});
    cognito.on(AdminListGroupsForUserCommand).resolves({ Groups: [] });
    cognito.on(AdminAddUserToGroupCommand).resolves({});
    const result = await run(['add', 'Asha@Example.com']);
    expect(result.code).toBe(0);
    expect(result.regions).toEqual(['ap-south-1']);
    expect(cognito.commandCalls(AdminCreateUserCommand)[0]!.args[0].input).toEqual({
      UserPoolId: POOL,
      Username: 'asha@example.com',
      UserAttributes: [
        { Name: 'email', Value: 'asha@example.com' },
        { Name: 'email_verified', Value: 'true' },
      ],
      DesiredDeliveryMediums: ['EMAIL'],
    });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0]!.args[0].input).toEqual({
      UserPoolId: POOL,
      Username: 'asha@example.com',
      GroupName: 'reviewers',
    });
    expect(result.out).toContain('asha@example.com: created in reviewers');
  });

  it('add for an existing user moves them to the asked group only', async () => {
    cognito
      .on(AdminCreateUserCommand)
      .rejects(new UsernameExistsException({ message: 'exists', $metadata: {} }));
    cognito
      .on(AdminListGroupsForUserCommand)
      .resolves({ Groups: [{ GroupName: 'reviewers' }, { GroupName: 'other' }] });
    const result = await run(['add', 'asha@example.com', '--group', 'admins']);
    expect(result.code).toBe(0);
    expect(
      cognito.commandCalls(AdminRemoveUserFromGroupCommand).map((c) => c.args[0].input.GroupName),
    ).toEqual(['reviewers']);
    expect(cognito.commandCalls(AdminAddUserToGroupCommand).map((c) => c.args[0].input.GroupName)).toEqual([
      'admins',
    ]);
    expect(result.out).toContain('already a user; group reviewers → admins');
  });

  it('remove deletes the user, and says so when there is none (exit 1)', async () => {
    cognito
      .on(AdminDeleteUserCommand)
      .resolvesOnce({})
      .rejects(new UserNotFoundException({ message: 'no', $metadata: {} }));
    expect((await run(['remove', 'asha@example.com'])).code).toBe(0);
    expect(cognito.commandCalls(AdminDeleteUserCommand)[0]!.args[0].input).toEqual({
      UserPoolId: POOL,
      Username: 'asha@example.com',
    });
    const missing = await run(['remove', 'ghost@example.com']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('there is no user ghost@example.com');
  });

  it('list shows every user with status and group, following the pages', async () => {
    cognito
      .on(ListUsersCommand)
      .resolvesOnce({
        Users: [
          {
            Username: 'u-2',
            UserStatus: 'FORCE_CHANGE_PASSWORD',
            Enabled: true,
            Attributes: [
              { Name: 'email', Value: 'zoe@example.com' },
              { Name: 'sub', Value: '7c1e2f40-0000-4000-8000-000000000002' },
            ],
            UserCreateDate: new Date('2026-11-01T00:00:00Z'),
          },
        ],
        PaginationToken: 'next',
      })
      .resolvesOnce({
        Users: [
          {
            Username: 'u-1',
            UserStatus: 'CONFIRMED',
            Enabled: true,
            Attributes: [{ Name: 'email', Value: 'asha@example.com' }],
          },
          {
            Username: 'u-3',
            UserStatus: 'CONFIRMED',
            Enabled: false,
            Attributes: [{ Name: 'email', Value: 'max@example.com' }],
          },
        ],
      });
    cognito.on(ListUsersInGroupCommand, { GroupName: 'admins' }).resolves({ Users: [{ Username: 'u-1' }] });
    cognito
      .on(ListUsersInGroupCommand, { GroupName: 'reviewers' })
      .resolves({ Users: [{ Username: 'u-2' }] });
    const result = await run(['list']);
    expect(result.code).toBe(0);
    const lines = result.out.trim().split('\n');
    expect(lines[0]).toMatch(/^email\s+status\s+enabled\s+group\s+created\s+sub$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/))).toEqual([
      ['asha@example.com', 'CONFIRMED', 'enabled', 'admins'],
      ['max@example.com', 'CONFIRMED', 'disabled', '(none: no access)'],
      [
        'zoe@example.com',
        'FORCE_CHANGE_PASSWORD',
        'enabled',
        'reviewers',
        '2026-11-01',
        '7c1e2f40-0000-4000-8000-000000000002',
      ],
    ]);
  });

  it('reports an AWS failure with its name and exit code 1', async () => {
    cognito
      .on(ListUsersCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const result = await run(['list']);
    expect([result.code, result.err]).toEqual([
      1,
      'console-user: AccessDeniedException: User is not authorized\n',
    ]);
  });

  it('reads the pool id from --user-pool-id or USER_POOL_ID and the region from it, unless --region is given', () => {
    expect(parseConsoleUserArgs(['list', '--user-pool-id', 'eu-west-1_X1'], {})).toMatchObject({
      userPoolId: 'eu-west-1_X1',
      region: 'eu-west-1',
    });
    expect(parseConsoleUserArgs(['list', '--region', 'us-east-1'], { USER_POOL_ID: POOL }).region).toBe(
      'us-east-1',
    );
  });
});

describe('npm run console-user as a process', () => {
  const ROOT = fileURLToPath(new URL('../..', import.meta.url));

  function cli(args: string[], env: Record<string, string> = {}) {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (!('USER_POOL_ID' in env)) delete childEnv.USER_POOL_ID;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bin/vobiz-archive.ts', 'console-user', ...args],
      {
        cwd: ROOT,
        env: childEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise<{ code: number | null; output: string }>((resolve) =>
      child.once('exit', (code) => resolve({ code, output })),
    );
  }

  it.each([
    [['promote', 'a@example.com'], 'unknown action "promote"'],
    [['add'], "add needs the user's e-mail address"],
    [['add', 'not-an-address'], 'is not an e-mail address'],
    [['add', 'a@example.com', '--group', 'owners'], '--group must be reviewers or admins'],
    [['list'], 'give the user pool id'],
    [['list', '--user-pool-id', 'pool'], 'is not a user pool id'],
    [['list', '--bogus'], "Unknown option '--bogus'"],
  ])(
    'exits 2 with the usage for %j',
    async (args, message) => {
      const { code, output } = await cli(args);
      expect(code).toBe(2);
      expect(output).toContain(message);
      expect(output).toContain('Usage: vobiz-archive console-user add <email>');
    },
    30_000,
  );

  it('prints the usage for --help and exits 0', async () => {
    const { code, output } = await cli(['--help']);
    expect(code).toBe(0);
    expect(output).toContain('reviewers: search, play, download');
  }, 30_000);
});
