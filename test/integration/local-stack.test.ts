import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import type { SimulatedRecording } from '../../local/simulator.js';
import {
  childPids,
  commandLine,
  spawnLocalStack,
  waitForHealth,
  waitUntilGone,
  type Health,
  type SpawnedStack,
} from '../support/local-stack-process.js';
import { fetchDocumented } from '../support/openapi.js';

/**
 * The path a user takes: `npm start` as a child process (node directly, as the npm script runs it), the
 * simulator's signed callbacks over real HTTP, the results read back through the lookup routes, Ctrl-C.
 * Every answer of the gateway is checked against docs/openapi.yaml (`fetchDocumented`).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Stack = SpawnedStack;
const startStack = spawnLocalStack;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe.skipIf(!existsSync('/proc'))('npm start with the Vobiz simulator', () => {
  let stack: Stack;
  let gateway: string;
  let health: Health;

  beforeAll(async () => {
    const port = await freePort();
    gateway = `http://127.0.0.1:${port}`;
    stack = startStack(['--in-memory'], {
      PORT: String(port),
      VOBIZ_SIMULATOR_PORT: String(await freePort()),
      // The lifecycle on a short interval, deleting at the simulator as soon as a copy is verified.
      LIFECYCLE_INTERVAL_SECONDS: '1',
      VOBIZ_DELETE_AFTER_DAYS: '0',
    });
    health = await waitForHealth(stack, gateway);
  }, 150_000);

  afterAll(() => {
    if (stack?.child.exitCode === null) {
      const pids = childPids(stack.child.pid!);
      stack.child.kill('SIGKILL');
      for (const pid of pids) process.kill(pid, 'SIGKILL');
    }
  });

  async function simulated(
    count: number,
    format: 'mp3' | 'wav' | 'mixed' = 'mixed',
  ): Promise<SimulatedRecording[]> {
    const response = await fetch(`${health.simulator_url}/_simulator/recordings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count, format, size_bytes: 300_000, callback_url: health.webhook_url }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { recordings: SimulatedRecording[] }).recordings;
  }

  /** Polls the lookup API until the record satisfies `done` (the worker runs after the answer). */
  async function recordWhen(
    id: string,
    done: (record: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const response = await fetchDocumented(`${gateway}/recordings/${id}`);
      const record = (await response.json()) as Record<string, unknown>;
      if (response.status === 200 && done(record)) return record;
      if (Date.now() > deadline) throw new Error(`record ${id} never got there: ${JSON.stringify(record)}`);
      await sleep(100);
    }
  }

  async function deliver(recording: SimulatedRecording): Promise<Response> {
    const callback = recording.callback!;
    return fetchDocumented(`${gateway}/webhooks/vobiz/recording`, {
      method: 'POST',
      headers: callback.headers,
      body: callback.body,
    });
  }

  it('is ready with a banner that shows the URLs and the simulate command', () => {
    expect(health).toMatchObject({
      status: 'ok',
      vobiz: 'simulator',
      webhook_url: `${gateway}/webhooks/vobiz/recording`,
      data_dir: null,
    });
    expect(stack.output()).toContain('local stack ready');
    expect(stack.output()).toContain(`Webhook URL   ${gateway}/webhooks/vobiz/recording`);
    expect(stack.output()).toContain('npm run simulate -- --count 3');
  });

  it('serves its own OpenAPI description at /openapi.json, with this stack first in servers, and its health routes as described', async () => {
    const description = (await (await fetchDocumented(`${gateway}/openapi.json`)).json()) as {
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, unknown>;
    };
    expect(description.openapi).toBe('3.1.0');
    expect(description.servers[0]!.url).toBe(gateway);
    expect(Object.keys(description.paths)).toEqual(
      expect.arrayContaining(['/webhooks/vobiz/recording', '/recordings/{recording_id}/retry', '/audit']),
    );
    expect((await fetchDocumented(`${gateway}/health`, { method: 'HEAD' })).status).toBe(200);
    const vobiz = (await (await fetchDocumented(`${gateway}/health/vobiz`)).json()) as { ok: boolean };
    expect(vobiz.ok).toBe(true);
  });

  it('archives signed callbacks and serves the records and audio through the lookup routes', async () => {
    const recordings = await simulated(3);
    expect(new Set(recordings.map((r) => r.callback!.schemes.join('+'))).size).toBe(3);
    for (const recording of recordings) {
      const response = await deliver(recording);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ recording_id: recording.recording_id, status: 'pending' });
    }

    for (const recording of recordings) {
      // The archive worker, started by the table's stream, stores it shortly after the answer.
      const record = await recordWhen(recording.recording_id, (r) => r.status === 'stored');
      expect(record).toMatchObject({
        recording_id: recording.recording_id,
        status: 'stored',
        account_id: 'MA_SIMULATOR',
        recording_format: recording.format,
        size_bytes: 300_000,
        sha256: recording.sha256,
      });

      const byCall = (await (
        await fetchDocumented(`${gateway}/recordings?call_uuid=${recording.call_uuid}`)
      ).json()) as { items: { recording_id: string }[] };
      expect(byCall.items.map((item) => item.recording_id)).toEqual([recording.recording_id]);

      const audio = await fetchDocumented(`${gateway}/recordings/${recording.recording_id}/audio`, {
        redirect: 'manual',
      });
      expect(audio.status).toBe(302);
      const download = await fetch(audio.headers.get('location')!);
      expect(download.status).toBe(200);
      expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(recording.sha256);
    }
    expect(stack.output()).toMatch(/POST \/webhooks\/vobiz\/recording \S*200\S* \d+ms/);

    // The retry route, through the gateway: only a failed recording is queued again.
    const retry = await fetchDocumented(`${gateway}/recordings/${recordings[0]!.recording_id}/retry`, {
      method: 'POST',
    });
    expect(retry.status).toBe(409);
    expect(((await retry.json()) as { error: { code: string } }).error.code).toBe('not_failed');
  });

  it('answers a repeated delivery 200 (a retry), refuses a reused signature and an unknown route', async () => {
    const [recording, other] = await simulated(2, 'mp3');
    expect((await deliver(recording!)).status).toBe(200);
    expect((await deliver(recording!)).status).toBe(200);
    // The same signature headers with another recording's body: a captured signature.
    const reused = await fetchDocumented(`${gateway}/webhooks/vobiz/recording`, {
      method: 'POST',
      headers: recording!.callback!.headers,
      body: other!.callback!.body,
    });
    expect(reused.status).toBe(401);
    // Other methods on known routes reach the function: 405 with Allow and the usual error body.
    const put = await fetchDocumented(`${gateway}/webhooks/vobiz/recording`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('POST, GET');
    expect(((await put.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    const post = await fetchDocumented(`${gateway}/recordings`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    const patch = await fetchDocumented(`${gateway}/recordings/some-recording`, { method: 'PATCH' });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('GET, DELETE');
    const unknown = await fetchDocumented(`${gateway}/nowhere`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('runs the lifecycle: verified delete at the simulator, legal hold, erasure and the audit trail through the gateway', async () => {
    const [recording, held] = await simulated(2, 'mp3');
    for (const r of [recording!, held!]) expect((await deliver(r)).status).toBe(200);
    const stored = await recordWhen(recording!.recording_id, (r) => r.status === 'stored');
    expect(stored.s3_version_id).toEqual(expect.any(String));
    // Deleted at the simulator by the scheduled lifecycle once the archived copy verified.
    const deleted = await recordWhen(recording!.recording_id, (r) => typeof r.vobiz_deleted_at === 'string');
    expect(deleted.status).toBe('stored');
    const listed = (await (await fetch(`${health.simulator_url}/_simulator/recordings`)).json()) as {
      recordings: { recording_id: string }[];
    };
    expect(listed.recordings.map((r) => r.recording_id)).not.toContain(recording!.recording_id);
    expect(
      (
        await fetchDocumented(`${gateway}/recordings/${recording!.recording_id}/audio`, {
          redirect: 'manual',
        })
      ).status,
    ).toBe(302);
    expect(stack.output()).toMatch(/lifecycle \d+ deleted at Vobiz/);

    await recordWhen(held!.recording_id, (r) => r.status === 'stored');
    // The local gateway turns these headers into the IAM authorizer's context, as API Gateway would.
    const consoleUser = (n: number) => ({
      'x-local-iam-user-arn': 'arn:aws:sts::000000000000:assumed-role/console/CognitoIdentityCredentials',
      'x-local-cognito-identity-id': `us-east-1:0000000${n}-0000-4000-8000-000000000000`,
      'x-local-cognito-sub': `0000000${n}-aaaa-4bbb-8ccc-000000000000`,
    });
    const hold = await fetchDocumented(`${gateway}/recordings/${held!.recording_id}/legal-hold`, {
      method: 'PUT',
      headers: consoleUser(1),
      body: JSON.stringify({ reason: 'case-local-1' }),
    });
    expect(hold.status).toBe(200);
    expect(((await hold.json()) as { legal_hold_by: unknown }).legal_hold_by).toEqual({
      arn: 'arn:aws:sts::000000000000:assumed-role/console/CognitoIdentityCredentials',
      cognito_identity_id: 'us-east-1:00000001-0000-4000-8000-000000000000',
      user_sub: '00000001-aaaa-4bbb-8ccc-000000000000',
    });
    const refused = await fetchDocumented(`${gateway}/recordings/${held!.recording_id}?reason=DSR`, {
      method: 'DELETE',
    });
    expect(refused.status).toBe(409);
    expect(
      (await fetchDocumented(`${gateway}/recordings/${held!.recording_id}/legal-hold`, { method: 'DELETE' }))
        .status,
    ).toBe(200);
    const erased = await fetchDocumented(`${gateway}/recordings/${held!.recording_id}?reason=DSR`, {
      method: 'DELETE',
      headers: consoleUser(2),
    });
    expect(erased.status).toBe(200);
    expect(await erased.json()).toMatchObject({
      status: 'erased',
      erased_by: { user_sub: '00000002-aaaa-4bbb-8ccc-000000000000' },
    });
    expect(
      (await fetchDocumented(`${gateway}/recordings/${held!.recording_id}/audio`, { redirect: 'manual' }))
        .status,
    ).toBe(410);

    const audit = (await (await fetchDocumented(`${gateway}/audit?limit=100`)).json()) as {
      items: {
        action: string;
        recording_id: string;
        outcome: string;
        actor: { arn: string; user_sub?: string };
      }[];
    };
    const mine = audit.items
      // It may also have been deleted at the simulator before the hold: not what this checks.
      .filter((a) => a.recording_id === held!.recording_id && a.action !== 'vobiz_delete')
      .map((a) => `${a.action}:${a.outcome}:${a.actor.user_sub ?? a.actor.arn}`);
    expect(mine).toEqual([
      'erase:done:00000002-aaaa-4bbb-8ccc-000000000000',
      'legal_hold_release:done:unsigned request (local stack)',
      'erase:refused:unsigned request (local stack)',
      'legal_hold:done:00000001-aaaa-4bbb-8ccc-000000000000',
    ]);
    expect(audit.items).toContainEqual(
      expect.objectContaining({
        action: 'vobiz_delete',
        recording_id: recording!.recording_id,
        outcome: 'done',
      }),
    );

    // Each of those entries reaches the audit bucket through the stream, with the same content.
    const s3 = new S3Client({
      endpoint: health.s3_endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
    });
    const bucket = health.audit_bucket as string;
    const heldEntries = audit.items.filter((a) => a.recording_id === held!.recording_id);
    const deadline = Date.now() + 30_000;
    let copies: Record<string, unknown>[] = [];
    while (copies.length < heldEntries.length && Date.now() < deadline) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'entries/' }));
      copies = [];
      for (const { Key } of listed.Contents ?? []) {
        const body = await (
          await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))
        ).Body!.transformToString();
        const copy = JSON.parse(body) as Record<string, unknown>;
        if (copy.recording_id === held!.recording_id) copies.push(copy);
      }
      if (copies.length < heldEntries.length) await sleep(200);
    }
    s3.destroy();
    for (const entry of heldEntries) expect(copies).toContainEqual(expect.objectContaining(entry));
    expect(copies).toHaveLength(heldEntries.length);
  });

  it('runs `npm run simulate` to the end with a table of stored records and curl commands', async () => {
    const port = new URL(gateway).port;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'local/simulate.ts', '--count', '2', '--size', '64kb', '--port', port],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(output).toContain('2 of 2 archived');
    expect(output).toMatch(/recording_id\s+status\s+format\s+size\s+sha256\s+s3_key/);
    expect(output).toContain(`curl -s ${gateway}/recordings/`);
    expect(code).toBe(0);
  }, 90_000);

  it('stops on Ctrl-C (SIGINT) and leaves no DynamoDB Local process behind', async () => {
    const java = childPids(stack.child.pid!).filter((pid) => commandLine(pid).includes('DynamoDBLocal'));
    expect(java).toHaveLength(1);
    stack.child.kill('SIGINT');
    const { code } = await stack.exited;
    expect(code).toBe(0);
    expect(stack.output()).toContain('Stopped.');
    expect(await waitUntilGone(java[0]!)).toBe(true);
  }, 30_000);
});

describe.skipIf(!existsSync('/proc'))('npm start with a data directory', () => {
  it('keeps records, audio and simulator recordings across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'local-stack-'));
    const port = await freePort();
    const gateway = `http://127.0.0.1:${port}`;
    const env = {
      PORT: String(port),
      VOBIZ_SIMULATOR_PORT: String(await freePort()),
      LOCAL_DATA_DIR: dataDir,
    };
    try {
      const first = startStack([], env);
      const health = await waitForHealth(first, gateway);
      expect(health.data_dir).toBe(dataDir);
      const created = await fetch(`${health.simulator_url}/_simulator/recordings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ count: 2, size_bytes: 50_000, callback_url: health.webhook_url }),
      });
      const [recording, other] = ((await created.json()) as { recordings: SimulatedRecording[] }).recordings;
      const callback = recording!.callback!;
      const delivered = await fetchDocumented(`${gateway}/webhooks/vobiz/recording`, {
        method: 'POST',
        headers: callback.headers,
        body: callback.body,
      });
      expect(delivered.status).toBe(200);
      for (let stored = false; !stored; await sleep(100)) {
        const response = await fetchDocumented(`${gateway}/recordings/${recording!.recording_id}`);
        stored = ((await response.json()) as { status?: string }).status === 'stored';
      }
      first.child.kill('SIGTERM');
      expect((await first.exited).code).toBe(0);

      const second = startStack([], env);
      try {
        await waitForHealth(second, gateway);
        expect(second.output()).toContain('2 recordings');
        const record = (await (
          await fetchDocumented(`${gateway}/recordings/${recording!.recording_id}`)
        ).json()) as Record<string, unknown>;
        expect(record).toMatchObject({ status: 'stored', sha256: recording!.sha256 });
        const audio = await fetchDocumented(`${gateway}/recordings/${recording!.recording_id}/audio`, {
          redirect: 'manual',
        });
        const bytes = new Uint8Array(await (await fetch(audio.headers.get('location')!)).arrayBuffer());
        expect(sha256(bytes)).toBe(recording!.sha256);
        // The nonce survived too, with the recording it was consumed for: the same delivery is a
        // retry (200, stored), the same signature on another recording's body is refused.
        const retry = await fetchDocumented(`${gateway}/webhooks/vobiz/recording`, {
          method: 'POST',
          headers: callback.headers,
          body: callback.body,
        });
        expect(await retry.json()).toEqual({ recording_id: recording!.recording_id, status: 'stored' });
        const reused = await fetchDocumented(`${gateway}/webhooks/vobiz/recording`, {
          method: 'POST',
          headers: callback.headers,
          body: other!.callback!.body,
        });
        expect(reused.status).toBe(401);
        // The first run stopped cleanly: nothing to recover (local/crash-recovery.ts).
        expect(second.output()).not.toContain('did not stop cleanly');
      } finally {
        second.child.kill('SIGTERM');
        expect((await second.exited).code).toBe(0);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('npm start on a busy port', () => {
  it('says which port is taken and exits with code 1, without a stack trace', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const stack = startStack(['--in-memory'], {
        PORT: String(port),
        VOBIZ_SIMULATOR_PORT: String(await freePort()),
      });
      const { code } = await stack.exited;
      expect(code).toBe(1);
      expect(stack.output().trim()).toBe(`Port ${port} is in use; set PORT=… or stop the other process.`);
    } finally {
      blocker.close();
    }
  }, 60_000);
});
