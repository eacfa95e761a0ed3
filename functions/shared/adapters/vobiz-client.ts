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
import { staticCredentials, type CredentialsSource } from './credentials.js';
import type { VobizApi } from '../ingest/ports.js';
import {
  AccountMismatchError,
  type BulkDeleteFilters,
  type VobizDeletion,
  type VobizRecordingDeleter,
} from '../lifecycle/ports.js';

export interface VobizClientOptions {
  baseUrl: string;
  /** Fixed credentials, or a source that can re-read them after Vobiz refused them (rotated token). */
  credentials: VobizCredentials | CredentialsSource;
  /**
   * Told of every call Vobiz answered with a status that is not 2xx (a 404 the caller takes as an
   * answer excepted) and of every attempt that got no answer (`network`): the functions count them by
   * status, and 401/403 as `VobizAuthFailed` (alarmed).
   */
  onFailure?: (status: number | 'network') => void;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Attempts for retryable failures (429, 5xx, network, timeout), including the first. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  fetch?: typeof fetch;
  random?: () => number;
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
 * trusted metadata and of the audio URL. List All Recordings feeds the backfill; Delete a Recording and
 * Bulk Delete serve the lifecycle (verified delete at Vobiz, erasure).
 */
export class VobizClient implements VobizApi, VobizRecordingDeleter {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly credentials: CredentialsSource;
  /** The credentials of the latest request, for the audio download that follows it. */
  private lastCredentials: VobizCredentials | undefined;

  constructor(private readonly options: VobizClientOptions) {
    this.credentials =
      'current' in options.credentials ? options.credentials : staticCredentials(options.credentials);
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 200;
    this.maxDelayMs = options.maxDelayMs ?? 2_000;
    this.random = options.random ?? Math.random;
  }

  /**
   * Headers for Vobiz's media host, which authenticates like the API: the credentials of the latest API
   * request (the download always follows a Retrieve Recording call).
   */
  authHeaders(): Record<string, string> {
    return this.lastCredentials ? headersFor(this.lastCredentials) : {};
  }

  async getRecording(recordingId: string, options: { signal?: AbortSignal } = {}): Promise<VobizRecording> {
    const body = await this.requestJson(await this.recordingUrl(recordingId), options.signal);
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
    const { authId } = await this.credentials.current();
    const query = new URLSearchParams({ limit: String(options.limit), offset: String(options.offset) });
    const url = `${this.options.baseUrl}/api/v1/Account/${encodeURIComponent(authId)}/Recording/?${query.toString()}`;
    const page = parseRecordingListPage(await this.requestJson(url, options.signal), options);
    if (!page) throw new IntegrityError('List All Recordings returned neither objects[] nor recordings[]');
    return page;
  }

  /**
   * Delete a Recording: `204` (deleted now) and `404` (already gone, e.g. a retry after a lost answer)
   * both mean the recording is no longer at Vobiz, in the account the URL names; so with `accountId`
   * (the recording's) nothing is sent unless that is the configured account. Deleting is idempotent, so
   * 429/5xx are retried.
   */
  async deleteRecording(
    recordingId: string,
    options: { signal?: AbortSignal; accountId?: string } = {},
  ): Promise<VobizDeletion> {
    const { authId } = await this.credentials.current();
    if (options.accountId !== undefined && options.accountId !== authId)
      throw new AccountMismatchError(options.accountId, authId);
    const { status } = await this.request(
      'DELETE',
      this.recordingUrlOf(authId, recordingId),
      options.signal,
      {
        notFoundIsAnswer: true,
      },
    );
    return status === 404 ? 'absent' : 'deleted';
  }

  /**
   * Bulk Delete: every recording matching the filters, asynchronously at Vobiz (minutes to hours).
   * Without a filter it would delete the whole account's recordings, so that is refused here.
   */
  async bulkDelete(
    filters: BulkDeleteFilters,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ apiId: string | undefined }> {
    const entries = Object.entries(filters).filter(([, value]) => typeof value === 'string' && value !== '');
    if (entries.length === 0) throw new Error('Bulk Delete without a filter would delete every recording');
    const { authId } = await this.credentials.current();
    const query = new URLSearchParams(entries as [string, string][]);
    const url = `${this.options.baseUrl}/api/v1/Account/${encodeURIComponent(authId)}/Recording/BulkDelete/?${query.toString()}`;
    const { body } = await this.request('DELETE', url, options.signal);
    return { apiId: apiIdOf(body) };
  }

  private async recordingUrl(recordingId: string): Promise<string> {
    const { authId } = await this.credentials.current();
    return this.recordingUrlOf(authId, recordingId);
  }

  private recordingUrlOf(authId: string, recordingId: string): string {
    return `${this.options.baseUrl}/api/v1/Account/${encodeURIComponent(authId)}/Recording/${encodeURIComponent(recordingId)}/`;
  }

  /** GET of a JSON document (see `request`). */
  async requestJson(url: string, outer?: AbortSignal): Promise<unknown> {
    const { body } = await this.request('GET', url, outer);
    if (body === undefined) throw new IntegrityError('Vobiz API returned a body that is not JSON');
    return body;
  }

  /**
   * A request with retries on 429/5xx/network errors/timeouts; 404 is final for this call (an error, or
   * an answer when `notFoundIsAnswer`). A 401/403 re-reads the credentials (rate-limited by the source)
   * and, if they changed, tries once more with the new ones.
   */
  private async request(
    method: 'GET' | 'DELETE',
    url: string,
    outer: AbortSignal | undefined,
    options: { notFoundIsAnswer?: boolean } = {},
  ): Promise<{ status: number; body: unknown }> {
    try {
      return await this.requestOnce(method, url, outer, options);
    } catch (error) {
      if (!(error instanceof VobizAuthError) || !(await this.credentials.refresh())) throw error;
      return this.requestOnce(method, url, outer, options);
    }
  }

  private async requestOnce(
    method: 'GET' | 'DELETE',
    url: string,
    outer: AbortSignal | undefined,
    options: { notFoundIsAnswer?: boolean },
  ): Promise<{ status: number; body: unknown }> {
    const credentials = await this.credentials.current();
    this.lastCredentials = credentials;
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
          method,
          headers: {
            ...headersFor(credentials),
            Accept: 'application/json',
            'Content-Type': 'application/json',
          },
          redirect: 'error',
          signal,
        });
      } catch (error) {
        if (outer?.aborted) throw error;
        this.options.onFailure?.('network');
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
      const apiId = apiIdOf(body);
      if (response.ok) return { status: response.status, body };
      if (response.status === 404 && options.notFoundIsAnswer) return { status: 404, body };
      this.options.onFailure?.(response.status);
      if (response.status === 404) {
        throw new RecordingNotAvailableError('Vobiz says the recording is not found (yet)', apiId);
      }
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

function apiIdOf(body: unknown): string | undefined {
  const value = (body as { api_id?: unknown } | undefined)?.api_id;
  return typeof value === 'string' ? value : undefined;
}

function headersFor(credentials: VobizCredentials): Record<string, string> {
  return { 'X-Auth-ID': credentials.authId, 'X-Auth-Token': credentials.authToken };
}
