import { inlineScriptHashes } from '../../console/build.js';
import { contentSecurityPolicy } from '../../console/csp.js';
import { securityHeaders } from '../../local/console-files.js';
import type { GatewayResponse } from '../../local/gateway.js';

/**
 * The floor page of bench:console, served by the bench's gateway only (never by the product): the least
 * any web page showing a search's first page does. One hand-written HTML document whose inline script
 * starts the same API request(s) as the console while the parser reads on, merges them newest first,
 * and puts the same 25 rows (time linking to the recording, from, to, duration, format, size, status)
 * into a table. `?q=<API query>` once per request (two for a number in either direction). It marks
 * `floor:rendered` when the rows are in the DOM. Same security headers as the console, its script
 * allowed by hash.
 */
export const FLOOR_PATH = '/floor/';

const SCRIPT = `
(async () => {
  const queries = new URLSearchParams(location.search).getAll('q');
  const pages = await Promise.all(
    queries.map((q) =>
      fetch('/recordings?' + q, { headers: { accept: 'application/json' } }).then((r) => r.json()),
    ),
  );
  const seen = new Set();
  const items = pages
    .flatMap((page) => page.items)
    .sort((a, b) => b.add_time_ms - a.add_time_ms || (a.recording_id < b.recording_id ? 1 : -1))
    .filter((r) => !seen.has(r.recording_id) && seen.add(r.recording_id))
    .slice(0, 25);
  const esc = (v) =>
    v === null || v === undefined || v === '' ? '—' : String(v).replace(/[&<>"]/g, (c) => '&#' + c.charCodeAt(0) + ';');
  const rows = items
    .map(
      (r) =>
        '<tr><td><a href="?id=' + encodeURIComponent(r.recording_id) + '">' + esc(new Date(r.add_time_ms).toLocaleString()) +
        '</a></td><td>' + esc(r.from_number) + '</td><td>' + esc(r.to_number) +
        '</td><td>' + esc(Math.round((r.recording_duration_ms ?? 0) / 1000)) + ' s</td><td>' + esc(r.recording_format) +
        '</td><td>' + esc(r.size_bytes) + '</td><td>' + esc(r.status) + '</td></tr>',
    )
    .join('');
  const render = () => {
    document.getElementById('rows').innerHTML = rows;
    performance.mark('floor:rendered');
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', render);
  else render();
})();
`;

const HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Recordings</title>
    <link rel="icon" href="data:," />
    <script>${SCRIPT}</script>
  </head>
  <body>
    <table>
      <thead><tr><th>Time</th><th>From</th><th>To</th><th>Duration</th><th>Format</th><th>Size</th><th>Status</th></tr></thead>
      <tbody id="rows"></tbody>
    </table>
  </body>
</html>
`;

const HEADERS = {
  ...securityHeaders(contentSecurityPolicy({ connect: [], media: [], scripts: inlineScriptHashes(HTML) })),
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
};

/** The gateway's `local` hook for the floor page; undefined for every other path. */
export function floorPage(method: string, rawPath: string): GatewayResponse | undefined {
  if (rawPath !== FLOOR_PATH || method !== 'GET') return undefined;
  return { statusCode: 200, headers: HEADERS, body: Buffer.from(HTML) };
}

/** The floor page's URL for these API queries (without `limit`'s absence changing anything). */
export function floorPageUrl(origin: string, apiQueries: readonly string[]): string {
  return `${origin}${FLOOR_PATH}?${apiQueries.map((q) => `q=${encodeURIComponent(q)}`).join('&')}`;
}
