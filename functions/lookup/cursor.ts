import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../shared/domain/errors.js';

export class InvalidCursorError extends AppError {
  constructor(message: string) {
    super(400, 'invalid_cursor', message);
  }
}

const VERSION = 1;
const FINGERPRINT_BYTES = 6;
const MAC_BYTES = 16;
const MAX_POSITION_BYTES = 256;
/** Longer input is refused before any decoding work. */
export const MAX_CURSOR_LENGTH = Math.ceil(
  ((1 + FINGERPRINT_BYTES + MAX_POSITION_BYTES + MAC_BYTES) * 4) / 3,
);
export const MIN_KEY_BYTES = 32;

/**
 * Opaque, tamper-evident page cursors: `base64url(version ‖ query fingerprint ‖ position ‖ MAC)`.
 * The MAC (HMAC-SHA256, truncated to 128 bits) covers everything before it, so a forged, truncated or
 * edited cursor is refused; the fingerprint (also keyed) binds the cursor to the query it came from,
 * so replaying it with other filters is refused too. Positions are not secret, only unforgeable.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(key: string | Buffer) {
    this.key = Buffer.isBuffer(key) ? key : Buffer.from(key, 'utf8');
    if (this.key.length < MIN_KEY_BYTES)
      throw new Error(`cursor signing key must be at least ${MIN_KEY_BYTES} bytes`);
  }

  /** `binding` is a canonical description of the query (filters, window, status; not the page size). */
  encode(position: string, binding: string): string {
    const positionBytes = Buffer.from(position, 'utf8');
    if (positionBytes.length === 0 || positionBytes.length > MAX_POSITION_BYTES) {
      throw new Error(`cursor position must be 1–${MAX_POSITION_BYTES} bytes`);
    }
    const body = Buffer.concat([Buffer.of(VERSION), this.fingerprint(binding), positionBytes]);
    return Buffer.concat([body, this.mac(body)]).toString('base64url');
  }

  decode(cursor: string, binding: string): string {
    if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
    const raw = Buffer.from(cursor, 'base64url');
    // Base64 has several spellings of the same bytes; only the one we produce is accepted.
    if (raw.toString('base64url') !== cursor) throw invalid();
    if (raw.length < 1 + FINGERPRINT_BYTES + 1 + MAC_BYTES) throw invalid();
    const body = raw.subarray(0, raw.length - MAC_BYTES);
    const mac = raw.subarray(raw.length - MAC_BYTES);
    if (body[0] !== VERSION || !timingSafeEqual(mac, this.mac(body))) throw invalid();
    const fingerprint = body.subarray(1, 1 + FINGERPRINT_BYTES);
    if (!timingSafeEqual(fingerprint, this.fingerprint(binding))) {
      throw new InvalidCursorError(
        'cursor belongs to a different query: repeat the same call_uuid/from_number/to_number, since, until and status, or drop the cursor',
      );
    }
    return body.subarray(1 + FINGERPRINT_BYTES).toString('utf8');
  }

  private fingerprint(binding: string): Buffer {
    return createHmac('sha256', this.key)
      .update('query\0')
      .update(binding, 'utf8')
      .digest()
      .subarray(0, FINGERPRINT_BYTES);
  }

  private mac(body: Buffer): Buffer {
    return createHmac('sha256', this.key).update('cursor\0').update(body).digest().subarray(0, MAC_BYTES);
  }
}

function invalid(): InvalidCursorError {
  return new InvalidCursorError(
    'cursor is not valid: pass back the next_cursor of a previous response unchanged',
  );
}
