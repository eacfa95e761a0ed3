import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Stack traces that name our TypeScript files and lines in a bundled function, paid for only when one
 * is formatted. Node's `--enable-source-maps` reads and decodes every chunk's source map while the
 * module loads, on every cold start (bench/coldstart.ts measures it); this reads a chunk's map the first
 * time a stack through that chunk is formatted (`error.stack`, which the logger and the Lambda runtime
 * read), and keeps it for the life of the container.
 */

const maps = new Map<string, SourceMap | null>();

/** The decoded map next to `file` (`<file>.map`), or null when there is none or it cannot be read. */
function mapOf(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as never);
    } catch {
      map = null;
    }
    maps.set(file, map);
  }
  return map;
}

function pathOf(fileName: string | null): string | undefined {
  if (!fileName) return undefined;
  if (fileName.startsWith('file://')) return fileURLToPath(fileName);
  return fileName.startsWith('/') ? fileName : undefined;
}

interface Entry {
  originalSource?: string;
  originalLine?: number;
  originalColumn?: number;
  name?: string;
}

/** The map's entry for a 1-based line and column, if the map has one. */
function entryAt(map: SourceMap, line: number | null, column: number | null): Entry | undefined {
  if (line === null || column === null) return undefined;
  const entry = map.findEntry(line - 1, column - 1) as Entry;
  return entry.originalSource === undefined ? undefined : entry;
}

/** `functions/webhook/handler.ts` rather than `../../functions/webhook/handler.ts` (sources are relative to the map). */
function readableSource(source: string): string {
  return source.replace(/^(\.\.\/)+/, '').replace(/^file:\/\//, '');
}

/** The frame as V8 writes it by itself (call sites have their own `toString`, which the typings omit). */
function plain(site: NodeJS.CallSite | undefined): string {
  return `    at ${(site as unknown as { toString(): string }).toString()}`;
}

/** One frame as V8 writes it, with the original file, line, column and (when the map knows it) name. */
function formatFrame(trace: readonly NodeJS.CallSite[], index: number): string {
  const site = trace[index]!;
  const path = pathOf(site.getFileName());
  const map = path === undefined ? null : mapOf(path);
  const entry = map ? entryAt(map, site.getLineNumber(), site.getColumnNumber()) : undefined;
  if (!map || !entry) return plain(site);
  // As Node does: the name of the enclosing function, else the name the caller's frame called it by.
  const caller = trace[index + 1];
  const name =
    entryAt(map, site.getEnclosingLineNumber(), site.getEnclosingColumnNumber())?.name ??
    (caller && caller.getFileName() === site.getFileName()
      ? entryAt(map, caller.getLineNumber(), caller.getColumnNumber())?.name
      : undefined);
  const prefix = site.isAsync() ? 'async ' : site.isConstructor() ? 'new ' : '';
  const location = `${readableSource(entry.originalSource!)}:${entry.originalLine! + 1}:${entry.originalColumn! + 1}`;
  return name ? `    at ${prefix}${name} (${location})` : `    at ${prefix}${location}`;
}

function header(error: unknown): string {
  try {
    return error instanceof Error ? Error.prototype.toString.call(error) : String(error);
  } catch {
    return '<error>';
  }
}

/** `Error.prepareStackTrace`: never throws (a failure here would hide the error being reported). */
export function sourceMappedStack(error: unknown, trace: readonly NodeJS.CallSite[]): string {
  const lines = [header(error)];
  for (let i = 0; i < trace.length; i++) {
    try {
      lines.push(formatFrame(trace, i));
    } catch {
      lines.push(plain(trace[i]));
    }
  }
  return lines.join('\n');
}

/**
 * Installs the mapping when this module runs from a bundle with its map beside it (a deployed function)
 * and Node does not map stacks itself (`--enable-source-maps`): under tsx and in tests the traces are
 * already the sources' own. Returns whether it installed.
 */
export function installSourceMappedStacks(moduleUrl: string = import.meta.url): boolean {
  if (process.sourceMapsEnabled) return false;
  if (!moduleUrl.startsWith('file:') || !existsSync(`${fileURLToPath(moduleUrl)}.map`)) return false;
  Error.prepareStackTrace = sourceMappedStack;
  return true;
}
