/**
 * Child process for the benchmarks: s3rver and the Vobiz fake, so that their memory and CPU are not
 * counted in the process under measurement. Prints one JSON line with the endpoints, then serves until
 * stdin closes. Recordings are created from argv: `id:format:bytes[:chunkDelayMs]`. A `stats` line on stdin is
 * answered with one JSON line: the most audio downloads the fake served at once (then reset) and the
 * recordings downloaded more than once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startS3Server } from '../../local/emulators.js';
import { VobizFake } from '../../local/vobiz-fake.js';

const directory = mkdtempSync(join(tmpdir(), 'bench-s3-'));
const s3 = await startS3Server({ directory, buckets: ['bench-audio'] });
const fake = await new VobizFake().start();
for (const spec of process.argv.slice(2)) {
  const [id, format, bytes, chunkDelayMs] = spec.split(':');
  fake.addRecording(
    { recording_id: id!, format: format as 'mp3' | 'wav', sizeBytes: Number(bytes) },
    chunkDelayMs ? { mediaChunkDelayMs: Number(chunkDelayMs) } : {},
  );
}
process.stdout.write(
  `${JSON.stringify({ s3: s3.endpoint, vobiz: fake.baseUrl, authId: fake.authId, authToken: fake.authToken })}\n`,
);

const shutdown = async () => {
  await Promise.allSettled([s3.stop(), fake.stop()]);
  rmSync(directory, { recursive: true, force: true });
  process.exit(0);
};
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== 'stats') return;
  const downloadedTwice = process.argv
    .slice(2)
    .map((spec) => spec.split(':')[0]!)
    .filter((id) => (fake.recording(id)?.mediaCalls ?? 0) > 1);
  process.stdout.write(
    `${JSON.stringify({ maxActiveMediaDownloads: fake.maxActiveMediaDownloads, downloadedTwice })}\n`,
  );
  fake.maxActiveMediaDownloads = fake.activeMediaDownloads;
});
process.stdin.on('end', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
