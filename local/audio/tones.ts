/**
 * The simulator's "voice": short notes of a pentatonic scale. A recording plays a melody of eight
 * notes chosen from its id, looped, so different recordings sound (and hash) differently.
 */

/** Sixteen notes, A3 upwards on a major pentatonic scale (all below the 4 kHz Nyquist limit of 8 kHz PCM). */
export const NOTE_FREQUENCIES_HZ: readonly number[] = [
  0, 2, 4, 7, 9, 12, 14, 16, 19, 21, 24, 26, 28, 31, 33, 36,
].map((semitones) => Math.round(220 * 2 ** (semitones / 12) * 100) / 100);

export const MELODY_NOTES = 8;

/** MPEG-2 Layer III at 16 kHz mono, 32 kbps CBR: every frame is 144 bytes and 576 samples (36 ms). */
export const MP3 = {
  sampleRate: 16_000,
  kbps: 32,
  frameBytes: 144,
  frameMs: 36,
  noteMs: 250,
} as const;

/** PCM WAV: 8 kHz, 16-bit, mono (telephone quality), 16,000 bytes per second. */
export const WAV = {
  sampleRate: 8_000,
  bytesPerSample: 2,
  headerBytes: 44,
  noteMs: 250,
} as const;

/**
 * One note as 16-bit samples: a sine with a little second harmonic, shaped by a short attack and a
 * longer release so that consecutive notes do not click.
 */
export function noteSamples(frequencyHz: number, sampleRate: number, durationMs: number): Int16Array {
  const count = Math.round((sampleRate * durationMs) / 1000);
  const attack = Math.round(sampleRate * 0.01);
  const release = Math.round(sampleRate * 0.06);
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) {
    const t = i / sampleRate;
    const envelope = Math.min(1, i / attack, (count - 1 - i) / release);
    const wave = Math.sin(2 * Math.PI * frequencyHz * t) + 0.25 * Math.sin(4 * Math.PI * frequencyHz * t);
    samples[i] = Math.round(7_000 * envelope * wave);
  }
  return samples;
}
