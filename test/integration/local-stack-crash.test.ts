import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import type { SimulatedRecording } from '../../local/simulator.js';
import {
  spawnLocalStack,
  waitForHealth,
  waitUntilGone,
  type Health,
  type SpawnedStack,
} from '../support/local-stack-process.js';
import { objectKeysFor } from '../support/redrive.js';
import { readObject } from '../support/webhook.js';

/**
 * The persistent local stack killed hard (SIGKILL to its whole process group: node and DynamoDB Local's
 * Java) in the middle of a burst of signed callbacks, then started again on the same data directory.
 * DynamoDB Local can lose the last transaction it acknowledged before the kill, and the dead run's
 * workers leave leases behind; every callback answered 200 must still be stored within 60 s, with the
 * simulator's bytes, in exactly one object. The 60 s count from the moment the restarted stack is
 * ready: on a loaded machine its start alone can take half a minute, and that is not the recovery's.
 * Both times are printed.
 *
 * Recordings the simulator has but whose callbacks never reach the stack stand for the ones the emulator
 * lost: they are younger than the scheduled sweep's minimum age, so only the recovery finds them.
 */
const BURST = 60;
/** The kill comes after this many callbacks were answered 200 (the rest are in flight or not yet sent). */
const KILL_AFTER = 30;
const IN_FLIGHT = 8;
const NEVER_CALLED_BACK = 3;
const RECOVERY_GOAL_MS = 60_000;
const BUCKET = 'vobiz-recordings-audio';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const stacks: SpawnedStack[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'local-stack-crash-'));

afterAll(() => {
  for (const stack of stacks) killGroup(stack);
  rmSync(dataDir, { recursive: true, force: true });
});

function killGroup(stack: SpawnedStack): void {
  try {
    process.kill(-stack.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function createRecordings(health: Health, count: number, withCallbacks: boolean) {
  const response = await fetch(`${health.simulator_url}/_simulator/recordings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      count,
      format: 'mixed',
      size_bytes: 64_000,
      ...(withCallbacks ? { callback_url: health.webhook_url } : {}),
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { recordings: SimulatedRecording[] }).recordings;
}

/**
 * Delivers the callbacks, IN_FLIGHT at a time, and kills the stack's process group the moment the
 * KILL_AFTER-th one is answered 200. Returns the recordings whose callbacks were answered 200.
 */
async function burstAndKill(stack: SpawnedStack, gateway: string, recordings: SimulatedRecording[]) {
  const answered: SimulatedRecording[] = [];
  let killedAt: number | undefined;
  let next = 0;
  const sender = async () => {
    while (next < recordings.length && killedAt === undefined) {
      const recording = recordings[next++]!;
      const { headers, body } = recording.callback!;
      try {
        const response = await fetch(`${gateway}/webhooks/vobiz/recording`, {
          method: 'POST',
          headers,
          body,
        });
        if (response.status === 200) answered.push(recording);
        else expect.unreachable(`callback answered ${response.status}: ${await response.text()}`);
      } catch {
        continue; // the connection died with the stack: not acknowledged
      }
      if (answered.length === KILL_AFTER && killedAt === undefined) {
        killGroup(stack);
        killedAt = Date.now();
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
  return { answered, killedAt: killedAt! };
}

/** Polls the lookup route until every recording is stored; the time it took, or what was missing. */
async function waitUntilStored(stack: SpawnedStack, gateway: string, ids: string[], timeoutMs: number) {
  const started = Date.now();
  const waiting = new Set(ids);
  while (waiting.size > 0 && Date.now() - started < timeoutMs) {
    if (stack.child.exitCode !== null) throw new Error(`npm start exited:\n${stack.output()}`);
    for (const id of [...waiting]) {
      const response = await fetch(`${gateway}/recordings/${id}`).catch(() => undefined); // not up yet
      if (response?.status === 200 && ((await response.json()) as { status: string }).status === 'stored')
        waiting.delete(id);
    }
    if (waiting.size > 0) await sleep(250);
  }
  return { storedAt: Date.now(), missing: [...waiting] };
}

describe.skipIf(!existsSync('/proc'))('npm start killed hard mid-burst', () => {
  it('stores every callback it answered 200, once and with the right bytes, within 60 s of being ready again', async () => {
    const port = await freePort();
    const gateway = `http://127.0.0.1:${port}`;
    const env = {
      PORT: String(port),
      VOBIZ_SIMULATOR_PORT: String(await freePort()),
      LOCAL_DATA_DIR: dataDir,
    };

    const first = spawnLocalStack([], env, { processGroup: true });
    stacks.push(first);
    const health = await waitForHealth(first, gateway);
    expect(first.output()).not.toContain('recovery:');
    const silent = await createRecordings(health, NEVER_CALLED_BACK, false);
    const burst = await createRecordings(health, BURST, true);
    const java = Number(readFileSync(join(dataDir, 'dynamodb.pid'), 'utf8'));

    const { answered, killedAt } = await burstAndKill(first, gateway, burst);
    expect(answered.length).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(answered.length).toBeLessThan(BURST); // the kill came mid-burst
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(await waitUntilGone(java)).toBe(true);
    expect(existsSync(join(dataDir, 'running.json'))).toBe(true);

    const second = spawnLocalStack([], env, { processGroup: true });
    stacks.push(second);
    const restartedAt = Date.now();
    const readyAfter = waitForHealth(second, gateway).then(() => Date.now() - restartedAt);
    readyAfter.catch(() => undefined); // awaited below, once the records are looked at
    let recoveryAfterMs: number | undefined;
    second.child.stdout!.on('data', (chunk: Buffer) => {
      if (recoveryAfterMs === undefined && chunk.toString().includes('recovery:'))
        recoveryAfterMs = Date.now() - restartedAt;
    });
    const expected = [...answered, ...silent];
    const { storedAt, missing } = await waitUntilStored(
      second,
      gateway,
      expected.map((r) => r.recording_id),
      // Waits past the goal, so that a miss reports how late it was rather than only that it was.
      RECOVERY_GOAL_MS + 60_000,
    );
    const recovery =
      /recovery: .*: (\d+) listed, (\d+) inserted, (\d+) leases? of dead workers released/.exec(
        second.output(),
      );
    console.log(
      `hard kill after ${answered.length} answered callbacks: ` +
        `${expected.length - missing.length} of ${expected.length} stored ` +
        `${storedAt - killedAt} ms after the kill, ${storedAt - restartedAt} ms after the restart, ` +
        `${storedAt - restartedAt - (await readyAfter)} ms after it was ready ` +
        `(ready after ${await readyAfter} ms, recovery line after ${recoveryAfterMs} ms); ` +
        `${recovery?.[0] ?? 'no recovery line'}`,
    );
    if (missing.length > 0) {
      const records = await Promise.all(
        missing.map(async (id) => (await fetch(`${gateway}/recordings/${id}`)).text()),
      );
      const lines = (text: string) => text.split('\n').filter((l) => !l.startsWith('GET /recordings'));
      console.log(
        `not stored:\n${records.join('\n')}\n--- first run ---\n${lines(first.output()).slice(-40).join('\n')}` +
          `\n--- second run ---\n${lines(second.output()).join('\n')}`,
      );
    }
    expect(missing).toEqual([]);
    expect(storedAt - restartedAt - (await readyAfter)).toBeLessThanOrEqual(RECOVERY_GOAL_MS);
    // The recovery inserted at least the recordings never called back (plus any the emulator lost).
    expect(Number(recovery?.[2])).toBeGreaterThanOrEqual(NEVER_CALLED_BACK);

    const s3 = new S3Client({
      endpoint: (await waitForHealth(second, gateway)).s3_endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    try {
      for (const recording of expected) {
        const record = (await (await fetch(`${gateway}/recordings/${recording.recording_id}`)).json()) as {
          s3_key: string;
          sha256: string;
          size_bytes: number;
        };
        expect(record).toMatchObject({ sha256: recording.sha256, size_bytes: recording.size_bytes });
        expect(await objectKeysFor({ s3, bucketName: BUCKET }, recording.recording_id)).toEqual([
          record.s3_key,
        ]);
        const object = await readObject(s3, BUCKET, record.s3_key);
        expect(sha256(object!.bytes)).toBe(recording.sha256);
      }
    } finally {
      s3.destroy();
    }

    // Recovered and stopped cleanly: the next start has nothing to recover.
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(existsSync(join(dataDir, 'running.json'))).toBe(false);
  }, 300_000);
});
