import { describe, expect, it } from 'vitest';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { createArchiveWorkerHandler } from '../../functions/archive-worker/handler.js';
import type { ArchiveOutcome } from '../../functions/shared/ingest/archive-recording.js';
import { lambdaContext } from '../support/http-events.js';

const insert = (n: number, recordingId = `rec-${n}`) => ({
  eventID: `e${n}`,
  eventName: 'INSERT' as const,
  dynamodb: { SequenceNumber: `00${n}`, NewImage: { recording_id: { S: recordingId } } },
});

const worker = (archive: (id: string) => Promise<ArchiveOutcome>) =>
  createArchiveWorkerHandler(() => Promise.resolve({ archiveRecording: archive }));

describe('archive worker handler (batch semantics)', () => {
  it('archives the records of a batch one after the other and reports no failure for per-recording outcomes', async () => {
    const seen: string[] = [];
    const outcomes: ArchiveOutcome[] = [
      { outcome: 'busy' },
      { outcome: 'missing' },
      {
        outcome: 'pending',
        record: {
          recording_id: 'rec-3',
          account_id: 'a',
          status: 'pending',
          attempts: 1,
          received_at: '',
          updated_at: '',
        },
        error: new Error('Vobiz 503'),
      },
    ];
    const handler = worker((id) => {
      seen.push(id);
      return Promise.resolve(outcomes.shift()!);
    });
    const result = await handler({ Records: [insert(1), insert(2), insert(3)] }, lambdaContext(600_000));
    expect(result.batchItemFailures).toEqual([]);
    expect(seen).toEqual(['rec-1', 'rec-2', 'rec-3']);
  });

  it('reports the first record that met an infrastructure error and every record after it', async () => {
    let calls = 0;
    const handler = worker(() => {
      calls++;
      return calls === 2
        ? Promise.reject(new Error('DynamoDB unreachable'))
        : Promise.resolve({ outcome: 'missing' });
    });
    const event: DynamoDBStreamEvent = { Records: [insert(1), insert(2), insert(3)] };
    const result = await handler(event, lambdaContext(600_000));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '002' }, { itemIdentifier: '003' }]);
    expect(calls).toBe(2); // the third record is not attempted: the retry starts at the second anyway
  });

  it('does not start a recording with less than a minute of the invocation left: hands it back', async () => {
    let calls = 0;
    const handler = worker(() => (calls++, Promise.resolve({ outcome: 'missing' })));
    const result = await handler({ Records: [insert(7)] }, lambdaContext(30_000));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '007' }]);
    expect(calls).toBe(0);
  });

  it('skips a record without a valid recording id (nothing to retry) and goes on', async () => {
    const seen: string[] = [];
    const handler = worker((id) => (seen.push(id), Promise.resolve({ outcome: 'missing' })));
    const result = await handler({ Records: [insert(1, '../etc'), insert(2)] }, lambdaContext(600_000));
    expect(result.batchItemFailures).toEqual([]);
    expect(seen).toEqual(['rec-2']);
  });

  it('a worker that cannot load its configuration fails the invocation (the trigger retries or bisects)', async () => {
    const handler = createArchiveWorkerHandler(() => Promise.reject(new Error('secret unreadable')));
    await expect(handler({ Records: [insert(1)] }, lambdaContext(600_000))).rejects.toThrow(
      'secret unreadable',
    );
  });
});
