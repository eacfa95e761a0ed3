/**
 * Child process for the ingest benchmark: s3rver and the Vobiz fake, so that their memory and CPU are
 * not counted in the process under measurement. Prints one JSON line with the endpoints, then serves
 * until stdin closes. Recordings are created from argv: `id:format:bytes` triples.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Server } from '../../local/emulators.js';
import { VobizFake } from '../../local/vobiz-fake.js';

const directory = mkdtempSync(join(tmpdir(), 'bench-s3-'));
const s3 = await startS3Server({ directory, buckets: ['bench-audio'] });
const fake = await new VobizFake().start();
for (const spec of process.argv.slice(2)) {
  const [id, format, bytes] = spec.split(':');
  fake.addRecording({ recording_id: id!, format: format as 'mp3' | 'wav', sizeBytes: Number(bytes) });
}
process.stdout.write(
  `${JSON.stringify({ s3: s3.endpoint, vobiz: fake.baseUrl, authId: fake.authId, authToken: fake.authToken })}\n`,
);

const shutdown = async () => {
  await Promise.allSettled([s3.stop(), fake.stop()]);
  rmSync(directory, { recursive: true, force: true });
  process.exit(0);
};
process.stdin.on('end', () => void shutdown());
process.stdin.resume();
process.on('SIGTERM', () => void shutdown());
