import { createHash } from 'node:crypto';
import { MP3_NOTES } from './mp3-notes.js';
import { MELODY_NOTES, MP3, NOTE_FREQUENCIES_HZ, noteSamples, WAV } from './tones.js';

/**
 * Playable, deterministic audio for simulated recordings. For a recording id, a format and a byte size
 * the bytes are always the same (so SHA-256 checks work), any size can be reached (so benchmarks can
 * ask for 500 MB), and a player decodes them:
 *
 * - WAV: a RIFF/PCM header (8 kHz, 16-bit, mono) and a melody of eight notes picked from the id, looped.
 * - MP3: an ID3v2 tag naming the recording, then whole MPEG frames (16 kHz mono, 32 kbps CBR): the
 *   id's melody from pre-encoded notes (`mp3-notes.ts`), looped. Whatever does not fill a frame goes into
 *   the tag's padding, so the file always ends on a frame boundary.
 *
 * The duration follows from the size (`audioDurationMs`) and a size from a duration (`audioSizeBytes`).
 * Below the header's own size the bytes are a prefix of the header: not playable, duration 0.
 */
export type AudioFormat = 'mp3' | 'wav';

const CHUNK_TARGET_BYTES = 256 * 1024;
const ID3_HEADER_BYTES = 10;
const ID3_FRAME_HEADER_BYTES = 10;

const mp3Notes = MP3_NOTES.map((note) => Buffer.from(note, 'base64'));

/** The id's melody: eight indexes into the scale, from its SHA-256. */
function melody(recordingId: string): number[] {
  const digest = createHash('sha256').update(recordingId).digest();
  return [...digest.subarray(0, MELODY_NOTES)].map((byte) => byte % NOTE_FREQUENCIES_HZ.length);
}

function wavLoop(recordingId: string): Buffer {
  const notes = melody(recordingId).map((index) =>
    noteSamples(NOTE_FREQUENCIES_HZ[index]!, WAV.sampleRate, WAV.noteMs),
  );
  const samples = notes.reduce((total, note) => total + note.length, 0);
  const loop = Buffer.alloc(samples * WAV.bytesPerSample);
  let offset = 0;
  for (const note of notes) for (const sample of note) offset = loop.writeInt16LE(sample, offset);
  return loop;
}

function mp3Loop(recordingId: string): Buffer {
  return Buffer.concat(melody(recordingId).map((index) => mp3Notes[index]!));
}

/** The loop repeated into one chunk of about CHUNK_TARGET_BYTES, so large files take few writes. */
function repeated(loop: Buffer): Buffer {
  const times = Math.max(1, Math.floor(CHUNK_TARGET_BYTES / loop.length));
  return Buffer.concat(Array.from({ length: times }, () => loop));
}

function id3Tag(recordingId: string, totalBytes: number): Buffer {
  const title = Buffer.concat([Buffer.from([3]), Buffer.from(recordingId, 'utf8')]); // 3 = UTF-8
  const frame = Buffer.alloc(ID3_FRAME_HEADER_BYTES);
  frame.write('TIT2', 0, 'ascii');
  frame.writeUInt32BE(syncsafe(title.length), 4);
  const minimum = ID3_HEADER_BYTES + ID3_FRAME_HEADER_BYTES + title.length;
  const tag = Buffer.alloc(Math.max(minimum, totalBytes)); // the rest is padding (zeros), allowed by ID3v2.4
  tag.write('ID3', 0, 'ascii');
  tag[3] = 4; // version 2.4.0
  tag.writeUInt32BE(syncsafe(tag.length - ID3_HEADER_BYTES), 6);
  frame.copy(tag, ID3_HEADER_BYTES);
  title.copy(tag, ID3_HEADER_BYTES + ID3_FRAME_HEADER_BYTES);
  return tag;
}

function syncsafe(value: number): number {
  if (value >= 2 ** 28) throw new RangeError('ID3 size out of range');
  return (value & 0x7f) | ((value & 0x3f80) << 1) | ((value & 0x1fc000) << 2) | ((value & 0xfe00000) << 3);
}

function minimumId3Bytes(recordingId: string): number {
  return ID3_HEADER_BYTES + ID3_FRAME_HEADER_BYTES + 1 + Buffer.byteLength(recordingId, 'utf8');
}

interface Layout {
  headerBytes: number;
  audioBytes: number;
  durationMs: number;
}

/** How a file of `sizeBytes` splits into header and audio, and how long the audio plays. */
function layout(recordingId: string, format: AudioFormat, sizeBytes: number): Layout {
  if (format === 'wav') {
    const audioBytes = Math.max(0, sizeBytes - WAV.headerBytes);
    const samples = Math.floor(audioBytes / WAV.bytesPerSample);
    return {
      headerBytes: Math.min(sizeBytes, WAV.headerBytes),
      audioBytes,
      durationMs: Math.round((samples * 1000) / WAV.sampleRate),
    };
  }
  const frames = Math.max(0, Math.floor((sizeBytes - minimumId3Bytes(recordingId)) / MP3.frameBytes));
  const audioBytes = frames * MP3.frameBytes;
  return { headerBytes: sizeBytes - audioBytes, audioBytes, durationMs: frames * MP3.frameMs };
}

/**
 * The file's header: for WAV the 44-byte RIFF/PCM header, for MP3 the ID3v2 tag (which names the
 * recording, so `recordingId` matters there). Cut to `sizeBytes` for tiny files.
 */
export function audioHeader(format: AudioFormat, sizeBytes: number, recordingId = ''): Buffer {
  const { headerBytes, audioBytes } = layout(recordingId, format, sizeBytes);
  if (format === 'mp3') return id3Tag(recordingId, headerBytes).subarray(0, sizeBytes);
  const header = Buffer.alloc(WAV.headerBytes);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(Math.max(0, sizeBytes - 8), 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(WAV.sampleRate, 24);
  header.writeUInt32LE(WAV.sampleRate * WAV.bytesPerSample, 28);
  header.writeUInt16LE(WAV.bytesPerSample, 32);
  header.writeUInt16LE(8 * WAV.bytesPerSample, 34);
  header.write('data', 36, 'ascii');
  // An odd last byte is the RIFF pad byte, not half a sample.
  header.writeUInt32LE(audioBytes - (audioBytes % WAV.bytesPerSample), 40);
  return header.subarray(0, headerBytes);
}

/** The exact bytes of a simulated recording, as chunks (never the whole file in memory). */
export function* audioChunks(recordingId: string, format: AudioFormat, sizeBytes: number): Generator<Buffer> {
  const { audioBytes } = layout(recordingId, format, sizeBytes);
  yield audioHeader(format, sizeBytes, recordingId);
  if (audioBytes === 0) return;
  const loop = format === 'wav' ? wavLoop(recordingId) : mp3Loop(recordingId);
  const chunk = repeated(loop);
  let remaining = audioBytes;
  while (remaining > 0) {
    const next = remaining >= chunk.length ? chunk : chunk.subarray(0, remaining);
    remaining -= next.length;
    yield next;
  }
}

export function audioSha256(recordingId: string, format: AudioFormat, sizeBytes: number): string {
  const hash = createHash('sha256');
  for (const chunk of audioChunks(recordingId, format, sizeBytes)) hash.update(chunk);
  return hash.digest('hex');
}

/** How long a player plays the file, in whole milliseconds. */
export function audioDurationMs(recordingId: string, format: AudioFormat, sizeBytes: number): number {
  return layout(recordingId, format, sizeBytes).durationMs;
}

/** The size of a file that plays for `durationMs` (MP3: the nearest whole number of 36 ms frames). */
export function audioSizeBytes(recordingId: string, format: AudioFormat, durationMs: number): number {
  if (!Number.isFinite(durationMs) || durationMs < 0) throw new RangeError('durationMs must be >= 0');
  if (format === 'wav')
    return WAV.headerBytes + Math.round((durationMs * WAV.sampleRate) / 1000) * WAV.bytesPerSample;
  return minimumId3Bytes(recordingId) + Math.round(durationMs / MP3.frameMs) * MP3.frameBytes;
}
