import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3AudioVersions } from '../../functions/shared/adapters/s3-lifecycle.js';
import { DEFAULT_LEASE_MS, type ArchiveStep } from '../../functions/shared/ingest/archive-recording.js';
import { LEASE_AFTERLIFE_MS } from '../../functions/shared/lifecycle/erase-recording.js';
import { buildArchiveRecording, readArchiveSettings } from '../../functions/shared/wiring/archive.js';
import { VobizFake } from '../../local/vobiz-fake.js';
import { useEmulators } from '../support/aws.js';
import { buildTestLifecycle } from '../support/lifecycle.js';
import {
  dieHere,
  enqueue,
  FakeClock,
  FAST_VOBIZ,
  freshClients,
  redriveEnv,
  type Emulators,
} from '../support/redrive.js';
import { readRecord } from '../support/webhook.js';

/**
 * An erasure against an archive worker whose lease lapsed mid-upload (a renewal that hung, a process
 * that stalled): whatever the worker does after the erasure began, no audio version survives it.
 * Real DynamoDB Local and S3 (s3rver); the worker's steps are held at the exact point of the race.
 */
let env: Emulators;
let fake: VobizFake;
let clock: FakeClock;

beforeEach(async () => {
  env = await useEmulators();
  fake = await new VobizFake().start();
  clock = new FakeClock();
});
afterEach(async () => {
  await fake.stop();
});

const versions = () => new S3AudioVersions(env.s3, env.bucketName);
/** Past the worker's lease and the time its last requests may take: an erasure may begin. */
const LEASE_LAPSED = DEFAULT_LEASE_MS + LEASE_AFTERLIFE_MS + 1;

/** A promise the test settles itself. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** The archive worker's use case on its own S3 client, held wherever the test says. */
function worker(options: { s3?: Emulators['s3']; afterStep?: (step: ArchiveStep) => void | Promise<void> }) {
  return buildArchiveRecording(
    readArchiveSettings(redriveEnv(fake, env)),
    { authId: fake.authId, authToken: fake.authToken },
    fake.authId,
    {
      documents: env.documents,
      s3: options.s3 ?? env.s3,
      clock,
      vobiz: FAST_VOBIZ,
      // No renewal on its own during the test: the clock moves only when the test moves it.
      renewEveryMs: 10 * 60_000,
      afterStep: options.afterStep,
    },
  );
}

function erase(steps?: Parameters<typeof buildTestLifecycle>[2]['steps']) {
  return buildTestLifecycle(fake, env, { clock, steps }).eraseRecording;
}

const REASON = { reason: 'DSR-RACE-1', actor: { arn: 'arn:aws:iam::1:user/dpo' }, alsoVobiz: false };

describe('erasure against a worker whose lease lapsed', () => {
  it('finds the audio of an attempt whose metadata never reached the record (the key was recorded before the upload)', async () => {
    const recording = fake.addRecording();
    const id = await enqueue(env, clock, recording, fake.authId);
    let uploaded = false;
    // The worker stores the audio, then dies before writing the record: only the upload key is there.
    void worker({
      afterStep: async (step) => {
        if (step !== 'uploaded') return;
        uploaded = true;
        await dieHere();
      },
    })(id);
    for (let i = 0; i < 500 && !uploaded; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(uploaded).toBe(true);
    const pending = await readRecord(env.documents, env.tableName, id);
    expect(pending).toMatchObject({
      status: 'pending',
      s3_upload_key: expect.stringMatching(/^recordings\//),
    });
    expect(pending!.add_time_ms).toBeUndefined();
    const key = pending!.s3_upload_key!;
    expect(await versions().listVersions(key)).toHaveLength(1);

    expect(await erase()(id, REASON)).toMatchObject({ outcome: 'busy' });
    clock.advance(LEASE_LAPSED);
    expect(await erase()(id, REASON)).toMatchObject({ outcome: 'erased', versionsDeleted: 1 });
    expect(await versions().listVersions(key)).toEqual([]);
  });

  it('a worker held before completing its upload finds its lease gone and never completes it', async () => {
    const recording = fake.addRecording();
    const id = await enqueue(env, clock, recording, fake.authId);
    const held = gate();
    const reached = gate();
    const attempt = worker({
      afterStep: async (step) => {
        if (step !== 'completing') return;
        reached.open();
        await held.opened;
      },
    })(id);
    await reached.opened;
    const key = (await readRecord(env.documents, env.tableName, id))!.s3_upload_key!;

    // The lease lapsed (a renewal hung): the erasure runs to its end meanwhile.
    clock.advance(LEASE_LAPSED);
    expect(await erase()(id, REASON)).toMatchObject({ outcome: 'erased', versionsDeleted: 0 });
    held.open();
    expect(await attempt).toEqual({ outcome: 'busy' });
    expect(await versions().listVersions(key)).toEqual([]);
    expect(await readRecord(env.documents, env.tableName, id)).toMatchObject({ status: 'erased' });
  });

  it('an upload already sent when the erasure began, landing after its first listing, is deleted by the second', async () => {
    const recording = fake.addRecording();
    const id = await enqueue(env, clock, recording, fake.authId);
    // The worker's S3 client holds its PutObject (the small file's one request) until the test lets it go.
    const { s3 } = freshClients({ s3: await endpointOf(env.s3) });
    const sent = gate();
    const release = gate();
    const landed = gate();
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutObjectCommand') return next(args);
        sent.open();
        await release.opened;
        try {
          return await next(args);
        } finally {
          landed.open();
        }
      },
      { step: 'initialize', name: 'holdTheUpload' },
    );
    const attempt = worker({ s3 })(id);
    await sent.opened; // the lease was proved, the request is on its way
    const key = (await readRecord(env.documents, env.tableName, id))!.s3_upload_key!;

    clock.advance(LEASE_LAPSED);
    const erasing = erase({
      erase: async (step) => {
        if (step !== 'audio_deleted') return;
        // After the erasure listed (and found nothing), the upload lands.
        release.open();
        await landed.opened;
      },
    });
    const result = await erasing(id, REASON);
    expect(result).toMatchObject({ outcome: 'erased', versionsDeleted: 1 });
    expect(await attempt).toEqual({ outcome: 'busy' });
    expect(await versions().listVersions(key)).toEqual([]);
    expect(await readRecord(env.documents, env.tableName, id)).toMatchObject({ status: 'erased' });
    s3.destroy();
  });
});

async function endpointOf(s3: Emulators['s3']): Promise<string> {
  const endpoint = await s3.config.endpoint!();
  return `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`;
}
