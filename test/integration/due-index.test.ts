import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoRecordingRepository } from '../../functions/shared/adapters/dynamo-recordings.js';
import { DynamoRecoveryRepository } from '../../functions/shared/adapters/dynamo-recovery.js';
import type { RecordingRecord } from '../../functions/shared/domain/recording.js';
import { useEmulators } from '../support/aws.js';

let recordings: DynamoRecordingRepository;
let recovery: DynamoRecoveryRepository;

beforeAll(async () => {
  const env = await useEmulators();
  recordings = new DynamoRecordingRepository(env.documents, env.tableName);
  recovery = new DynamoRecoveryRepository(env.documents, env.tableName);
});

const T0 = Date.UTC(2026, 0, 1);
const FAR_FUTURE = T0 + 365 * 86_400_000;

async function isDue(id: string): Promise<boolean> {
  return (await recovery.findDue(FAR_FUTURE, 1_000)).some((d) => d.recordingId === id);
}

/** A record as the webhook accepts it, due for the re-drive at `dueAtMs`. */
function pendingRecord(id: string, dueAtMs: number): RecordingRecord {
  const at = new Date(T0).toISOString();
  return {
    recording_id: id,
    account_id: 'MA_1',
    status: 'pending',
    attempts: 0,
    received_at: at,
    updated_at: at,
    next_attempt_at: new Date(dueAtMs).toISOString(),
  };
}

async function claimed(id: string, owner: string, nowMs: number): Promise<RecordingRecord> {
  const claim = await recordings.claim({ recordingId: id, owner, nowMs, leaseMs: 60_000 });
  if (claim.kind !== 'claimed') throw new Error(`expected a claim, got ${claim.kind}`);
  return claim.record;
}

describe('the due index holds pending records only, whatever writes a record', () => {
  it('accept, claim, release as failed, reset, claim, store: in `due` exactly while pending', async () => {
    const id = 'due-walk-1';
    await recordings.accept({ record: pendingRecord(id, T0), nonces: [] });
    expect(await isDue(id)).toBe(true);

    const first = await claimed(id, 'w1', T0);
    expect(await isDue(id)).toBe(true); // due again when the lease runs out
    // Even a writer that forgets to drop next_attempt_at cannot leave a failed record in `due`.
    await recordings.replaceLeased({ ...first, status: 'failed', lease_owner: 'w1' }, 'w1');
    expect((await recordings.get(id))?.next_attempt_at).toBeDefined();
    expect(await isDue(id)).toBe(false);

    expect(await recovery.resetFailed(id, T0 + 1_000)).toBe('reset');
    expect(await isDue(id)).toBe(true);

    const second = await claimed(id, 'w2', T0 + 2_000);
    await recordings.replaceLeased({ ...second, status: 'stored', lease_owner: 'w2' }, 'w2');
    expect(await isDue(id)).toBe(false);

    // A stored record cannot be claimed, so nothing puts it back.
    const again = await recordings.claim({ recordingId: id, owner: 'w3', nowMs: T0 + 3_000, leaseMs: 1 });
    expect(again.kind).toBe('stored');
    expect(await isDue(id)).toBe(false);
  });
});

describe('releasing the leases of dead workers (the local stack after a hard kill)', () => {
  it('drops every pending record’s lease and makes it due now; stored and unleased records are untouched', async () => {
    const own = await useEmulators();
    const repo = new DynamoRecordingRepository(own.documents, own.tableName);
    const rec = new DynamoRecoveryRepository(own.documents, own.tableName);
    // Not due for ten minutes, as the webhook accepts a record.
    for (const id of ['lease-a', 'lease-b', 'lease-free', 'lease-stored'])
      await repo.accept({ record: pendingRecord(id, T0 + 600_000), nonces: [] });
    const claim = async (id: string, owner: string) => {
      const result = await repo.claim({ recordingId: id, owner, nowMs: T0, leaseMs: 60_000 });
      if (result.kind !== 'claimed') throw new Error(`expected a claim, got ${result.kind}`);
      return result.record;
    };
    await claim('lease-a', 'dead-1');
    await claim('lease-b', 'dead-2');
    const stored = await claim('lease-stored', 'w');
    await repo.replaceLeased({ ...stored, status: 'stored', lease_owner: 'w' }, 'w');

    const now = T0 + 5_000;
    expect(await rec.releaseAll(now)).toBe(2);

    const due = await rec.findDue(now, 100);
    expect(due.map((d) => d.recordingId).sort()).toEqual(['lease-a', 'lease-b']);
    expect(due.every((d) => d.dueAtMs === now)).toBe(true);
    for (const id of ['lease-a', 'lease-b']) {
      const record = await repo.get(id, true);
      expect(record).toMatchObject({
        status: 'pending',
        attempts: 1,
        next_attempt_at: new Date(now).toISOString(),
      });
      expect(record?.lease_owner).toBeUndefined();
      expect(record?.lease_until_ms).toBeUndefined();
      // Without the lease, the next worker takes it at once instead of a minute later.
      expect((await repo.claim({ recordingId: id, owner: 'new', nowMs: now, leaseMs: 60_000 })).kind).toBe(
        'claimed',
      );
    }
    expect((await repo.get('lease-free', true))?.next_attempt_at).toBe(new Date(T0 + 600_000).toISOString());
    expect((await repo.get('lease-stored', true))?.status).toBe('stored');
  });
});
