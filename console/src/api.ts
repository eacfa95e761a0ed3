import type { Prefetched } from './prefetch.js';

/** The lookup API as the console uses it: JSON in, typed errors out, every call optionally signed. */
export interface Recording {
  recording_id: string;
  status: string;
  [field: string]: unknown;
}

export interface RecordingPage {
  items: Recording[];
  next_cursor: string | null;
}

export interface AudioLink {
  url: string;
  expires_at: string;
  filename?: string;
}

/** An entry of the audit trail (`GET /audit`). */
export interface AuditEntry {
  audit_id: string;
  time: string;
  action: string;
  recording_id: string;
  actor: unknown;
  outcome: string;
  detail?: string;
  variant?: string;
  download?: boolean;
  link_expires_at?: string;
  [field: string]: unknown;
}

export interface AuditPage {
  items: AuditEntry[];
  next_cursor: string | null;
}

/** What `PUT`/`DELETE …/legal-hold` answer. */
export interface HoldResult {
  recording_id: string;
  status: string;
  legal_hold: boolean;
  legal_hold_at: string | null;
  legal_hold_by: unknown;
  legal_hold_reason: string | null;
  already_held?: boolean;
  was_held?: boolean;
}

/** What an erasure answers: the tombstone's facts. */
export interface EraseResult {
  recording_id: string;
  status: 'erased';
  erased_at: string;
  erasure_reason: string;
  erased_by: unknown;
  versions_deleted: number;
  vobiz: 'deleted' | 'absent' | null;
  vobiz_deleted_at: string | null;
  already_erased: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** `Retry-After` of a conflict that passes by itself (an erasure while the recording is archived). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Adds authentication headers to a request (SigV4 in AWS); absent locally. */
export type RequestSigner = (request: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}) => Promise<Record<string, string>>;

export interface Api {
  listRecordings(params: Record<string, string>, signal?: AbortSignal): Promise<RecordingPage>;
  getRecording(recordingId: string): Promise<Recording>;
  audioLink(recordingId: string, options?: { download?: boolean }): Promise<AudioLink>;
  listAudit(params: Record<string, string>, signal?: AbortSignal): Promise<AuditPage>;
  placeHold(recordingId: string, reason: string): Promise<HoldResult>;
  releaseHold(recordingId: string, reason: string): Promise<HoldResult>;
  erase(recordingId: string, options: { reason: string; alsoVobiz: boolean }): Promise<EraseResult>;
  retry(recordingId: string): Promise<Recording>;
}

export interface ApiOptions {
  baseUrl: string;
  sign?: RequestSigner;
  fetch?: typeof fetch;
  /** Headers every request carries (the local stack: the group the console acts as). */
  headers?: Record<string, string>;
  /**
   * Unsigned requests already under way (prefetch.ts), by URL: the first call for such a URL takes the
   * response instead of asking again, and removes it, so a later call asks afresh.
   */
  prefetched?: Prefetched;
}

export function createApi(options: ApiOptions): Api {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const early = (url: string) => {
    const response = options.sign ? undefined : options.prefetched?.get(url);
    options.prefetched?.delete(url);
    return response;
  };

  async function call<T>(
    method: string,
    path: string,
    params: Record<string, string> = {},
    init: { body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    const query = new URLSearchParams(params).toString();
    const url = `${options.baseUrl}${path}${query ? `?${query}` : ''}`;
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    let headers: Record<string, string> = {
      accept: 'application/json',
      ...options.headers,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    if (options.sign) headers = await options.sign({ method, url, headers, body });
    let response: Response;
    try {
      // The API answers no-store itself.
      response = await ((method === 'GET' ? early(url) : undefined) ??
        doFetch(url, { method, headers, body, credentials: 'omit', signal: init.signal }));
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new ApiError(0, 'network', `The archive API could not be reached (${(error as Error).message}).`);
    }
    const parsed: unknown = await response.json().catch(() => undefined);
    if (response.ok && parsed !== undefined) return parsed as T;
    const retryAfter = Number(response.headers.get('retry-after'));
    throw toApiError(
      response.status,
      parsed,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    );
  }

  const recording = (id: string) => `/recordings/${encodeURIComponent(id)}`;
  return {
    listRecordings: (params, signal) => call<RecordingPage>('GET', '/recordings', params, { signal }),
    getRecording: (id) => call<Recording>('GET', recording(id)),
    audioLink: (id, { download = false } = {}) =>
      call<AudioLink>('GET', `${recording(id)}/audio`, download ? { download: 'true' } : {}),
    listAudit: (params, signal) => call<AuditPage>('GET', '/audit', params, { signal }),
    placeHold: (id, reason) =>
      call<HoldResult>('PUT', `${recording(id)}/legal-hold`, {}, { body: { reason } }),
    releaseHold: (id, reason) =>
      call<HoldResult>('DELETE', `${recording(id)}/legal-hold`, {}, { body: { reason } }),
    // also_vobiz is always sent: what happens to Vobiz's copy never depends on a server default.
    erase: (id, { reason, alsoVobiz }) =>
      call<EraseResult>('DELETE', recording(id), { reason, also_vobiz: String(alsoVobiz) }),
    retry: (id) => call<Recording>('POST', `${recording(id)}/retry`),
  };
}

function toApiError(status: number, body: unknown, retryAfterSeconds?: number): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string')
    return new ApiError(status, error.code, error.message, retryAfterSeconds);
  // API Gateway's own answers (IAM refusals, throttling) are {"message": "..."}.
  const message = (body as { message?: unknown } | undefined)?.message;
  if (status === 403)
    return new ApiError(403, 'forbidden', typeof message === 'string' ? message : 'Forbidden');
  if (status === 429) return new ApiError(429, 'throttled', 'Too many requests');
  return new ApiError(status, 'http_error', typeof message === 'string' ? message : `HTTP ${status}`);
}

/** What to tell a person about a failed call: a headline and, where it helps, what to do. */
export function describeError(error: unknown): { title: string; detail: string } {
  if (!(error instanceof ApiError)) {
    const { name, message } = error instanceof Error ? error : { name: '', message: String(error) };
    return {
      title: name === 'SignInError' ? 'Sign-in did not work.' : 'Something went wrong in the console.',
      detail: message,
    };
  }
  switch (error.code) {
    case 'network':
      return {
        title: 'The archive cannot be reached.',
        detail: `${error.message} Check your connection and try again.`,
      };
    case 'invalid_cursor':
      return {
        title: 'This list cannot be continued.',
        detail: `The page position was changed or belongs to another search (${error.message}). Search again to start from the newest.`,
      };
    case 'validation_error':
      return { title: 'The archive did not accept this search.', detail: error.message };
    case 'not_found':
      return { title: 'Not found.', detail: error.message };
    case 'not_stored':
      return { title: 'The audio is not archived yet.', detail: error.message };
    case 'expired':
      return {
        title: 'The audio has expired.',
        detail: `The retention policy removed it; the record is kept (${error.message}).`,
      };
    case 'forbidden':
      return {
        title: 'You are not allowed to do this.',
        detail:
          'Your account is not in a group that may read recordings (reviewers or admins). Ask an administrator.',
      };
    case 'throttled':
      return {
        title: 'The archive is busy.',
        detail: 'Too many requests at once; wait a moment and try again.',
      };
    default:
      return error.status >= 500
        ? {
            title: 'The archive had a problem answering.',
            detail: `${error.message} (HTTP ${error.status}). Try again in a moment.`,
          }
        : { title: `The archive refused the request (HTTP ${error.status}).`, detail: error.message };
  }
}
