import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, type ILocalBundling } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { buildSync, type BuildOptions } from 'esbuild';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The file Lambda loads (`index.handler`); the rest of the bundle is in chunks beside it. */
export const HANDLER_FILE = 'index.mjs';

/**
 * The one description of how a function is bundled: the stack (functionCode) and the cold-start bench
 * (esbuild directly) both build with `esbuildOptions`, so the bench measures exactly what we deploy.
 */
export function esbuildOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    target: 'node22',
    platform: 'node',
    // What is only ever reached through `await import()` (the SDK's credential providers other than the
    // environment's, their STS/SSO clients) goes into chunks a cold start does not load: in Lambda the
    // credentials are in the environment. Less code to compile at every cold start (bench/coldstart.ts).
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    minify: true,
    sourcemap: true,
    // Stack traces need the mappings, not the sources: without them the maps are ~4x smaller. They are
    // read only when a stack trace is formatted (functions/shared/framework/stack-traces.ts).
    sourcesContent: false,
    mainFields: ['module', 'main'],
    // Bundled CommonJS dependencies call `require`; an ESM bundle has none unless we create one.
    banner: {
      js: "import { createRequire as __archiveCreateRequire } from 'node:module'; const require = __archiveCreateRequire(import.meta.url);",
    },
    // The AWS SDK is bundled (not taken from the runtime) so the deployed version is the tested one.
    external: [],
    logLevel: 'error',
  };
}

/**
 * Bundles in this process, never in Docker. Its `entry` is a property so that it is part of the options
 * the CDK keys its staging cache by: every function's asset has the same source path, and without it the
 * first function's bundle would be reused for all.
 */
class EsbuildBundling implements ILocalBundling {
  constructor(readonly entry: string) {}

  tryBundle(outputDir: string): boolean {
    buildSync(esbuildOptions(this.entry, outputDir));
    return true;
  }
}

/**
 * A function's code: `entry` bundled by esbuild, hashed by its output so that a change anywhere in what
 * it imports deploys it again.
 */
export function functionCode(entry: string): Code {
  return Code.fromAsset(PROJECT_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always succeeds or fails the synth with esbuild's error.
      image: DockerImage.fromRegistry('dummy'),
      local: new EsbuildBundling(entry),
    },
  });
}
