import { describe, expect, it } from 'vitest';
import { CursorCodec, InvalidCursorError, MAX_CURSOR_LENGTH } from '../../functions/lookup/cursor.js';

const KEY = 'unit-test-cursor-key-0123456789abcdef';
const BINDING = JSON.stringify(['from', '919800000001', null, null, null]);
const POSITION = '001740830400000#rec-000001';

describe('CursorCodec', () => {
  const codec = new CursorCodec(KEY);

  it('round-trips a position for the query it was issued for', () => {
    const cursor = codec.encode(POSITION, BINDING);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
    expect(codec.decode(cursor, BINDING)).toBe(POSITION);
  });

  it('does not show the position in the clear as plain text of the query', () => {
    const cursor = codec.encode(POSITION, BINDING);
    expect(cursor).not.toContain('919800000001');
  });

  it('rejects a cursor with any single byte changed', () => {
    const raw = Buffer.from(codec.encode(POSITION, BINDING), 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const tampered = Buffer.from(raw);
      tampered[i] = tampered[i]! ^ 0x01;
      expect(() => codec.decode(tampered.toString('base64url'), BINDING), `byte ${i}`).toThrow(/not valid/);
    }
  });

  it('rejects truncated, extended and non-canonical encodings', () => {
    const cursor = codec.encode(POSITION, BINDING);
    for (const variant of [
      cursor.slice(0, -1),
      cursor.slice(0, -4),
      cursor.slice(3),
      `${cursor}AA`,
      `${cursor}=`,
      '',
      'A',
    ]) {
      expect(() => codec.decode(variant, BINDING)).toThrow(InvalidCursorError);
    }
    // Same bytes, different spelling: the unused low bits of the last character set.
    const last = cursor.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    if (Buffer.from(cursor.slice(0, -1) + sibling, 'base64url').equals(Buffer.from(cursor, 'base64url'))) {
      expect(() => codec.decode(cursor.slice(0, -1) + sibling, BINDING)).toThrow(InvalidCursorError);
    }
  });

  it('rejects a cursor signed with another key', () => {
    const foreign = new CursorCodec('another-key-entirely-0123456789abcdef');
    expect(() => codec.decode(foreign.encode(POSITION, BINDING), BINDING)).toThrow(/not valid/);
  });

  it('says so when a valid cursor is used with a different query', () => {
    const cursor = codec.encode(POSITION, BINDING);
    const other = JSON.stringify(['to', '919800000001', null, null, null]);
    expect(() => codec.decode(cursor, other)).toThrow(/different query/);
  });

  it('refuses oversized input before decoding it', () => {
    expect(() => codec.decode('A'.repeat(MAX_CURSOR_LENGTH + 1), BINDING)).toThrow(InvalidCursorError);
  });

  it('needs a key of at least 32 bytes', () => {
    expect(() => new CursorCodec('short')).toThrow(/32 bytes/);
  });

  it('turns a bad cursor into a 400 invalid_cursor error', () => {
    try {
      codec.decode('garbage', BINDING);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ statusCode: 400, code: 'invalid_cursor', expose: true });
    }
  });
});
