import type { BuildOptions } from 'esbuild';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * The one description of how a function is bundled. The stack (NodejsFunction) and the cold-start
 * bench (esbuild directly) both derive their options from it, so the bench measures what we deploy.
 */
export const BUNDLE = {
  format: 'esm',
  target: 'node22',
  platform: 'node',
  minify: true,
  sourcemap: true,
  // Stack traces need the mappings, not the sources: without them the map is ~4x smaller, and
  // `--enable-source-maps` parses it at import time (measured by bench/coldstart.ts).
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // Bundled CommonJS dependencies call `require`; an ESM bundle has none unless we create one.
  banner:
    "import { createRequire as __archiveCreateRequire } from 'node:module'; const require = __archiveCreateRequire(import.meta.url);",
  // The AWS SDK is bundled (not taken from the runtime) so the deployed version is the tested one.
  external: [] as string[],
} as const;

export function nodejsBundling(): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: BUNDLE.target,
    minify: BUNDLE.minify,
    sourceMap: BUNDLE.sourcemap,
    sourcesContent: BUNDLE.sourcesContent,
    mainFields: [...BUNDLE.mainFields],
    banner: BUNDLE.banner,
    externalModules: [...BUNDLE.external],
  };
}

export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: BUNDLE.format,
    target: BUNDLE.target,
    platform: BUNDLE.platform,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourcemap,
    sourcesContent: BUNDLE.sourcesContent,
    mainFields: [...BUNDLE.mainFields],
    banner: { js: BUNDLE.banner },
    external: [...BUNDLE.external],
    logLevel: 'error',
  };
}
