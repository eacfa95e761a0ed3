import { describe, expect, it } from 'vitest';
import { CachedCredentials } from '../../functions/shared/adapters/credentials.js';
import { VobizClient } from '../../functions/shared/adapters/vobiz-client.js';
import { ConfigError, type VobizCredentials } from '../../functions/shared/config.js';
import { VobizAuthError } from '../../functions/shared/domain/errors.js';
import { createWebhookHandler } from '../../functions/webhook/handler.js';
import { computeSignature } from '../../functions/shared/domain/signature.js';
import { httpEvent, lambdaContext } from '../support/http-events.js';
import { vobizRecording } from '../support/in-memory.js';

/** A secret whose value the test changes, counting how often it is read. */
function secret(initial: VobizCredentials) {
  const state = { value: initial, reads: 0, fail: undefined as Error | undefined };
  const load = () => {
    state.reads++;
    return state.fail ? Promise.reject(state.fail) : Promise.resolve({ ...state.value });
  };
  return { state, load };
}

describe('cached Vobiz credentials', () => {
  it('are read once, then again only when older than their lifetime', async () => {
    let now = 0;
    const { state, load } = secret({ authId: 'MA_1', authToken: 'old' });
    const cache = new CachedCredentials(load, { maxAgeMs: 300_000, nowMs: () => now });
    expect((await cache.current()).authToken).toBe('old');
    await cache.current();
    expect(state.reads).toBe(1);
    state.value = { authId: 'MA_1', authToken: 'new' };
    now += 299_999;
    expect((await cache.current()).authToken).toBe('old');
    now += 1;
    expect((await cache.current()).authToken).toBe('new');
    expect(state.reads).toBe(2);
  });

  it('refresh() re-reads at most once a minute and says whether the value changed', async () => {
    let now = 1_000_000;
    const { state, load } = secret({ authId: 'MA_1', authToken: 'old' });
    const cache = new CachedCredentials(load, { nowMs: () => now });
    await cache.current();
    expect(await cache.refresh()).toBe(false); // read again, unchanged
    state.value = { authId: 'MA_1', authToken: 'rotated' };
    expect(await cache.refresh()).toBe(false); // within the minute: not read
    expect(state.reads).toBe(2);
    now += 60_000;
    expect(await cache.refresh()).toBe(true);
    expect((await cache.current()).authToken).toBe('rotated');
    expect(state.reads).toBe(3);
  });

  it('a failed read is not cached: a transient failure keeps the last good value, a malformed secret fails', async () => {
    let now = 0;
    const { state, load } = secret({ authId: 'MA_1', authToken: 'good' });
    const cache = new CachedCredentials(load, { maxAgeMs: 10, nowMs: () => now });
    await cache.current();
    now += 10;
    state.fail = new Error('ThrottlingException');
    expect((await cache.current()).authToken).toBe('good');
    now += 10;
    state.fail = new ConfigError(
      'VOBIZ_SECRET_ARN: the secret must hold string fields auth_id and auth_token',
    );
    await expect(cache.current()).rejects.toThrow(ConfigError);
    state.fail = undefined;
    expect((await cache.current()).authToken).toBe('good');
  });
});

describe('Vobiz client after a token change', () => {
  const recordingBody = JSON.stringify(vobizRecording({ recording_id: 'rec-1' }));

  function vobiz(
    tokenAtVobiz: () => string,
    credentials: CachedCredentials,
    authFailures: (number | 'network')[],
  ) {
    const seen: string[] = [];
    const fetch = (_url: string | URL | Request, init?: RequestInit) => {
      const token = (init?.headers as Record<string, string>)['X-Auth-Token']!;
      seen.push(token);
      return Promise.resolve(
        token === tokenAtVobiz()
          ? new Response(recordingBody, { status: 200 })
          : new Response(JSON.stringify({ api_id: 'a', error: 'Unauthorized' }), { status: 401 }),
      );
    };
    const client = new VobizClient({
      baseUrl: 'https://api.vobiz.ai',
      credentials,
      fetch,
      onFailure: (status) => authFailures.push(status),
    });
    return { client, seen };
  }

  it('re-reads the secret on 401 and succeeds with the new token, counting the refusal', async () => {
    let now = 0;
    const { state, load } = secret({ authId: 'MA_1', authToken: 'old' });
    const cache = new CachedCredentials(load, { nowMs: () => now });
    await cache.current();
    state.value = { authId: 'MA_1', authToken: 'new' }; // rotated at Vobiz and in the secret
    now += 60_000;
    const failures: (number | 'network')[] = [];
    const { client, seen } = vobiz(() => 'new', cache, failures);
    const recording = await client.getRecording('rec-1');
    expect(recording.recording_id).toBe('rec-1');
    expect(seen).toEqual(['old', 'new']);
    expect(failures).toEqual([401]);
    // The audio download that follows uses the token that worked.
    expect(client.authHeaders()['X-Auth-Token']).toBe('new');
  });

  it('when the secret still holds the wrong token, fails with VobizAuthError and does not hammer the secret', async () => {
    const { state, load } = secret({ authId: 'MA_1', authToken: 'wrong' });
    const cache = new CachedCredentials(load, { nowMs: () => 5_000_000 });
    const failures: (number | 'network')[] = [];
    const { client } = vobiz(() => 'right', cache, failures);
    await expect(client.getRecording('rec-1')).rejects.toBeInstanceOf(VobizAuthError);
    await expect(client.getRecording('rec-1')).rejects.toBeInstanceOf(VobizAuthError);
    // Each call is refused once: the re-read found the same token, so there is nothing to retry with.
    expect(failures).toEqual([401, 401]);
    expect(state.reads).toBe(2); // the initial read and one refresh within the minute
  });
});

describe('webhook after a token change', () => {
  const URL_ = 'https://hooks.example.com/webhooks/vobiz/recording';
  const nonce = '12345678901234567890';

  it('re-reads the token when a signature does not verify, and accepts a callback signed with the new one', async () => {
    let now = 0;
    const { state, load } = secret({ authId: 'MA_1', authToken: 'old' });
    const credentials = new CachedCredentials(load, { nowMs: () => now });
    await credentials.current();
    const accepted: string[] = [];
    const handler = createWebhookHandler(() =>
      Promise.resolve({
        credentials,
        publicUrl: URL_,
        acceptNotification: (id: string) => {
          accepted.push(id);
          return Promise.resolve({ kind: 'recorded' as const, status: 'pending' as const });
        },
      }),
    );
    const signedWith = (token: string) =>
      httpEvent({
        method: 'POST',
        path: '/webhooks/vobiz/recording',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-vobiz-signature-v3': computeSignature('V3', token, URL_, nonce),
          'x-vobiz-signature-v3-nonce': nonce,
        },
        body: 'RecordingID=rec-1',
      });
    state.value = { authId: 'MA_1', authToken: 'new' };
    now += 60_000;
    const response = await handler(signedWith('new'), lambdaContext());
    expect(response.statusCode).toBe(200);
    expect(accepted).toEqual(['rec-1']);
    expect(state.reads).toBe(2);
    // A flood of bad signatures reads the secret at most once a minute.
    for (let i = 0; i < 5; i++)
      expect((await handler(signedWith('forged'), lambdaContext())).statusCode).toBe(401);
    expect(state.reads).toBe(2);
  });
});
