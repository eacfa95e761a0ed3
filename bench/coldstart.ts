/**
 * Bundle size and cold-init cost of every function the stack deploys, against an empty handler bundled
 * the same way.
 *
 *   npm run bench:coldstart [-- --runs 11]
 *
 * The functions are found in the stack itself (every ArchiveFunction of every stage variant the infra
 * tests synthesize), and each is bundled with the stack's own esbuild options (infra/bundling.ts: ESM,
 * minified, split into the handler file and chunks that only `await import()` reaches, source maps
 * without sources). Each bundle is then imported in fresh `node` processes with the environment Lambda
 * would give it; the time of the `import()` alone is measured (process start-up is excluded), as wall
 * time and as the CPU time of the process (steadier on a shared machine), as deployed (no flags: stack
 * traces are mapped lazily, functions/shared/framework/stack-traces.ts) and with `--enable-source-maps`
 * (the previous setting). Rounds interleave every bundle and both settings, so that the machine's other
 * load falls on all of them alike. It also times what the first formatted stack trace costs once per
 * container (reading and decoding the handler file's map). The last line of output is one JSON object.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { ArchiveFunction } from '../infra/archive-function.js';
import { esbuildOptions, HANDLER_FILE } from '../infra/bundling.js';
import { buildStack } from '../test/infra/build.js';
import { STAGE_VARIANTS } from '../test/infra/stages.js';

const run = promisify(execFile);

/** The webhook answers Vobiz within its 3-second budget; its cold init has a goal of its own. */
const WEBHOOK_GOAL_OVER_BASELINE_MS = 60;

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
const cpu = process.cpuUsage();
const started = performance.now();
const mod = await import(process.argv[1]);
const elapsed = performance.now() - started;
const used = process.cpuUsage(cpu);
if (typeof mod.handler !== 'function') throw new Error('no handler export');
process.stdout.write(JSON.stringify({ wall: elapsed, cpu: (used.user + used.system) / 1000 }));
`;

/** What the first mapped stack trace through the handler file costs: read and decode its map. */
const MAP_PROBE = `
const { readFileSync } = await import('node:fs');
const { SourceMap } = await import('node:module');
const started = performance.now();
new SourceMap(JSON.parse(readFileSync(process.argv[1], 'utf8')));
process.stdout.write(String(performance.now() - started));
`;

/** Every function the stack bundles, by the folder of its handler (functions/<name>/handler.ts). */
function stackFunctions(): Record<string, string> {
  const entries = new Set<string>();
  for (const variant of STAGE_VARIANTS) {
    const { stack } = buildStack(variant.stage, variant.raw);
    for (const construct of stack.node.findAll())
      if (construct instanceof ArchiveFunction) entries.add(construct.entry);
  }
  return Object.fromEntries([...entries].map((entry) => [basename(dirname(entry)), entry]));
}

interface Bundle {
  /** What a cold start loads: the handler file and the chunks it imports statically. */
  kb: number;
  /** Everything in the bundle, chunks only `await import()` reaches included. */
  totalKb: number;
  mapKb: number;
  handlerMap: string;
  topPackagesKb: Record<string, number>;
}

async function bundle(entry: string, outdir: string): Promise<Bundle> {
  // `metafile` only reports what went in; the files themselves are byte-for-byte what the stack builds.
  const { metafile } = await build({ ...esbuildOptions(entry, outdir), metafile: true });
  const loaded = loadedAtStart(metafile, join(outdir, HANDLER_FILE));
  const sizes = async (files: string[]) =>
    (await Promise.all(files.map((file) => stat(file)))).reduce((sum, s) => sum + s.size, 0);
  const all = Object.keys(metafile.outputs);
  return {
    kb: round((await sizes(loaded)) / 1024),
    totalKb: round((await sizes(all.filter((f) => f.endsWith('.mjs')))) / 1024),
    mapKb: round((await sizes(all.filter((f) => f.endsWith('.map')))) / 1024),
    handlerMap: `${join(outdir, HANDLER_FILE)}.map`,
    topPackagesKb: topPackages(metafile, loaded),
  };
}

/** The handler file and, transitively, the chunks it imports statically (metafile paths are relative). */
function loadedAtStart(metafile: Metafile, handlerFile: string): string[] {
  const byAbsolute = new Map(Object.keys(metafile.outputs).map((path) => [join(process.cwd(), path), path]));
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of metafile.outputs[path]?.imports ?? []) {
      if (imported.kind !== 'import-statement' || imported.external) continue;
      visit(byAbsolute.get(join(process.cwd(), imported.path)) ?? imported.path);
    }
  };
  visit(relative(process.cwd(), handlerFile));
  return [...seen];
}

/** The five largest contributors to what a cold start loads, by package (`(project)` for our own code). */
function topPackages(metafile: Metafile, loaded: string[]): Record<string, number> {
  const bytes = new Map<string, number>();
  for (const path of loaded) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[path]?.inputs ?? {})) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match ? match[1]! : '(project)';
      bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return Object.fromEntries(
    [...bytes.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([name, size]) => [name, round(size / 1024)]),
  );
}

type Sample = { wall: number; cpu: number };

async function importOnce(file: string, sourceMaps: boolean): Promise<Sample> {
  const flags = sourceMaps ? ['--enable-source-maps'] : [];
  const { stdout } = await run(
    process.execPath,
    [...flags, '--input-type=module', '-e', IMPORT_PROBE, pathToFileURL(file).href],
    { env: LAMBDA_ENV },
  );
  return JSON.parse(stdout) as Sample;
}

async function mapDecodeMs(map: string): Promise<number> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', MAP_PROBE, map], {
    env: LAMBDA_ENV,
  });
  return Number(stdout);
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.floor(sorted.length / 2)]!);
};

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '11' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

  const functions = stackFunctions();
  console.log(`functions in the stack: ${Object.keys(functions).join(', ')}`);
  const dir = await mkdtemp(join(tmpdir(), 'coldstart-'));
  try {
    const emptyEntry = join(dir, 'empty-handler.ts');
    await writeFile(emptyEntry, 'export const handler = async () => ({ statusCode: 200, body: "" });\n');
    const entries: Record<string, string> = { baseline: emptyEntry, ...functions };
    const bundles: Record<string, Bundle> = {};
    for (const [name, entry] of Object.entries(entries)) bundles[name] = await bundle(entry, join(dir, name));

    const names = Object.keys(entries);
    const samples = new Map(
      names.map((name) => [name, { deployed: [] as Sample[], sourceMaps: [] as Sample[] }]),
    );
    const mapMs = new Map(names.map((name) => [name, [] as number[]]));
    // One warm-up round fills the OS file cache (Lambda's first import reads from local disk too).
    for (let round = -1; round < runs; round++) {
      // Rotate the order so that no bundle always runs right after the same neighbour.
      const order = names.map((_, i) => names[(i + Math.max(round, 0)) % names.length]!);
      for (const name of order) {
        const file = join(dir, name, HANDLER_FILE);
        const deployed = await importOnce(file, false);
        const sourceMaps = await importOnce(file, true);
        const decode = await mapDecodeMs(bundles[name]!.handlerMap);
        if (round < 0) continue;
        samples.get(name)!.deployed.push(deployed);
        samples.get(name)!.sourceMaps.push(sourceMaps);
        mapMs.get(name)!.push(decode);
      }
    }

    const summary = (name: string) => {
      const s = samples.get(name)!;
      return {
        initMs: median(s.deployed.map((x) => x.wall)),
        initCpuMs: median(s.deployed.map((x) => x.cpu)),
        initMsEnableSourceMaps: median(s.sourceMaps.map((x) => x.wall)),
        initCpuMsEnableSourceMaps: median(s.sourceMaps.map((x) => x.cpu)),
        firstStackTraceMapMs: median(mapMs.get(name)!),
      };
    };
    const baseline = { ...bundles.baseline!, ...summary('baseline') };
    console.log(
      `\nbaseline (empty handler): ${baseline.kb} KB, init ${baseline.initMs} ms (CPU ${baseline.initCpuMs} ms)`,
    );
    console.log(
      `${'function'.padEnd(16)}${'loaded KB'.padStart(10)}${'total KB'.padStart(10)}${'maps KB'.padStart(9)} |${'init ms'.padStart(9)}${'CPU ms'.padStart(8)}${'over base'.padStart(11)} | with --enable-source-maps:${'init'.padStart(6)}${'CPU'.padStart(7)} | first trace: map ms`,
    );
    const results: Record<
      string,
      ReturnType<typeof summary> &
        Omit<Bundle, 'handlerMap'> & { initOverBaselineMs: number; initCpuOverBaselineMs: number }
    > = {};
    for (const name of Object.keys(functions)) {
      const { handlerMap: _, ...size } = bundles[name]!;
      const measured = summary(name);
      const result = {
        ...size,
        ...measured,
        initOverBaselineMs: round(measured.initMs - baseline.initMs),
        initCpuOverBaselineMs: round(measured.initCpuMs - baseline.initCpuMs),
      };
      results[name] = result;
      console.log(
        `${name.padEnd(16)}${String(result.kb).padStart(10)}${String(result.totalKb).padStart(10)}${String(result.mapKb).padStart(9)} |${String(result.initMs).padStart(9)}${String(result.initCpuMs).padStart(8)}${`+${result.initOverBaselineMs}`.padStart(11)} | ${''.padStart(26)}${String(result.initMsEnableSourceMaps).padStart(6)}${String(result.initCpuMsEnableSourceMaps).padStart(7)} | ${result.firstStackTraceMapMs}`,
      );
    }
    console.log(
      "(loaded = the handler file and the chunks it imports statically; init = import() in a fresh process, median; over base = init − the empty handler's; first trace = reading and decoding index.mjs.map, once per container when a stack is first formatted)",
    );
    const webhook = results.webhook;
    if (webhook)
      console.log(
        `webhook init over the empty handler: ${webhook.initOverBaselineMs} ms (CPU ${webhook.initCpuOverBaselineMs} ms); goal ≤ ${WEBHOOK_GOAL_OVER_BASELINE_MS} ms`,
      );
    const { handlerMap: _, ...baselineSize } = baseline;
    console.log(
      JSON.stringify({
        node: process.version,
        runs,
        baseline: baselineSize,
        bundles: results,
        webhook_goal_over_baseline_ms: WEBHOOK_GOAL_OVER_BASELINE_MS,
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
