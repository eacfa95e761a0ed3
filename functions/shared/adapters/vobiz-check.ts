import type { VobizCredentials } from '../config.js';
import { IntegrityError, TransientError, VobizAuthError } from '../domain/errors.js';
import { VobizClient } from './vobiz-client.js';

/** The answer to "does Vobiz accept these credentials?", from one List All Recordings call (limit 1). */
export type VobizCredentialsCheck =
  | { ok: true; detail: string }
  | { ok: false; reason: 'refused' | 'unreachable' | 'unexpected'; detail: string };

/**
 * Asks Vobiz once, the cheapest authenticated call there is (List All Recordings, limit 1): `refused`
 * for 401/403, `unreachable` for network errors, timeouts and 5xx after retries, `unexpected` for an
 * answer that is not a recordings list (a wrong API base URL). Used by `set-secret` before it writes,
 * by `doctor`, and by the local stack's `/health/vobiz`.
 */
export async function checkVobizCredentials(
  baseUrl: string,
  credentials: VobizCredentials,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<VobizCredentialsCheck> {
  const client = new VobizClient({
    baseUrl,
    credentials,
    timeoutMs: options.timeoutMs ?? 5_000,
    maxAttempts: 2,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  try {
    await client.listRecordings({ limit: 1, offset: 0 });
    return { ok: true, detail: `Vobiz at ${baseUrl} accepts auth id ${credentials.authId}` };
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof VobizAuthError)
      return {
        ok: false,
        reason: 'refused',
        detail: `Vobiz at ${baseUrl} refused auth id ${credentials.authId}: ${message}`,
      };
    if (error instanceof IntegrityError)
      return {
        ok: false,
        reason: 'unexpected',
        detail: `${baseUrl} did not answer like the Vobiz API: ${message}`,
      };
    if (error instanceof TransientError)
      return { ok: false, reason: 'unreachable', detail: `Vobiz at ${baseUrl} did not answer: ${message}` };
    throw error;
  }
}
