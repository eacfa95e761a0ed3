/** Errors carry an HTTP status and a stable code; they are turned into responses in one place (framework/http). */
export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
  /** 4xx messages are safe to show the caller; 5xx messages are replaced by a generic one. */
  get expose(): boolean {
    return this.statusCode < 500;
  }
  /** Response headers that belong to this answer (`Allow`, `Retry-After`). */
  get headers(): Record<string, string> {
    return {};
  }
}

export class ValidationError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(400, 'validation_error', message, options);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message: string) {
    super(401, 'unauthorized', message);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends AppError {
  constructor(
    code: string,
    message: string,
    /** When the conflict passes by itself: sent as `Retry-After`. */
    readonly retryAfterSeconds?: number,
  ) {
    super(409, code, message);
  }
  override get headers(): Record<string, string> {
    return this.retryAfterSeconds === undefined ? {} : { 'retry-after': String(this.retryAfterSeconds) };
  }
}

/** The resource existed and was removed on purpose (retention, erasure): 410, never coming back. */
export class GoneError extends AppError {
  constructor(code: string, message: string) {
    super(410, code, message);
  }
}

export class MethodNotAllowedError extends AppError {
  constructor(
    message: string,
    /** Methods the resource allows, for the `Allow` header. */
    readonly allow: readonly string[],
  ) {
    super(405, 'method_not_allowed', message);
  }
  override get headers(): Record<string, string> {
    return { allow: this.allow.join(', ') };
  }
}

/**
 * The request could not be served safely right now and may succeed if repeated: 503 with `Retry-After`.
 * Its message is written for the caller (it names no internals), so it is shown as a 4xx message is.
 */
export class ServiceUnavailableError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(503, code, message, options);
  }
  override get expose(): boolean {
    return true;
  }
  override get headers(): Record<string, string> {
    return { 'retry-after': String(this.retryAfterSeconds) };
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(message: string) {
    super(413, 'payload_too_large', message);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super(415, 'unsupported_media_type', message);
  }
}

/** A dependency (Vobiz, S3, DynamoDB) failed in a way worth retrying later. */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.name = 'TransientError';
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

/** Vobiz answered 404: the recording is not (yet) available. Retried with backoff. */
export class RecordingNotAvailableError extends TransientError {
  constructor(
    message: string,
    readonly apiId: string | undefined,
  ) {
    super(message);
    this.name = 'RecordingNotAvailableError';
  }
}

/** Vobiz refused our credentials (401/403): an operator must fix configuration; retried slowly. */
export class VobizAuthError extends TransientError {
  constructor(
    message: string,
    readonly apiId: string | undefined,
  ) {
    super(message, { retryAfterMs: 15 * 60_000 });
    this.name = 'VobizAuthError';
  }
}

/** A response or download that can never succeed as is (bad schema, foreign origin, size mismatch). */
export class IntegrityError extends TransientError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IntegrityError';
  }
}
