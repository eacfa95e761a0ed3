import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeNotes, renderModule } from '../../local/audio/generate-mp3-notes.js';
import { MP3_NOTES } from '../../local/audio/mp3-notes.js';
import { NOTE_FREQUENCIES_HZ } from '../../local/audio/tones.js';
import {
  audioChunks,
  audioDurationMs,
  audioHeader,
  audioSha256,
  audioSizeBytes,
} from '../../local/audio/simulated-audio.js';
import { VobizFake } from '../../local/vobiz-fake.js';

const ID = '693a45e2-2cd3-4817-9612-2e5b86cca41e';

function file(id: string, format: 'mp3' | 'wav', size: number): Buffer {
  return Buffer.concat([...audioChunks(id, format, size)]);
}

function unsyncsafe(bytes: Buffer, offset: number): number {
  return (bytes[offset]! << 21) | (bytes[offset + 1]! << 14) | (bytes[offset + 2]! << 7) | bytes[offset + 3]!;
}

/** MPEG audio frames after the ID3 tag: each must start with a frame sync of our stream type. */
function mp3Frames(bytes: Buffer): { tagBytes: number; frames: number; mainDataBegins: number[] } {
  expect(bytes.subarray(0, 3).toString('ascii')).toBe('ID3');
  const tagBytes = 10 + unsyncsafe(bytes, 6);
  const mainDataBegins: number[] = [];
  let offset = tagBytes;
  while (offset < bytes.length) {
    const header = bytes.readUInt32BE(offset);
    expect(header >>> 21, `frame sync at ${offset}`).toBe(0x7ff);
    expect((header >>> 19) & 3, 'MPEG-2').toBe(2);
    expect((header >>> 17) & 3, 'Layer III').toBe(1);
    expect((header >>> 12) & 15, '32 kbps').toBe(4);
    expect((header >>> 10) & 3, '16 kHz').toBe(2);
    expect((header >>> 9) & 1, 'no padding').toBe(0);
    mainDataBegins.push(bytes[offset + 4]!);
    offset += 144;
  }
  expect(offset).toBe(bytes.length);
  return { tagBytes, frames: mainDataBegins.length, mainDataBegins };
}

describe('simulated WAV audio', () => {
  it('is a RIFF/PCM file (8 kHz, 16-bit, mono) of exactly the asked size, with a playing time that follows from it', () => {
    for (const size of [44, 45, 1_000, 100_044, 100_045, 300_000]) {
      const bytes = file(ID, 'wav', size);
      expect(bytes.length).toBe(size);
      expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
      expect(bytes.readUInt32LE(4)).toBe(size - 8);
      expect(bytes.toString('ascii', 8, 16)).toBe('WAVEfmt ');
      expect([bytes.readUInt16LE(20), bytes.readUInt16LE(22), bytes.readUInt32LE(24)]).toEqual([1, 1, 8000]);
      expect([bytes.readUInt32LE(28), bytes.readUInt16LE(32), bytes.readUInt16LE(34)]).toEqual([
        16000, 2, 16,
      ]);
      const dataBytes = bytes.readUInt32LE(40);
      expect(dataBytes % 2).toBe(0);
      expect(size - 44 - dataBytes).toBeLessThanOrEqual(1); // an odd last byte is the RIFF pad byte
      expect(audioDurationMs(ID, 'wav', size)).toBe(Math.round(dataBytes / 16));
    }
    expect(audioDurationMs(ID, 'wav', 100_044)).toBe(6_250);
  });

  it('holds a melody of notes of the scale, not silence or noise', () => {
    const bytes = file(ID, 'wav', 44 + 32_000);
    const samples = Array.from({ length: 16_000 }, (_, i) => bytes.readInt16LE(44 + 2 * i));
    const rms = Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
    expect(rms).toBeGreaterThan(2_000);
    // Each 250 ms note: its pitch from the zero crossings of its steady middle part.
    for (let note = 0; note < 8; note++) {
      const middle = samples.slice(note * 2000 + 250, note * 2000 + 1750);
      const crossings = middle.slice(1).filter((s, i) => s >= 0 !== middle[i]! >= 0).length;
      const hz = crossings / 2 / (middle.length / 8000);
      const nearest = Math.min(...NOTE_FREQUENCIES_HZ.map((f) => Math.abs(f - hz) / f));
      expect(nearest, `note ${note} at ${hz} Hz`).toBeLessThan(0.05);
    }
  });
});

describe('simulated MP3 audio', () => {
  it('is an ID3v2 tag naming the recording, then whole 144-byte MPEG frames up to exactly the asked size', () => {
    for (const size of [200, 1_000, 204_800, 300_001]) {
      const bytes = file(ID, 'mp3', size);
      expect(bytes.length).toBe(size);
      expect(bytes.includes(Buffer.from(ID))).toBe(true);
      const { tagBytes, frames } = mp3Frames(bytes);
      expect(tagBytes).toBeLessThan(57 + 144);
      expect(audioDurationMs(ID, 'mp3', size)).toBe(frames * 36);
    }
    expect(audioDurationMs(ID, 'mp3', 204_800)).toBe(51_156);
  });

  it('ships notes that are independent MPEG streams, so any melody of them decodes', () => {
    expect(MP3_NOTES).toHaveLength(16);
    for (const note of MP3_NOTES) {
      const bytes = Buffer.concat([
        Buffer.from('ID3\x04\0\0\0\0\0\0', 'latin1'),
        Buffer.from(note, 'base64'),
      ]);
      const { mainDataBegins } = mp3Frames(bytes);
      expect(mainDataBegins[0]).toBe(0);
    }
  });

  // Encoding every note is CPU-bound (7.5 s on the shared 2-core machine on 2026-12-04): past the 5 s default.
  it(
    'ships exactly what the generator produces from the scale (regenerate after changing tones.ts)',
    {
      timeout: 60_000,
    },
    () => {
      const committed = readFileSync(new URL('../../local/audio/mp3-notes.ts', import.meta.url), 'utf8');
      expect(renderModule(encodeNotes())).toBe(committed);
    },
  );

  it('gives files below the tag size as a prefix of the tag, with no playing time', () => {
    const bytes = file(ID, 'mp3', 20);
    expect(bytes).toEqual(audioHeader('mp3', 20, ID));
    expect(bytes.toString('ascii', 0, 3)).toBe('ID3');
    expect(audioDurationMs(ID, 'mp3', 20)).toBe(0);
  });
});

describe('simulated audio for every format', () => {
  it.each(['mp3', 'wav'] as const)(
    '%s: the same bytes for the same id and size, different ones for another id',
    (format) => {
      const size = 120_000;
      expect(audioSha256(ID, format, size)).toBe(audioSha256(ID, format, size));
      expect(file(ID, format, size).equals(file(ID, format, size))).toBe(true);
      expect(audioSha256(ID, format, size)).not.toBe(audioSha256(`${ID}-other`, format, size));
    },
  );

  it.each(['mp3', 'wav'] as const)('%s: a size made for a duration plays that long', (format) => {
    for (const durationMs of [4_000, 10_080, 63_999]) {
      const size = audioSizeBytes(ID, format, durationMs);
      expect(Math.abs(audioDurationMs(ID, format, size) - durationMs)).toBeLessThanOrEqual(
        format === 'mp3' ? 18 : 0,
      );
    }
  });

  it('streams large files in chunks of about 256 KiB', () => {
    const chunks = [...audioChunks(ID, 'mp3', 5_000_000)];
    expect(chunks.reduce((total, chunk) => total + chunk.length, 0)).toBe(5_000_000);
    expect(Math.max(...chunks.map((chunk) => chunk.length))).toBeLessThanOrEqual(256 * 1024);
    expect(chunks.length).toBeLessThan(30);
  });
});

describe('the Vobiz fake', () => {
  it('reports the duration the audio really has: derived from the size, or the size from a duration', () => {
    const fake = new VobizFake();
    const sized = fake.addRecording({ recording_id: ID, format: 'wav', sizeBytes: 160_044 });
    expect(sized.metadata.recording_duration_ms).toBe('10000.00000');
    const timed = fake.addRecording({ recording_id: `${ID}-2`, format: 'mp3', durationMs: 7_200 });
    expect(timed.metadata.recording_duration_ms).toBe('7200.00000');
    expect(timed.sizeBytes).toBe(audioSizeBytes(`${ID}-2`, 'mp3', 7_200));
    const both = fake.addRecording({
      recording_id: `${ID}-3`,
      format: 'mp3',
      sizeBytes: 40_000,
      durationMs: 1,
    });
    expect(both.metadata.recording_duration_ms).toBe(`${audioDurationMs(`${ID}-3`, 'mp3', 40_000)}.00000`);
  });
});
