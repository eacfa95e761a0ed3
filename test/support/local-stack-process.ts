import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../local/emulators.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface LocalStack {
  gateway: string;
  health: {
    webhook_url: string;
    simulator_url: string;
    dynamodb_endpoint: string;
    s3_endpoint: string;
  };
  output(): string;
  /** Ctrl-C, as a person stops it; resolves when it has exited (emulators stopped). */
  stop(): Promise<void>;
}

export interface SpawnedStack {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `npm start` as a child process (node directly, as the npm script runs it), with an environment
 * cleaned of anything that would point it at real Vobiz credentials or another table. With
 * `processGroup` it leads a process group of its own (DynamoDB Local's Java joins it), which
 * `process.kill(-pid, signal)` signals as a whole, as a terminal's Ctrl-C or a killed session does.
 */
export function spawnLocalStack(
  args: string[],
  env: Record<string, string>,
  options: { processGroup?: boolean } = {},
): SpawnedStack {
  // Cleaned of the test process's own settings; the caller's `env` may set any of them on purpose.
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'VOBIZ_AUTH_ID',
    'VOBIZ_AUTH_TOKEN',
    'VOBIZ_SECRET_ARN',
    'WEBHOOK_PUBLIC_URL',
    'TABLE_NAME',
    'BUCKET_NAME',
  ])
    delete childEnv[name];
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.processGroup ?? false,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** The `/health` body of a ready stack. */
export type Health = LocalStack['health'] & Record<string, unknown>;

/** Polls `/health` until it answers 200; fails if the stack exits first or is not ready in time. */
export async function waitForHealth(
  stack: SpawnedStack,
  gateway: string,
  timeoutMs = 120_000,
): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  let sawStarting = false;
  for (;;) {
    if (stack.child.exitCode !== null) throw new Error(`npm start exited early:\n${stack.output()}`);
    try {
      const response = await fetch(`${gateway}/health`);
      if (response.status === 200) return (await response.json()) as Health;
      if (response.status === 503) sawStarting = true;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`no healthy stack in time (saw 503: ${sawStarting}):\n${stack.output()}`);
    await sleep(200);
  }
}

/** `npm start -- --in-memory [args]` as a child process on free ports, once `/health` answers 200. */
export async function startLocalStack(
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<LocalStack & { port: number }> {
  const port = await freePort();
  const gateway = `http://127.0.0.1:${port}`;
  const stack = spawnLocalStack(['--in-memory', ...args], {
    PORT: String(port),
    VOBIZ_SIMULATOR_PORT: String(await freePort()),
    ...env,
  });
  const { child, exited } = stack;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const forced = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(forced);
  };
  try {
    const health = await waitForHealth(stack, gateway);
    return { gateway, port, health, output: stack.output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Direct children of a process, from /proc (Linux). */
export function childPids(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === pid ? [Number(entry)] : [];
      } catch {
        return [];
      }
    });
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Gone, or a zombie waiting for init to reap it. */
export async function waitUntilGone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!existsSync(`/proc/${pid}`)) return true;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return true;
    } catch {
      return true;
    }
    await sleep(100);
  }
  return false;
}
