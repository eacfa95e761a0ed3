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

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
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
}) => Promise<Record<string, string>>;

export interface Api {
  listRecordings(params: Record<string, string>): Promise<RecordingPage>;
  getRecording(recordingId: string): Promise<Recording>;
  audioLink(recordingId: string, options?: { download?: boolean }): Promise<AudioLink>;
}

export interface ApiOptions {
  baseUrl: string;
  sign?: RequestSigner;
  fetch?: typeof fetch;
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

  async function get<T>(path: string, params: Record<string, string> = {}): Promise<T> {
    const query = new URLSearchParams(params).toString();
    const url = `${options.baseUrl}${path}${query ? `?${query}` : ''}`;
    let headers: Record<string, string> = { accept: 'application/json' };
    if (options.sign) headers = await options.sign({ method: 'GET', url, headers });
    let response: Response;
    try {
      // The API answers no-store itself.
      response = await (early(url) ?? doFetch(url, { headers, credentials: 'omit' }));
    } catch (error) {
      throw new ApiError(0, 'network', `The archive API could not be reached (${(error as Error).message}).`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.ok && body !== undefined) return body as T;
    throw toApiError(response.status, body);
  }

  return {
    listRecordings: (params) => get<RecordingPage>('/recordings', params),
    getRecording: (id) => get<Recording>(`/recordings/${encodeURIComponent(id)}`),
    audioLink: (id, { download = false } = {}) =>
      get<AudioLink>(`/recordings/${encodeURIComponent(id)}/audio`, download ? { download: 'true' } : {}),
  };
}

function toApiError(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string')
    return new ApiError(status, error.code, error.message);
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
