import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/**
 * Builds the console: one minified ES module and one stylesheet, named by their content hash under
 * `assets/` (cacheable for a year), and `index.html` that loads them (never cached) and carries the
 * small boot script (src/boot.ts) inline. Synchronous, so the
 * CDK app can run it while it synthesizes (a local asset bundling step) and `npm start` at start-up.
 */
export const CONSOLE_DIR = fileURLToPath(new URL('.', import.meta.url));
const ENTRY = join(CONSOLE_DIR, 'src', 'main.ts');
const BOOT = join(CONSOLE_DIR, 'src', 'boot.ts');
const TARGET = ['es2022', 'chrome109', 'firefox115', 'safari16'];

export interface ConsoleFile {
  path: string;
  body: Buffer;
  contentType: string;
  /** Named by content hash: safe to cache forever. */
  immutable: boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';
}

export function buildConsole(): ConsoleFile[] {
  const result = buildSync({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    format: 'esm',
    target: TARGET,
    entryNames: 'assets/app-[hash]',
    outdir: 'out',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets = result.outputFiles.map((file) => ({
    path: file.path.slice(file.path.lastIndexOf('/out/') + '/out/'.length),
    body: Buffer.from(file.contents),
  }));
  const js = assets.find((a) => a.path.endsWith('.js'));
  const css = assets.find((a) => a.path.endsWith('.css'));
  if (!js || !css) throw new Error('console build: expected one .js and one .css output');
  const html = readFileSync(join(CONSOLE_DIR, 'index.html'), 'utf8')
    .replace('%JS%', js.path)
    .replace('%CSS%', css.path)
    .replace('%BOOT%', () => buildBoot());
  return [
    {
      path: 'index.html',
      body: Buffer.from(html),
      contentType: contentTypeOf('index.html'),
      immutable: false,
    },
    ...assets.map((a) => ({ ...a, contentType: contentTypeOf(a.path), immutable: true })),
  ];
}

/** The inline script that starts the first search's API request(s) (src/boot.ts), minified. */
function buildBoot(): string {
  const { outputFiles } = buildSync({
    entryPoints: [BOOT],
    bundle: true,
    minify: true,
    format: 'iife',
    target: TARGET,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const code = outputFiles[0]!.text.trim();
  if (/<\/script|<!--/i.test(code)) throw new Error('console build: the inline script cannot be inlined');
  return code;
}

/**
 * The CSP sources (`'sha256-…'`) of the inline scripts in `html`, which the console's CSP must allow by
 * hash: never `'unsafe-inline'`. Data blocks (`type="application/json"`) are not run and need none.
 */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    (match) => `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`,
  );
}

/**
 * `index.html` with the console's runtime configuration (API URL, region, Cognito ids) in it, as a JSON
 * data block: one request fewer before the first search than a `config.json` next to it. A data block is
 * never executed, so it needs no CSP hash. `<` is escaped so that no value can close the element.
 */
export function withConfig(index: string, config: unknown): string {
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return index.replace('<!--config-->', () => `<script type="application/json" id="config">${json}</script>`);
}

/** Writes a build into `directory` (the CDK asset's output folder). */
export function writeConsole(directory: string, files: readonly ConsoleFile[] = buildConsole()): void {
  for (const file of files) {
    const target = join(directory, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.body);
  }
}
