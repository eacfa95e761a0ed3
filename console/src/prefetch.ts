import type { ConsoleConfig } from './config.js';
import { apiQueries, checkQuery, PAGE_SIZE, queryFromUrl } from './search.js';

/** URL → the response of a request already under way. */
export type Prefetched = Map<string, Promise<Response>>;

/**
 * Starts the API request(s) for the first page of the search in the address bar, exactly as the app
 * will ask for them (same URLs), so that they run while the browser loads and starts the app. Only
 * unsigned requests (the local stack): a signed-in console signs with credentials only the app holds.
 * Nothing for a recording's page (`?id=`), another view (`?view=audit`) or a search the app would refuse.
 */
export function prefetchFirstPage(
  config: ConsoleConfig,
  location: { search: string; origin: string },
  doFetch: typeof fetch = fetch,
): Prefetched | undefined {
  const params = new URLSearchParams(location.search);
  const query = queryFromUrl(params);
  if (config.auth || params.has('id') || params.has('view') || checkQuery(query).length > 0) return undefined;
  const prefetched: Prefetched = new Map();
  for (const api of apiQueries(query)) {
    const search = new URLSearchParams({ ...api, limit: String(PAGE_SIZE) }).toString();
    const url = `${config.apiUrl || location.origin}/recordings?${search}`;
    const response = doFetch(url, { headers: { accept: 'application/json' }, credentials: 'omit' });
    response.catch(() => undefined); // the app reports a failure when it takes the response
    prefetched.set(url, response);
  }
  return prefetched;
}
