import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../bin/lib/commands.js';
import { freePort } from '../../local/emulators.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { redriveEnv, type Emulators } from '../support/redrive.js';

/**
 * Every command of `vobiz-archive` through its real process (one after another: a process each, and the
 * machine may be busy): `--help` (stdout, exit 0), a usage error
 * (usage on stderr, exit 2) and `--json` (exactly one JSON document on stdout). A command added to the
 * registry without a case here fails the first test.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], env: Record<string, string | undefined>, stdin?: string): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/vobiz-archive.ts', ...args], {
    cwd: ROOT,
    env: { ...env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(stdin ?? '');
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

let emulators: Emulators;
let fake: VobizFake;
let api: Server;
let apiUrl: string;
/** An environment for the commands that talk to AWS: every AWS endpoint is a closed local port. */
let noAws: Record<string, string | undefined>;
/** The emulators and the Vobiz fake, as the data commands use them. */
let data: Record<string, string | undefined>;
let closedPort: number;

beforeAll(async () => {
  emulators = await useEmulators();
  fake = await new VobizFake().start();
  closedPort = await freePort();
  api = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ items: [{ recording_id: 'rec-1', status: 'stored' }], next_cursor: null }));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'vobiz-archive-state-'));
  const base: Record<string, string | undefined> = { ...process.env, VOBIZ_ARCHIVE_STATE_DIR: stateDir };
  for (const name of ['TABLE_NAME', 'BUCKET_NAME', 'VOBIZ_SECRET_ARN', 'USER_POOL_ID', 'ARCHIVE_API_URL'])
    delete base[name];
  noAws = {
    ...base,
    AWS_ENDPOINT_URL: `http://127.0.0.1:${closedPort}`,
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${closedPort}`,
    AWS_ACCESS_KEY_ID: 'AKIDNOTREAL',
    AWS_SECRET_ACCESS_KEY: 'not-real',
    AWS_REGION: 'us-east-1',
    AWS_MAX_ATTEMPTS: '1',
  };
  data = { ...redriveEnv(fake, emulators), VOBIZ_ARCHIVE_STATE_DIR: stateDir, LIFECYCLE_ACTOR: 'cli test' };
});

afterAll(async () => {
  await fake.stop();
  await new Promise((resolve) => api.close(resolve));
});

type JsonCase = () => {
  args: string[];
  env: Record<string, string | undefined>;
  stdin?: string;
  code: number;
  expect: (doc: Record<string, unknown>) => void;
};

const failedWithoutAws = (doc: Record<string, unknown>) =>
  expect(doc).toMatchObject({ ok: false, error: expect.any(String) });

/** Per command: arguments that are a usage error, and a --json run with what its document must hold. */
const CASES: Record<string, { usageError: string[]; json: JsonCase }> = {
  deploy: {
    usageError: ['--stage', 'dev', '-c', 'noSuchSetting=1'],
    json: () => ({ args: ['--stage', 'dev', '--json'], env: noAws, code: 1, expect: failedWithoutAws }),
  },
  destroy: {
    // No terminal to confirm on and no --yes.
    usageError: ['--stage', 'dev'],
    json: () => ({
      args: ['--stage', 'dev', '--yes', '--json'],
      env: noAws,
      code: 1,
      expect: failedWithoutAws,
    }),
  },
  'set-secret': {
    usageError: ['--local'],
    json: () => ({
      args: ['--stage', 'dev', '--skip-check', '--json'],
      env: noAws,
      stdin: JSON.stringify({ auth_id: 'MA_TEST', auth_token: 'token' }),
      code: 1,
      expect: failedWithoutAws,
    }),
  },
  doctor: {
    usageError: [],
    json: () => ({
      args: ['--local', '--port', String(closedPort), '--json'],
      env: noAws,
      code: 1,
      expect: (doc) =>
        expect(doc).toMatchObject({
          ok: false,
          checks: [
            {
              name: 'stack',
              ok: false,
              detail: expect.stringContaining('no local stack'),
              fix: expect.any(String),
            },
          ],
        }),
    }),
  },
  query: {
    usageError: ['/recordings', '--csv', '--jsonl'],
    json: () => ({
      args: ['/recordings', '--api-url', apiUrl, '--json'],
      env: data,
      code: 0,
      expect: (doc) =>
        expect(doc).toEqual({ items: [{ recording_id: 'rec-1', status: 'stored' }], next_cursor: null }),
    }),
  },
  backfill: {
    usageError: ['--until', '2026-01-01'],
    json: () => ({
      args: ['--since', new Date(Date.now() - 3_600_000).toISOString(), '--dry-run', '--json'],
      env: data,
      code: 0,
      expect: (doc) => expect(doc).toMatchObject({ found: 0, enqueued: 0, dry_run: true, complete: true }),
    }),
  },
  retry: {
    usageError: [],
    json: () => ({
      args: ['--all-failed', '--dry-run', '--json'],
      env: data,
      code: 0,
      expect: (doc) => expect(doc).toMatchObject({ dry_run: true, reset: 0, errors: 0, results: [] }),
    }),
  },
  erase: {
    usageError: ['--id', 'bad..id'],
    json: () => ({
      args: ['--id', 'never-archived-1', '--dry-run', '--json'],
      env: data,
      code: 0,
      expect: (doc) =>
        expect(doc).toMatchObject({
          dry_run: true,
          wouldErase: 1,
          results: [{ recording_id: 'never-archived-1', outcome: 'would_erase' }],
        }),
    }),
  },
  'vobiz-cleanup': {
    usageError: ['--older-than', '30 days'],
    json: () => ({
      args: ['--dry-run', '--json'],
      env: data,
      code: 0,
      expect: (doc) => expect(doc).toMatchObject({ dry_run: true, examined: 0, failed: 0 }),
    }),
  },
  'lifecycle-index': {
    usageError: ['unexpected'],
    json: () => ({
      args: ['--dry-run', '--json'],
      env: data,
      code: 0,
      expect: (doc) => expect(doc).toMatchObject({ dry_run: true, examined: 0, indexed: 0, held_indexed: 0 }),
    }),
  },
  'console-user': {
    usageError: ['promote', 'a@example.com'],
    json: () => ({
      args: ['list', '--user-pool-id', 'us-east-1_Abc123', '--json'],
      env: noAws,
      code: 1,
      expect: failedWithoutAws,
    }),
  },
};

it('has a case for every command of the registry', () => {
  expect(Object.keys(CASES).sort()).toEqual(COMMANDS.map((c) => c.name).sort());
});

it('vobiz-archive --help lists every command on one line each, on stdout, exit 0', async () => {
  const run = await cli(['--help'], process.env);
  expect(run.code).toBe(0);
  for (const command of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${command.name}\\s+\\S.*$`, 'm'));
  const unknown = await cli(['frobnicate'], process.env);
  expect([unknown.code, unknown.stdout]).toEqual([2, '']);
  expect(unknown.stderr).toContain('unknown command "frobnicate"');
}, 180_000);

describe.each(COMMANDS.map((c) => [c.name, c] as const))('vobiz-archive %s', (name, command) => {
  const testCase = CASES[name]!;

  it('--help prints its usage on stdout and exits 0', async () => {
    const run = await cli([name, '--help'], process.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${command.usage}\n`);
    expect(run.stdout.startsWith(`Usage: vobiz-archive ${name}`)).toBe(true);
    expect(run.stderr).toBe('');
  }, 180_000);

  it('a usage error prints the message and the usage on stderr and exits 2', async () => {
    for (const args of [testCase.usageError, ['--no-such-flag']]) {
      const run = await cli([name, ...args], noAws);
      expect(run.code, `${name} ${args.join(' ')}: ${run.stderr}`).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(new RegExp(`^${name}: .+\\n\\n`));
      expect(run.stderr).toContain(command.usage);
    }
  }, 180_000);

  it('--json prints exactly one JSON document on stdout', async () => {
    const { args, env, stdin, code, expect: check } = testCase.json();
    const run = await cli([name, ...args], env, stdin);
    expect(run.code, run.stderr).toBe(code);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    check(doc);
  }, 180_000);
});
