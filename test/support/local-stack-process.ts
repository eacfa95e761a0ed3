import { spawn, type ChildProcess } from 'node:child_process';
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
 * cleaned of anything that would point it at real Vobiz credentials or another table.
 */
export function spawnLocalStack(args: string[], env: Record<string, string>): SpawnedStack {
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
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** `npm start -- --in-memory [args]` as a child process on free ports, once `/health` answers 200. */
export async function startLocalStack(
  env: Record<string, string> = {},
  args: readonly string[] = [],
): Promise<LocalStack & { port: number }> {
  const port = await freePort();
  const gateway = `http://127.0.0.1:${port}`;
  const {
    child,
    output: stackOutput,
    exited,
  } = spawnLocalStack(['--in-memory', ...args], {
    PORT: String(port),
    VOBIZ_SIMULATOR_PORT: String(await freePort()),
    ...env,
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    const forced = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(forced);
  };
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${stackOutput()}`);
    try {
      const response = await fetch(`${gateway}/health`);
      if (response.status === 200) {
        const health = (await response.json()) as LocalStack['health'];
        return { gateway, port, health, output: stackOutput, stop };
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the local stack did not become healthy in time:\n${stackOutput()}`);
    }
    await sleep(200);
  }
}
