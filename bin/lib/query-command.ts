import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import {
  csvHeader,
  exportColumnsFor,
  exportPage,
  type ExportFormat,
} from '../../functions/shared/domain/export.js';
import { QUERY_USAGE, parseCommandLine, UsageError } from './cli.js';
import { fail, HELP, setUp, targetEnv, type CommandIo, wantsJson } from './command.js';
import { createProgress, formatRows, formatTable, writeJson } from './output.js';
import { joinUrl, regionFromApiUrl, signApiRequest, type Credentials } from './signed-request.js';

const METHODS = ['GET', 'PUT', 'POST', 'DELETE'] as const;
/** The lookup API's largest page (functions/lookup/params.ts): `--all` asks for it unless told otherwise. */
const ALL_PAGE_LIMIT = '100';

interface QueryArgs {
  method: (typeof METHODS)[number];
  path: string;
  all: boolean;
  format: ExportFormat | undefined;
  json: boolean;
  apiUrl: string | undefined;
}

export function parseQueryArgs(argv: readonly string[]) {
  const parsed = parseCommandLine(argv, {
    all: { type: 'boolean', default: false },
    csv: { type: 'boolean', default: false },
    jsonl: { type: 'boolean', default: false },
    'api-url': { type: 'string' },
  });
  const { values, positionals, help, json, target } = parsed;
  if (help) return { help: true as const, target };
  if (positionals.length === 0) throw new UsageError('give the path to ask for, like /recordings');
  if (positionals.length > 2) throw new UsageError(`unexpected argument "${positionals[2]}"`);
  const [method, path] =
    positionals.length === 2 ? [positionals[0]!.toUpperCase(), positionals[1]!] : ['GET', positionals[0]!];
  if (!(METHODS as readonly string[]).includes(method))
    throw new UsageError(`the method must be one of ${METHODS.join(', ')}, got "${method.slice(0, 20)}"`);
  if (!path.startsWith('/'))
    throw new UsageError(`the path must start with /, like /recordings (got "${path.slice(0, 60)}")`);
  if (values.csv && values.jsonl) throw new UsageError('give --csv or --jsonl, not both');
  const format: ExportFormat | undefined = values.csv ? 'csv' : values.jsonl ? 'jsonl' : undefined;
  if (format && json) throw new UsageError(`--json and --${format} are two outputs: give one`);
  if ((values.all || format) && method !== 'GET')
    throw new UsageError('--all, --csv and --jsonl go with GET listings');
  const apiUrl = values['api-url'] as string | undefined;
  if (apiUrl !== undefined && !/^https?:\/\/[^\s/]+/.test(apiUrl))
    throw new UsageError(`--api-url must be an http(s) URL, got "${apiUrl.slice(0, 60)}"`);
  const args: QueryArgs = {
    method: method as QueryArgs['method'],
    path,
    all: values.all === true,
    format,
    json,
    apiUrl,
  };
  return { help: false as const, target, args };
}

interface Page {
  status: number;
  statusText: string;
  location: string | null;
  body: unknown;
  text: string;
}

/**
 * `vobiz-archive query`: one request to the archive's API (or every page with `--all`), SigV4-signed
 * for a stage, unsigned for the local stack. Exit code 0 on a 2xx/3xx answer, 1 otherwise, 2 usage.
 */
export async function runQueryCommand(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  io: CommandIo,
  fetchImpl: typeof fetch = fetch,
): Promise<number> {
  const setup = await setUp(
    'query',
    QUERY_USAGE,
    io,
    async () => {
      const parsed = parseQueryArgs(argv);
      if (parsed.help) return HELP;
      const { args, target } = parsed;
      const { env: resolved } = await targetEnv(
        target,
        args.apiUrl ? { ...env, ARCHIVE_API_URL: args.apiUrl } : env,
        ['ApiUrl'],
        io,
      );
      const apiUrl = resolved.ARCHIVE_API_URL;
      if (!apiUrl)
        throw new UsageError('no API URL: give --stage <name>, --local, --api-url, or set ARCHIVE_API_URL');
      const local = target.kind === 'local';
      const region = local
        ? undefined
        : (target.region ?? regionFromApiUrl(apiUrl) ?? resolved.AWS_REGION ?? resolved.AWS_DEFAULT_REGION);
      if (!local && !region) throw new UsageError('cannot tell the region from the API URL: pass --region');
      return { args, apiUrl, region, profile: resolved.AWS_PROFILE };
    },
    { json: wantsJson(argv) },
  );
  if (!setup.ok) return setup.exitCode;
  const { args, apiUrl, region, profile } = setup.value;

  let credentials: Credentials | undefined;
  const request = async (url: string): Promise<Page> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    let signed: { url: string; method: string; headers: Record<string, string> } = {
      url,
      method: args.method,
      headers,
    };
    if (region) {
      credentials ??= await fromNodeProviderChain(profile ? { profile } : {})();
      signed = await signApiRequest({ url, method: args.method, region, credentials });
    }
    const response = await fetchImpl(signed.url, {
      method: signed.method,
      headers: signed.headers,
      redirect: 'manual',
      signal: io.signal,
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return {
      status: response.status,
      statusText: response.statusText,
      location: response.headers.get('location'),
      body,
      text,
    };
  };

  try {
    const first = joinUrl(apiUrl, args.path);
    if (!args.all && !args.format) return printOne(await request(first), args, io);
    return await printListing(first, request, args, io);
  } catch (error) {
    if (io.signal?.aborted) {
      io.stderr.write('query: interrupted\n');
      return 1;
    }
    return fail('query', io, error, wantsJson(argv));
  }
}

/** A failed answer: its status and the API's message on stderr; exit code 1. */
function refused(page: Page, io: CommandIo): number {
  const error = (page.body as { error?: { code?: string; message?: string } } | undefined)?.error;
  io.stderr.write(
    `query: HTTP ${page.status}${error?.message ? `: ${error.message}` : page.text ? `: ${page.text.slice(0, 300)}` : ''}\n`,
  );
  return 1;
}

function printOne(page: Page, args: QueryArgs, io: CommandIo): number {
  if (page.status >= 300 && page.status < 400 && page.location) {
    // The audio link alone on stdout, so it can be piped (curl -o rec.mp3 "$(vobiz-archive query …)").
    if (args.json) writeJson(io.stdout, { status: page.status, location: page.location });
    else io.stdout.write(`${page.location}\n`);
    return 0;
  }
  if (page.status >= 400) {
    if (args.json && page.body !== undefined) writeJson(io.stdout, page.body);
    return refused(page, io);
  }
  if (args.json) {
    if (page.body !== undefined) writeJson(io.stdout, page.body);
    else io.stdout.write(page.text ? `${page.text}\n` : '');
    return 0;
  }
  if (page.body === undefined) {
    io.stdout.write(page.text ? `${page.text}\n` : `HTTP ${page.status}\n`);
    return 0;
  }
  const listing = asListing(page.body);
  if (listing) {
    io.stdout.write(humanListing(listing.items, args.path));
    if (listing.next_cursor)
      io.stderr.write(`more: add --all for every page, or ask again with cursor=${listing.next_cursor}\n`);
    return 0;
  }
  io.stdout.write(humanObject(page.body as Record<string, unknown>));
  return 0;
}

async function printListing(
  first: string,
  request: (url: string) => Promise<Page>,
  args: QueryArgs,
  io: CommandIo,
): Promise<number> {
  const columns = exportColumnsFor(args.path);
  const progress = createProgress(io.stderr, { everyLines: 1 });
  const collected: Record<string, unknown>[] = [];
  let url: string | undefined = pageUrl(first, undefined, args.all);
  let pages = 0;
  if (args.format === 'csv') io.stdout.write(csvHeader(columns));
  try {
    while (url) {
      if (io.signal?.aborted) throw io.signal.reason;
      const page = await request(url);
      if (page.status >= 400) return refused(page, io);
      const listing = asListing(page.body);
      if (!listing) {
        io.stderr.write(
          `query: ${args.path} is not a listing (no items): --all, --csv and --jsonl need one\n`,
        );
        return 1;
      }
      pages++;
      if (args.format) io.stdout.write(exportPage(listing.items, args.format, columns));
      else collected.push(...listing.items);
      const count = collected.length || undefined;
      progress.update(
        0,
        `page ${pages}: ${args.format ? `${listing.items.length} items written` : `${count ?? 0} items`}`,
      );
      url = args.all && listing.next_cursor ? pageUrl(first, listing.next_cursor, true) : undefined;
      if (!args.all && listing.next_cursor)
        io.stderr.write(`more: add --all for every page, or ask again with cursor=${listing.next_cursor}\n`);
    }
  } finally {
    progress.done();
  }
  if (args.json) writeJson(io.stdout, { items: collected, next_cursor: null });
  else if (!args.format) io.stdout.write(humanListing(collected, args.path));
  io.stderr.write(`${pages} page${pages === 1 ? '' : 's'}\n`);
  return 0;
}

/** The URL of a page: the given one with `cursor` (and, for `--all` without a limit, the largest page). */
function pageUrl(first: string, cursor: string | undefined, all: boolean): string {
  const url = new URL(first);
  if (cursor !== undefined) url.searchParams.set('cursor', cursor);
  if (all && !url.searchParams.has('limit')) url.searchParams.set('limit', ALL_PAGE_LIMIT);
  return url.toString();
}

function asListing(
  body: unknown,
): { items: Record<string, unknown>[]; next_cursor: string | null } | undefined {
  const value = body as { items?: unknown; next_cursor?: unknown } | undefined;
  if (!value || !Array.isArray(value.items)) return undefined;
  return {
    items: value.items as Record<string, unknown>[],
    next_cursor: typeof value.next_cursor === 'string' ? value.next_cursor : null,
  };
}

const text = (value: unknown): string =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);

/** `2026-01-02T03:04:05.678Z` → `2026-01-02 03:04:05Z`: a table column people read. */
const shortTime = (value: unknown): string =>
  typeof value === 'string' ? value.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : text(value);

function size(bytes: unknown): string {
  if (typeof bytes !== 'number') return '';
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

function humanListing(items: readonly Record<string, unknown>[], path: string): string {
  const audit = exportColumnsFor(path) !== exportColumnsFor('/recordings');
  const noun = audit ? 'audit entries' : 'recordings';
  if (items.length === 0) return `no ${noun}\n`;
  const table = audit
    ? formatTable(
        ['time', 'action', 'recording_id', 'outcome', 'actor', 'detail'],
        items.map((e) => [
          shortTime(e.time),
          text(e.action),
          text(e.recording_id),
          text(e.outcome),
          text(e.actor).slice(0, 60),
          text(e.detail).slice(0, 80),
        ]),
      )
    : formatTable(
        ['recording_id', 'status', 'add_time', 'from', 'to', 'duration', 'size', 'hold'],
        items.map((r) => [
          text(r.recording_id),
          text(r.status),
          shortTime(r.add_time),
          text(r.from_number),
          text(r.to_number),
          typeof r.recording_duration_ms === 'number'
            ? `${Math.round(r.recording_duration_ms / 1000)} s`
            : '',
          size(r.size_bytes),
          r.legal_hold === true ? 'held' : '',
        ]),
      );
  return `${table}${items.length} ${items.length === 1 ? noun.replace(/ies$/, 'y').replace(/s$/, '') : noun}\n`;
}

function humanObject(body: Record<string, unknown>): string {
  const rows = Object.entries(body).map(([name, value]) => [name, text(value)] as const);
  return rows.length === 0 ? '{}\n' : formatRows(rows);
}
