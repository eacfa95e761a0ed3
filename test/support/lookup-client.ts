import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { httpEvent, lambdaContext, type HttpEventInput } from './http-events.js';
import { expectDocumentedResult } from './openapi.js';

type Handler = (
  event: ReturnType<typeof httpEvent>,
  context: ReturnType<typeof lambdaContext>,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface LookupResponse {
  status: number;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies, asserted field by field
  body: any;
}

/**
 * Loads the real lookup handler (config is read at import, so the environment is set first) and calls
 * it with API Gateway v2 events; every answer is checked against docs/openapi.yaml.
 */
export async function loadLookupHandler(
  env: Record<string, string>,
): Promise<(input: HttpEventInput) => Promise<LookupResponse>> {
  Object.assign(process.env, env);
  const { handler } = (await import('../../functions/lookup/handler.js')) as unknown as { handler: Handler };
  return async (input) => {
    const event = httpEvent(input);
    const result = await handler(event, lambdaContext());
    expectDocumentedResult(event, result);
    const headers = Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)]));
    return {
      status: result.statusCode ?? 0,
      headers,
      body: result.body ? JSON.parse(result.body) : undefined,
    };
  };
}

/** Follows `next_cursor` to the end and returns every item id in order, with the number of pages. */
export async function listAll(
  call: (input: HttpEventInput) => Promise<LookupResponse>,
  query: Record<string, string>,
  onPage?: (page: { ids: string[]; cursor: string | null }) => Promise<void>,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const response = await call({ path: '/recordings', query: cursor ? { ...query, cursor } : query });
    if (response.status !== 200)
      throw new Error(`listing failed: ${response.status} ${JSON.stringify(response.body)}`);
    const pageIds = (response.body.items as { recording_id: string }[]).map((item) => item.recording_id);
    ids.push(...pageIds);
    cursor = response.body.next_cursor as string | null;
    if (++pages > 5000) throw new Error('listing does not end');
    await onPage?.({ ids: pageIds, cursor });
  } while (cursor);
  return { ids, pages };
}
