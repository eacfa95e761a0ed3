import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../bin/lib/doctor.js';
import type { SimulatedRecording } from '../../local/simulator.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { startLocalStack, type LocalStack } from '../support/local-stack-process.js';

/**
 * `npm run doctor -- --local --port N --json` (the same command) against the real local stack: a fresh
 * `npm start`; one whose Vobiz credentials are refused; one started without the archive worker while
 * callbacks wait. The three stacks start first, one after another, then each is examined.
 */
const run = promisify(execFile);

/** `vobiz-archive <command> --local --port N … --json` as a process, from an environment without AWS names. */
async function local<T>(stack: LocalStack & { port: number }, command: string, args: string[] = []) {
  const env: Record<string, string | undefined> = { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' };
  for (const name of ['TABLE_NAME', 'BUCKET_NAME', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_S3'])
    delete env[name];
  const argv = ['--import', 'tsx', 'bin/vobiz-archive.ts', command, ...args];
  argv.push('--local', '--port', String(stack.port), '--json');
  try {
    const { stdout } = await run(process.execPath, argv, { env });
    return { code: 0, doc: JSON.parse(stdout) as T };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, doc: JSON.parse(failed.stdout) as T };
  }
}

const doctor = (stack: LocalStack & { port: number }) =>
  local<{ ok: boolean; checks: Check[] }>(stack, 'doctor');

const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

let fake: VobizFake;
let healthy: LocalStack & { port: number };
let wrongToken: LocalStack & { port: number };
let noWorker: LocalStack & { port: number };

beforeAll(async () => {
  fake = await new VobizFake().start();
  // One after another: three JVMs starting at once on a busy machine can miss DynamoDB Local's deadline.
  healthy = await startLocalStack();
  // The stack talks to "Vobiz" (here the fake) with a token it refuses, as after a rotation at Vobiz.
  wrongToken = await startLocalStack({
    VOBIZ_AUTH_ID: fake.authId,
    VOBIZ_AUTH_TOKEN: 'rotated-at-vobiz',
    VOBIZ_API_BASE_URL: fake.baseUrl,
    ALLOWED_MEDIA_ORIGINS: fake.baseUrl,
  });
  noWorker = await startLocalStack({}, ['--no-worker']);
}, 600_000);

afterAll(async () => {
  await Promise.allSettled([healthy?.stop(), wrongToken?.stop(), noWorker?.stop()]);
  await fake?.stop();
}, 60_000);

describe('vobiz-archive doctor --local', () => {
  it('reports every check ok against a fresh npm start (exit 0)', async () => {
    const { code, doc } = await doctor(healthy);
    expect(doc.checks.filter((c) => !c.ok)).toEqual([]);
    expect([code, doc.ok]).toEqual([0, true]);
    expect(doc.checks.map((c) => c.name)).toEqual([
      'stack',
      'vobiz-token',
      'webhook',
      'archive-trigger',
      'dead-letter-queue',
      'pending',
      'failed',
      'backfill-sweep',
      'lifecycle',
    ]);
    expect(byName(doc.checks).webhook!.detail).toContain('refused with 401');
  }, 120_000);

  it('names the token check when Vobiz refuses the stack’s token (exit 1)', async () => {
    const { code, doc } = await doctor(wrongToken);
    expect([code, doc.ok]).toEqual([1, false]);
    const token = byName(doc.checks)['vobiz-token']!;
    expect(token).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`refused auth id ${fake.authId}`),
    });
    expect(token.fix).toContain('VOBIZ_AUTH_TOKEN');
    expect(JSON.stringify(doc)).not.toContain('rotated-at-vobiz');
  }, 120_000);

  it('names the stopped worker, with the callbacks waiting as pending (exit 1)', async () => {
    const created = await fetch(`${noWorker.health.simulator_url}/_simulator/recordings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 3, size_bytes: 4096, callback_url: noWorker.health.webhook_url }),
    });
    const { recordings } = (await created.json()) as { recordings: SimulatedRecording[] };
    for (const { callback } of recordings) {
      const answer = await fetch(callback!.url, {
        method: 'POST',
        headers: callback!.headers,
        body: callback!.body,
      });
      expect(answer.status).toBe(200);
    }
    const { code, doc } = await doctor(noWorker);
    expect([code, doc.ok]).toEqual([1, false]);
    const checks = byName(doc.checks);
    expect(doc.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['archive-trigger']);
    expect(checks['archive-trigger']!.fix).toContain('without --no-worker');
    expect(checks.pending!.detail).toBe(
      '0 recordings pending for more than 10 minutes (3 recordings pending in all)',
    );
    // The other commands find the same stack with --local: its API (unsigned) and its table.
    const listed = await local<{ items: { recording_id: string; status: string }[] }>(noWorker, 'query', [
      '/recordings?status=pending',
    ]);
    expect(listed.doc.items.map((r) => r.recording_id).sort()).toEqual(
      recordings.map((r) => r.recording_id).sort(),
    );
    const retried = await local<{ reset: number; results: unknown[] }>(noWorker, 'retry', [
      '--all-failed',
      '--dry-run',
    ]);
    expect([retried.code, retried.doc.reset, retried.doc.results]).toEqual([0, 0, []]);
  }, 180_000);
});
