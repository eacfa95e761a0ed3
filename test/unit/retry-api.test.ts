import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createRetryApiHandler, type RetryApiOptions } from '../../functions/retry-api/app.js';
import type { RecordingRecord } from '../../functions/shared/domain/recording.js';
import type { ResetResult } from '../../functions/shared/recovery/ports.js';
import { httpEvent, lambdaContext, type HttpEventInput } from '../support/http-events.js';
import { storedRecording } from '../support/recording-dataset.js';

const ARN = 'arn:aws:sts::123456789012:assumed-role/console-admins/CognitoIdentityCredentials';

function setup(result: ResetResult, after: RecordingRecord | undefined) {
  const retry = vi.fn<RetryApiOptions['retry']>(() => Promise.resolve(result));
  const get = vi.fn<RetryApiOptions['get']>(() => Promise.resolve(after));
  const metrics = new Metrics({ namespace: 'test', serviceName: 'test' });
  const addMetric = vi.spyOn(metrics, 'addMetric');
  const handler = createRetryApiHandler({ logger: new Logger({ logLevel: 'SILENT' }), metrics, retry, get });
  const call = async (input: Partial<HttpEventInput> & { path?: string }) => {
    const event = httpEvent({ method: 'POST', path: '/recordings/r1/retry', ...input });
    Object.assign(event.requestContext, { authorizer: { iam: { userArn: ARN } } });
    const response = await handler(event, lambdaContext());
    return {
      status: response.statusCode,
      headers: response.headers ?? {},
      body: response.body ? JSON.parse(response.body) : undefined,
    };
  };
  return { call, retry, get, addMetric };
}

const pending = {
  ...storedRecording({ recording_id: 'r1', add_time_ms: Date.UTC(2026, 0, 1) }),
  status: 'pending' as const,
};

describe('POST /recordings/{id}/retry', () => {
  beforeEach(() => vi.restoreAllMocks());

  it('queues a failed recording again as the caller (audited by the use case): 202 with the record', async () => {
    const { call, retry, addMetric } = setup('reset', { ...pending, attempts: 0, lease_owner: 'w' });
    const response = await call({});
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ recording_id: 'r1', status: 'pending', attempts: 0 });
    expect(response.body.lease_owner).toBeUndefined();
    expect(retry).toHaveBeenCalledWith('r1', { actor: { arn: ARN } });
    expect(addMetric).toHaveBeenCalledWith('RecordingRetried', 'Count', 1);
  });

  it('serves the route key API Gateway names, with its path parameter', async () => {
    const { call, retry } = setup('reset', pending);
    const response = await call({
      routeKey: 'POST /recordings/{recording_id}/retry',
      pathParameters: { recording_id: 'rec_2' },
      path: '/recordings/rec_2/retry',
    });
    expect(response.status).toBe(202);
    expect(retry).toHaveBeenCalledWith('rec_2', { actor: { arn: ARN } });
  });

  it('is 404 for an unknown recording and 409 not_failed, naming the status, for any other', async () => {
    expect((await setup('missing', undefined).call({})).body.error.code).toBe('not_found');
    const conflict = await setup('not_failed', { ...pending, status: 'stored' }).call({});
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toEqual({
      code: 'not_failed',
      message:
        'only a recording whose archiving failed (status failed) can be retried; recording r1 is stored: its audio is archived',
    });
    const erased = await setup('not_failed', { ...pending, status: 'erased' }).call({});
    expect(erased.body.error.message).toMatch(/is erased: it was erased$/);
  });

  it('refuses a bad id or a body with 400 and other methods with 405 Allow: POST, before touching anything', async () => {
    const { call, retry } = setup('reset', pending);
    for (const path of ['/recordings/bad..id/retry', '/recordings/%E0%A4%A/retry']) {
      const response = await call({ path });
      expect(response.status, path).toBe(400);
      expect(response.body.error.code).toBe('validation_error');
    }
    expect((await call({ body: '{"force":true}' })).status).toBe(400);
    for (const input of [
      { method: 'GET' },
      {
        method: 'DELETE',
        routeKey: 'ANY /recordings/{recording_id}/retry',
        pathParameters: { recording_id: 'r1' },
      },
    ]) {
      const response = await call(input);
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('POST');
    }
    expect((await call({ path: '/recordings/r1/retries' })).status).toBe(404);
    expect(retry).not.toHaveBeenCalled();
  });
});
