/**
 * Bundle size and cold-init cost of each Lambda function, against an empty handler bundled the same way.
 *
 *   npm run bench:coldstart [-- --runs 9]
 *
 * Each function is bundled with the stack's own esbuild options (infra/bundling.ts), then imported in
 * fresh `node` processes with the environment Lambda would give it; the time of the `import()` alone is
 * measured (process start-up is excluded), with and without `--enable-source-maps` (the deployed
 * setting). The last line of output is one JSON object.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions } from '../infra/bundling.js';
import { ARCHIVE_WORKER_ENTRY } from '../infra/archive-worker.js';
import { LOOKUP_ENTRY } from '../infra/lookup-api.js';
import { REDRIVE_ENTRY } from '../infra/redrive.js';
import { WEBHOOK_ENTRY } from '../infra/webhook.js';

const run = promisify(execFile);

const FUNCTIONS: Record<string, string> = {
  webhook: WEBHOOK_ENTRY,
  'archive-worker': ARCHIVE_WORKER_ENTRY,
  lookup: LOOKUP_ENTRY,
  redrive: REDRIVE_ENTRY,
};

/** What Lambda sets, plus the stack's variables; nothing here is contacted during import. */
const LAMBDA_ENV = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
  TABLE_NAME: 'bench-table',
  BUCKET_NAME: 'bench-bucket',
  VOBIZ_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:vobiz-AbCdEf',
  CURSOR_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor-AbCdEf',
  POWERTOOLS_SERVICE_NAME: 'vobiz-recording-archive',
  POWERTOOLS_METRICS_NAMESPACE: 'VobizRecordingArchive',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

const IMPORT_PROBE = `
const started = performance.now();
const mod = await import(process.argv[1]);
const elapsed = performance.now() - started;
if (typeof mod.handler !== 'function') throw new Error('no handler export');
process.stdout.write(String(elapsed));
`;

interface Measured {
  kb: number;
  mapKb: number;
  topPackagesKb: Record<string, number>;
  initMs: number;
  initMsNoSourceMaps: number;
}

async function bundle(
  entry: string,
  outfile: string,
): Promise<{ kb: number; mapKb: number; topPackagesKb: Record<string, number> }> {
  // `metafile` only reports what went in; the bundle itself is byte-for-byte what the stack builds.
  const result = await build({ ...esbuildOptions(entry, outfile), metafile: true });
  const [code, map] = await Promise.all([stat(outfile), stat(`${outfile}.map`)]);
  return {
    kb: round(code.size / 1024),
    mapKb: round(map.size / 1024),
    topPackagesKb: topPackages(result.metafile),
  };
}

/** The five largest contributors to the bundle, by package (`(project)` for our own code). */
function topPackages(metafile: Metafile): Record<string, number> {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const name = match ? match[1]! : '(project)';
      bytes.set(name, (bytes.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return Object.fromEntries(
    [...bytes.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([name, size]) => [name, round(size / 1024)]),
  );
}

async function importMs(file: string, sourceMaps: boolean): Promise<number> {
  const flags = sourceMaps ? ['--enable-source-maps'] : [];
  const { stdout } = await run(
    process.execPath,
    [...flags, '--input-type=module', '-e', IMPORT_PROBE, pathToFileURL(file).href],
    { env: LAMBDA_ENV },
  );
  return Number(stdout);
}

async function medianImportMs(file: string, runs: number, sourceMaps: boolean): Promise<number> {
  await importMs(file, sourceMaps); // warm the OS file cache; Lambda's first import reads from local disk too
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await importMs(file, sourceMaps));
  samples.sort((a, b) => a - b);
  return round(samples[Math.floor(samples.length / 2)]!);
}

async function measure(entry: string, dir: string, name: string, runs: number): Promise<Measured> {
  const outfile = join(dir, name, 'index.mjs');
  const size = await bundle(entry, outfile);
  return {
    ...size,
    initMs: await medianImportMs(outfile, runs, true),
    initMsNoSourceMaps: await medianImportMs(outfile, runs, false),
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

  const dir = await mkdtemp(join(tmpdir(), 'coldstart-'));
  try {
    const emptyEntry = join(dir, 'empty-handler.ts');
    await writeFile(emptyEntry, 'export const handler = async () => ({ statusCode: 200, body: "" });\n');
    const baseline = await measure(emptyEntry, dir, 'baseline', runs);
    console.log(`baseline (empty handler): ${baseline.kb} KB, init ${baseline.initMs} ms`);

    const bundles: Record<string, Measured & { initOverBaselineMs: number }> = {};
    for (const [name, entry] of Object.entries(FUNCTIONS)) {
      const measured = await measure(entry, dir, name, runs);
      bundles[name] = { ...measured, initOverBaselineMs: round(measured.initMs - baseline.initMs) };
      console.log(
        `${name}: ${measured.kb} KB (+${measured.mapKb} KB map), init ${measured.initMs} ms ` +
          `(${measured.initMsNoSourceMaps} ms without --enable-source-maps)`,
      );
    }
    console.log(JSON.stringify({ node: process.version, runs, baseline, bundles }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
