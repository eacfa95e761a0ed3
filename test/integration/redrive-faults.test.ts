import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PART_SIZE } from '../../functions/shared/adapters/s3-archive.js';
import { freePort } from '../../local/emulators.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import {
  buildRedrive,
  enqueue,
  expectArchivedOnce,
  FakeClock,
  freshClients,
  objectKeysFor,
  plentyOfTime,
  readPending,
  redriveHandler,
} from '../support/redrive.js';
import { readRecord } from '../support/webhook.js';

let env: Awaited<ReturnType<typeof useEmulators>>;
const fake = new VobizFake();

beforeAll(async () => {
  env = await useEmulators();
  await fake.start();
});

afterAll(async () => {
  await fake.stop();
});

interface StackClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

/**
 * Makes an SDK client fail the matching commands as a service error would, `times` times (Infinity: an
 * outage). Injected at `initialize`, before the SDK's own retries, so each injected failure is final.
 */
function injectFaults(client: unknown, commands: readonly string[], times: number) {
  const fault = { left: times, seen: [] as string[] };
  (client as StackClient).middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '';
      fault.seen.push(name);
      if (commands.includes(name) && fault.left > 0) {
        fault.left--;
        throw Object.assign(new Error(`injected fault in ${name}`), {
          name: 'InternalServerError',
          $fault: 'server',
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectFaults' },
  );
  return fault;
}

const PUT = ['PutCommand', 'PutItemCommand'];

describe('re-drive: S3 fails mid-way — never stored without a complete object, stored on a later round', () => {
  it.each([
    ['PutObject (single-part upload)', ['PutObjectCommand'], 200_000],
    ['UploadPart (multipart upload)', ['UploadPartCommand'], PART_SIZE + 1_048_576],
    ['CompleteMultipartUpload', ['CompleteMultipartUploadCommand'], PART_SIZE + 1_048_576],
  ] as const)('%s fails once', async (_label, commands, sizeBytes) => {
    const clock = new FakeClock();
    const recording = fake.addRecording({ sizeBytes });
    const id = await enqueue(env, clock, recording, fake.authId);
    const { s3 } = freshClients();
    const fault = injectFaults(s3, commands, 1);
    const deps = buildRedrive(fake, env, { clock, s3 });

    expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ deferred: 1, stored: 0 });
    expect(fault.left).toBe(0);
    const pending = await readPending(env.documents, env.tableName, id);
    expect(pending.last_error).toMatch(/S3/);
    expect(pending.s3_key).toBeUndefined();
    expect(pending.lease_owner).toBeUndefined();
    expect(await objectKeysFor(env, id)).toEqual([]);

    clock.passDue(pending.next_attempt_at);
    expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ stored: 1 });
    await expectArchivedOnce(env, recording);
    expect(recording.mediaCalls).toBe(2);
  });

  it('S3 unreachable (nothing listens on the endpoint): pending, then stored when S3 is back', async () => {
    const clock = new FakeClock();
    const recording = fake.addRecording({ sizeBytes: 100_000 });
    const id = await enqueue(env, clock, recording, fake.authId);
    const { s3: unreachable } = freshClients({ s3: `http://127.0.0.1:${await freePort()}` });

    const down = buildRedrive(fake, env, { clock, s3: unreachable });
    expect(await down.redrive({ remainingMs: plentyOfTime })).toMatchObject({ deferred: 1 });
    const pending = await readPending(env.documents, env.tableName, id);
    expect(pending.s3_key).toBeUndefined();

    clock.passDue(pending.next_attempt_at);
    expect(await buildRedrive(fake, env, { clock }).redrive({ remainingMs: plentyOfTime })).toMatchObject({
      stored: 1,
    });
    await expectArchivedOnce(env, recording);
  });
});

describe('re-drive: DynamoDB fails mid-way — the record stays consistent and is finished later', () => {
  it('the final "stored" write fails once: the object exists but the record says pending; the next round stores it once', async () => {
    const clock = new FakeClock();
    const recording = fake.addRecording({ sizeBytes: 200_000 });
    const id = await enqueue(env, clock, recording, fake.authId);
    const { dynamo, documents } = freshClients();
    let armed: ReturnType<typeof injectFaults> | undefined;
    const deps = buildRedrive(fake, env, {
      clock,
      documents,
      afterStep: (step) => {
        if (step === 'uploaded' && !armed) armed = injectFaults(dynamo, PUT, 1);
      },
    });

    expect(await deps.redrive({ remainingMs: plentyOfTime })).toMatchObject({ deferred: 1 });
    expect(armed?.left).toBe(0);
    const pending = await readPending(env.documents, env.tableName, id);
    expect(pending.s3_key).toBeUndefined();
    expect(pending.sha256).toBeUndefined();
    expect(await objectKeysFor(env, id)).toHaveLength(1);

    clock.passDue(pending.next_attempt_at);
    const second = await deps.redrive({ remainingMs: plentyOfTime });
    expect(second, JSON.stringify(second)).toMatchObject({ stored: 1 });
    const record = await expectArchivedOnce(env, recording);
    expect(record.attempts).toBe(2);
  });

  it('DynamoDB goes down after the claim (even the release fails): the run reports it, the lease runs out, a later run stores it', async () => {
    const clock = new FakeClock();
    const recording = fake.addRecording({ sizeBytes: 200_000 });
    const id = await enqueue(env, clock, recording, fake.authId);
    const { dynamo, documents } = freshClients();
    let outage: ReturnType<typeof injectFaults> | undefined;
    const broken = buildRedrive(fake, env, {
      clock,
      documents,
      afterStep: (step) => {
        if (step === 'claimed' && !outage)
          outage = injectFaults(dynamo, [...PUT, 'UpdateCommand', 'UpdateItemCommand'], Infinity);
      },
    });
    const summary = await broken.redrive({ remainingMs: () => 120_000 });
    expect(summary).toMatchObject({ errors: 1, stored: 0 });

    const stuck = await readPending(env.documents, env.tableName, id);
    expect(stuck.lease_owner).toBeDefined();
    expect(stuck.s3_key).toBeUndefined();
    const healthy = buildRedrive(fake, env, { clock });
    expect(await healthy.redrive({ remainingMs: plentyOfTime })).toMatchObject({ due: 0 });

    clock.advance(180_001);
    expect(await healthy.redrive({ remainingMs: plentyOfTime })).toMatchObject({ stored: 1 });
    await expectArchivedOnce(env, recording);
  });

  it('DynamoDB unreachable for a whole run: the invocation fails (alarmed) and changes nothing; the next run stores', async () => {
    const clock = new FakeClock();
    const recording = fake.addRecording({ sizeBytes: 50_000 });
    const id = await enqueue(env, clock, recording, fake.authId);
    const { documents: unreachable } = freshClients({ dynamo: `http://127.0.0.1:${await freePort()}` });

    const down = redriveHandler(buildRedrive(fake, env, { clock, documents: unreachable }));
    await expect(down({}, {} as Context)).rejects.toThrow();
    expect(await readRecord(env.documents, env.tableName, id)).toMatchObject({
      status: 'pending',
      attempts: 0,
    });
    expect(recording.retrieveCalls).toBe(0);

    const up = redriveHandler(buildRedrive(fake, env, { clock }));
    expect((await up({}, {} as Context)).redrive.stored).toBe(1);
    await expectArchivedOnce(env, recording);
  });
});
