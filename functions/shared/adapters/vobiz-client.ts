import { setTimeout as sleep } from 'node:timers/promises';
import type { VobizRecording } from '../domain/recording.js';
import { parseVobizRecording } from '../domain/vobiz-schema.js';
import { parseRecordingListPage, type RecordingListPage } from '../domain/vobiz-list.js';
import {
  IntegrityError,
  RecordingNotAvailableError,
  TransientError,
  VobizAuthError,
} from '../domain/errors.js';
import type { VobizCredentials } from '../config.js';

export interface VobizClientOptions {
  baseUrl: string;
  credentials: VobizCredentials;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Attempts for retryable failures (429, 5xx, network, timeout), including the first. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  fetch?: typeof fetch;
  random?: () => number;
}

export interface VobizApi {
  getRecording(recordingId: string, options?: { signal?: AbortSignal }): Promise<VobizRecording>;
}

/** Full-jitter exponential backoff: a random delay in [0, min(max, base·2^attempt)). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));
}

function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Client for Vobiz's REST API. Only Retrieve Recording is needed to archive: it is the sole source of
 * trusted metadata and of the audio URL.
 */
export class VobizClient implements VobizApi {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;

  constructor(private readonly options: VobizClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 2_000;
    this.random = options.random ?? Math.random;
  }

  get accountId(): string {
    return this.options.credentials.authId;
  }

  /** Headers for Vobiz's API and its media host (both authenticate with the account's id and token). */
  authHeaders(): Record<string, string> {
    return {
      'X-Auth-ID': this.options.credentials.authId,
      'X-Auth-Token': this.options.credentials.authToken,
    };
  }

  async getRecording(recordingId: string, options: { signal?: AbortSignal } = {}): Promise<VobizRecording> {
    const { authId } = this.options.credentials;
    const url = `${this.options.baseUrl}/api/v1/Account/${encodeURIComponent(authId)}/Recording/${encodeURIComponent(recordingId)}/`;
    const body = await this.requestJson(url, options.signal);
    const parsed = parseVobizRecording(body);
    if (!parsed.ok)
      throw new IntegrityError(`Retrieve Recording returned an unexpected body: ${parsed.error}`);
    if (parsed.value.recording_id !== recordingId) {
      throw new IntegrityError('Retrieve Recording returned a different recording_id than requested');
    }
    return parsed.value;
  }

  /** One page of List All Recordings (newest first), for the backfill; 429 is retried per Retry-After. */
  async listRecordings(options: {
    limit: number;
    offset: number;
    signal?: AbortSignal;
  }): Promise<RecordingListPage> {
    const { authId } = this.options.credentials;
    const query = new URLSearchParams({ limit: String(options.limit), offset: String(options.offset) });
    const url = `${this.options.baseUrl}/api/v1/Account/${encodeURIComponent(authId)}/Recording/?${query.toString()}`;
    const page = parseRecordingListPage(await this.requestJson(url, options.signal), options);
    if (!page) throw new IntegrityError('List All Recordings returned neither objects[] nor recordings[]');
    return page;
  }

  /** GET with retries on 429/5xx/network errors/timeouts; 404 and 401/403 are final for this call. */
  async requestJson(url: string, outer?: AbortSignal): Promise<unknown> {
    let lastError: Error = new TransientError('Vobiz request not attempted');
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      if (attempt > 0) {
        const hinted = (lastError as TransientError).retryAfterMs;
        const delay =
          hinted !== undefined
            ? Math.min(hinted, this.maxDelayMs * 4)
            : backoffDelay(attempt, this.baseDelayMs, this.maxDelayMs, this.random);
        await sleep(delay, undefined, { signal: outer });
      }
      outer?.throwIfAborted();
      const signal = outer
        ? AbortSignal.any([outer, AbortSignal.timeout(this.timeoutMs)])
        : AbortSignal.timeout(this.timeoutMs);
      let response: Response;
      try {
        response = await this.fetch(url, {
          method: 'GET',
          headers: { ...this.authHeaders(), Accept: 'application/json', 'Content-Type': 'application/json' },
          redirect: 'error',
          signal,
        });
      } catch (error) {
        if (outer?.aborted) throw error;
        lastError = new TransientError(`Vobiz API unreachable: ${(error as Error).name}`, { cause: error });
        continue;
      }
      const text = await response.text().catch(() => '');
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      const apiId =
        typeof (body as { api_id?: unknown })?.api_id === 'string'
          ? (body as { api_id: string }).api_id
          : undefined;
      if (response.ok) {
        if (body === undefined) throw new IntegrityError('Vobiz API returned a body that is not JSON');
        return body;
      }
      if (response.status === 404)
        throw new RecordingNotAvailableError('Vobiz says the recording is not found (yet)', apiId);
      if (response.status === 401 || response.status === 403) {
        throw new VobizAuthError(
          `Vobiz refused the credentials (HTTP ${response.status}); check the auth id and token`,
          apiId,
        );
      }
      if (response.status === 429 || response.status >= 500) {
        lastError = new TransientError(
          `Vobiz API answered HTTP ${response.status}${apiId ? ` (api_id ${apiId})` : ''}`,
          {
            retryAfterMs: retryAfterMs(response),
          },
        );
        continue;
      }
      throw new IntegrityError(
        `Vobiz API answered HTTP ${response.status}${apiId ? ` (api_id ${apiId})` : ''}`,
      );
    }
    throw lastError;
  }
}
