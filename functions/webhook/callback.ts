import { isValidRecordingId } from '../shared/domain/recording.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../shared/domain/errors.js';

export const MAX_BODY_BYTES = 64 * 1024;

/** The callback fields we use. Only the id is trusted (after validation); the rest is for logs only. */
export interface RecordingCallback {
  recordingId: string;
  callUuid: string | undefined;
  from: string | undefined;
  to: string | undefined;
}

type Params = Map<string, string[]>;

function formParams(text: string): Params {
  const params: Params = new Map();
  for (const [key, value] of new URLSearchParams(text)) params.set(key, [...(params.get(key) ?? []), value]);
  return params;
}

function jsonParams(text: string): Params {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ValidationError('Body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError('JSON body must be an object');
  }
  const params: Params = new Map();
  for (const [key, field] of Object.entries(value)) {
    if (typeof field === 'string') params.set(key, [field]);
    else if (typeof field === 'number' || typeof field === 'boolean') params.set(key, [String(field)]);
  }
  return params;
}

/** Informative and untrusted: kept for log correlation only when it looks like an id. */
function logSafeId(value: string | undefined): string | undefined {
  return value !== undefined && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : undefined;
}

function single(params: Params, ...names: string[]): string | undefined {
  const values = names.flatMap((name) => params.get(name) ?? []);
  if (new Set(values).size > 1)
    throw new ValidationError(`${names[0]} is given more than once with different values`);
  return values[0];
}

/**
 * The media type of a POST callback: form-urlencoded (Vobiz's default) or JSON; anything else is a 415.
 * Checked before the signature, since it needs no secret. A GET carries its fields in the query string.
 */
export function callbackMediaType(method: string, contentType: string | undefined): string | undefined {
  if (method === 'GET') return undefined;
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded' && mediaType !== 'application/json') {
    throw new UnsupportedMediaTypeError(
      'Content-Type must be application/x-www-form-urlencoded or application/json',
    );
  }
  return mediaType;
}

/**
 * Parses a callback from a POST body (form-urlencoded or JSON) or a GET query string and validates the
 * recording id strictly, because it becomes part of a URL path, a DynamoDB key and an S3 key.
 */
export function parseRecordingCallback(input: {
  method: string;
  contentType: string | undefined;
  body: Buffer;
  rawQueryString: string;
}): RecordingCallback {
  let params: Params;
  if (input.method === 'GET') {
    if (Buffer.byteLength(input.rawQueryString) > MAX_BODY_BYTES)
      throw new PayloadTooLargeError('Query string exceeds 64 KiB');
    params = formParams(input.rawQueryString);
  } else {
    if (input.body.length > MAX_BODY_BYTES) throw new PayloadTooLargeError('Body exceeds 64 KiB');
    const mediaType = callbackMediaType(input.method, input.contentType);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input.body);
    } catch {
      throw new ValidationError('Body is not valid UTF-8');
    }
    params = mediaType === 'application/json' ? jsonParams(text) : formParams(text);
  }
  const recordingId = single(params, 'RecordingID', 'recording_id');
  if (recordingId === undefined || recordingId === '') throw new ValidationError('RecordingID is required');
  if (!isValidRecordingId(recordingId)) {
    throw new ValidationError('RecordingID must be 1-128 characters of letters, digits, "_" or "-"');
  }
  return {
    recordingId,
    callUuid: logSafeId(single(params, 'CallUUID')),
    from: single(params, 'From'),
    to: single(params, 'To'),
  };
}
