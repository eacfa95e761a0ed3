/**
 * Child process for the lifecycle benchmark: s3rver (with the versioning, checksum and legal-hold layer
 * of the local stack) and the Vobiz fake with a fixed API latency, so that their CPU is not counted in
 * the process under measurement. Prints one JSON line with the endpoints; then reads JSON lines on stdin
 * (`{"add": [recording ids]}` adds recordings to the fake, `{"stats": true}` reports the calls it
 * answered) and answers each with one JSON line. Ends when stdin closes.
 *
 *   node --import tsx bench/support/lifecycle-servers.ts <latency ms>
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startS3Server } from '../../local/emulators.js';
import { VobizFake } from '../../local/vobiz-fake.js';

const directory = mkdtempSync(join(tmpdir(), 'bench-lifecycle-s3-'));
const s3 = await startS3Server({ directory, buckets: ['bench-lifecycle'] });
const fake = await new VobizFake().start();
fake.api = { latencyMs: Number(process.argv[2] ?? 50) };
process.stdout.write(
  `${JSON.stringify({ s3: s3.endpoint, vobiz: fake.baseUrl, authId: fake.authId, authToken: fake.authToken })}\n`,
);

const shutdown = async () => {
  await Promise.allSettled([s3.stop(), fake.stop()]);
  rmSync(directory, { recursive: true, force: true });
  process.exit(0);
};
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const command = JSON.parse(line) as { add?: string[]; stats?: boolean };
  for (const id of command.add ?? []) fake.addRecording({ recording_id: id, sizeBytes: 1024 });
  const deletes = fake.deleteCalls.length;
  const status204 = fake.deleteCalls.filter((c) => c.status === 204).length;
  process.stdout.write(`${JSON.stringify({ ok: true, deletes, deleted: status204 })}\n`);
});
lines.on('close', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
