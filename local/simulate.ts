import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { CreateRecordingsRequest, SimulatedRecording } from './simulator.js';

/**
 * `npm run simulate -- --count 5`: what Vobiz does after a call, against the running local stack. It
 * asks the simulator for new recordings and their signed callbacks, delivers the callbacks to the local
 * webhook over HTTP, waits until each recording is archived, and shows where everything went.
 */

export const USAGE = `Usage: npm run simulate -- [--count N] [--format mp3|wav|mixed] [--size 200kb] [--port 3000] [--timeout 60]

  --count N      recordings to simulate (default 1, at most 1000)
  --format F     mp3, wav or mixed (default mp3)
  --size S       audio size per recording, e.g. 64kb, 2mb, 5000 (default 200kb)
  --port N       the local stack's gateway port (default: PORT or 3000)
  --timeout S    seconds to wait for every recording to be stored (default 60)`;

export class UsageError extends Error {}

export interface SimulateOptions {
  count: number;
  format: 'mp3' | 'wav' | 'mixed';
  sizeBytes: number;
  port: number;
  timeoutMs: number;
}

/** `200kb`, `1.5mb`, `5000`: sizes in bytes, KiB or MiB. */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?$/i.exec(value.trim());
  if (!match) throw new UsageError(`--size must look like 200kb, 2mb or 5000, got "${value}"`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const factor = unit.startsWith('m') ? 1024 * 1024 : unit.startsWith('k') ? 1024 : 1;
  return Math.round(Number(match[1]) * factor);
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): SimulateOptions | 'help' {
  const options: SimulateOptions = {
    count: 1,
    format: 'mp3',
    sizeBytes: 200 * 1024,
    port: Number(env.PORT ?? 3000),
    timeoutMs: 60_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value\n\n${USAGE}`);
      return next;
    };
    const integer = (name: string, min: number, max: number) => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max)
        throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return n;
    };
    switch (flag) {
      case '--help':
      case '-h':
        return 'help';
      case '--count':
        options.count = integer('--count', 1, 1000);
        break;
      case '--format': {
        const format = value();
        if (format !== 'mp3' && format !== 'wav' && format !== 'mixed')
          throw new UsageError(`--format must be mp3, wav or mixed, got "${format}"`);
        options.format = format;
        break;
      }
      case '--size':
        options.sizeBytes = parseSize(value());
        break;
      case '--port':
        options.port = integer('--port', 1, 65_535);
        break;
      case '--timeout':
        options.timeoutMs = integer('--timeout', 1, 3600) * 1000;
        break;
      default:
        throw new UsageError(`Unknown option ${flag}\n\n${USAGE}`);
    }
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65_535)
    throw new UsageError('PORT must be a port number');
  return options;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

interface Health {
  status: string;
  webhook_url: string;
  simulator_url: string | null;
}

interface StoredRecord {
  recording_id: string;
  status: string;
  recording_format?: string;
  call_uuid?: string;
  size_bytes?: number;
  sha256?: string;
  s3_key?: string;
  last_error?: string;
}

interface Outcome {
  simulated: SimulatedRecording;
  record?: StoredRecord;
  problem?: string;
}

async function readHealth(gateway: string, deadline: number): Promise<Health> {
  let waiting = false;
  for (;;) {
    let response: Response;
    try {
      response = await fetch(`${gateway}/health`);
    } catch {
      throw new UsageError(
        `Nothing answers at ${gateway}. Start the local stack first (npm start), or pass --port.`,
      );
    }
    if (response.ok) return (await response.json()) as Health;
    if (response.status !== 503 || Date.now() > deadline)
      throw new UsageError(`${gateway}/health answered ${response.status}; is this the local stack?`);
    if (!waiting) console.error('Waiting for the local stack to be ready…');
    waiting = true;
    await sleep(500);
  }
}

/** One line that redraws itself on a terminal; plain lines otherwise. */
class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private delivered = 0;
  private done = 0;

  constructor(private readonly total: number) {
    this.draw();
  }

  sent(): void {
    this.delivered++;
    this.draw();
  }

  finished(id: string, ok: boolean, detail: string): void {
    this.done++;
    if (!this.tty)
      console.error(
        `${ok ? 'stored' : 'NOT stored'} ${this.done}/${this.total} ${id}${detail ? ` (${detail})` : ''}`,
      );
    this.draw();
  }

  clear(): void {
    if (this.tty) process.stderr.write('\r\u001b[2K');
  }

  private draw(): void {
    if (!this.tty) return;
    const width = 30;
    const filled = Math.round((this.done / this.total) * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    process.stderr.write(
      `\r\u001b[2K${bar} ${this.done}/${this.total} stored, ${this.delivered}/${this.total} callbacks sent`,
    );
  }
}

async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

async function deliverAndWait(
  gateway: string,
  simulated: SimulatedRecording,
  deadline: number,
  progress: Progress,
): Promise<Outcome> {
  const callback = simulated.callback!;
  // Signed for the URL Vobiz would call (perhaps a tunnel), delivered to the local gateway directly.
  const response = await fetch(`${gateway}/webhooks/vobiz/recording`, {
    method: 'POST',
    headers: callback.headers,
    body: callback.body,
  });
  const answer = await response.text();
  progress.sent();
  if (response.status !== 200 && response.status !== 202) {
    return { simulated, problem: `webhook answered ${response.status}: ${answer.slice(0, 200)}` };
  }
  for (;;) {
    const lookup = await fetch(`${gateway}/recordings/${encodeURIComponent(simulated.recording_id)}`);
    if (lookup.ok) {
      const record = (await lookup.json()) as StoredRecord;
      if (record.status === 'stored') return { simulated, record };
      if (record.status === 'failed')
        return { simulated, record, problem: `failed: ${record.last_error ?? 'unknown'}` };
    } else if (lookup.status !== 404) {
      return { simulated, problem: `lookup answered ${lookup.status}` };
    }
    if (Date.now() > deadline)
      return { simulated, problem: 'not stored before the timeout (the re-drive may still finish it)' };
    await sleep(1000);
  }
}

export async function simulate(options: SimulateOptions): Promise<{ outcomes: Outcome[]; ok: boolean }> {
  const gateway = `http://127.0.0.1:${options.port}`;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const health = await readHealth(gateway, deadline);
  if (!health.simulator_url) {
    throw new UsageError(
      'The local stack is talking to the real Vobiz (VOBIZ_AUTH_ID/VOBIZ_AUTH_TOKEN are set), so there is no simulator to send recordings from.\n' +
        'Restart it without those variables to use the simulator.',
    );
  }
  const request: CreateRecordingsRequest = {
    count: options.count,
    format: options.format,
    size_bytes: options.sizeBytes,
    callback_url: health.webhook_url,
  };
  const created = await fetch(`${health.simulator_url}/_simulator/recordings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  if (created.status !== 201)
    throw new UsageError(`The simulator refused the request (${created.status}): ${await created.text()}`);
  const { recordings } = (await created.json()) as { recordings: SimulatedRecording[] };
  console.log(
    `Simulating ${recordings.length} recording${recordings.length === 1 ? '' : 's'} (${options.format}, ${formatBytes(options.sizeBytes)} each): ` +
      `signed callbacks → ${gateway}/webhooks/vobiz/recording`,
  );

  const progress = new Progress(recordings.length);
  const outcomes = await mapLimit(recordings, 4, async (simulated) => {
    const outcome = await deliverAndWait(gateway, simulated, deadline, progress).catch(
      (error: unknown): Outcome => ({
        simulated,
        problem: error instanceof Error ? error.message : String(error),
      }),
    );
    if (!outcome.problem && outcome.record?.sha256 !== simulated.sha256)
      outcome.problem = 'stored audio differs from the simulated audio (SHA-256)';
    progress.finished(simulated.recording_id, !outcome.problem, outcome.problem ?? '');
    return outcome;
  });
  progress.clear();

  printTable(outcomes);
  const stored = outcomes.filter((o) => !o.problem);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const all = stored.length === outcomes.length;
  console.log(
    `\n${stored.length} of ${outcomes.length} archived in ${seconds} s${all ? "; each stored file's SHA-256 matches the simulated audio" : ''}.`,
  );
  for (const failed of outcomes.filter((o) => o.problem))
    console.log(`  ${failed.simulated.recording_id}: ${failed.problem}`);
  const example = stored[0];
  if (example) {
    const id = example.simulated.recording_id;
    console.log(
      [
        '',
        'Look one up through the lookup API:',
        `  curl -s ${gateway}/recordings/${id}`,
        `  curl -sL -o ${id}.${example.simulated.format} ${gateway}/recordings/${id}/audio`,
        `  curl -s '${gateway}/recordings?call_uuid=${example.simulated.call_uuid}'`,
      ].join('\n'),
    );
  }
  return { outcomes, ok: stored.length === outcomes.length };
}

function printTable(outcomes: Outcome[]): void {
  const rows = outcomes.map((o) => [
    o.simulated.recording_id,
    o.record?.status ?? 'missing',
    o.simulated.format,
    formatBytes(o.record?.size_bytes ?? o.simulated.size_bytes),
    (o.record?.sha256 ?? '').slice(0, 12),
    o.record?.s3_key ?? '',
  ]);
  const header = ['recording_id', 'status', 'format', 'size', 'sha256', 's3_key'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  console.log(`\n${line(header)}`);
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const { ok } = await simulate(options);
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof UsageError ? error.message : error);
    process.exitCode = 1;
  });
}
