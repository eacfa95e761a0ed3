import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { GatewayResponse } from './gateway.js';

/**
 * The routes `npm start` answers itself, before the stack's routes (local/gateway.ts): documented in
 * docs/openapi.yaml as the local stack's, and never served by a deployed stage.
 */
export const LOCAL_API_ROUTES = {
  health: { path: '/health', methods: ['GET', 'HEAD'] },
  vobizHealth: { path: '/health/vobiz', methods: ['GET'] },
  openapi: { path: '/openapi.json', methods: ['GET'] },
} as const;

export type LocalApiRoute = keyof typeof LOCAL_API_ROUTES;

export function localApiRoute(method: string, path: string): LocalApiRoute | undefined {
  const upper = method.toUpperCase();
  return (Object.keys(LOCAL_API_ROUTES) as LocalApiRoute[]).find(
    (name) =>
      LOCAL_API_ROUTES[name].path === path &&
      (LOCAL_API_ROUTES[name].methods as readonly string[]).includes(upper),
  );
}

export const OPENAPI_FILE = new URL('../docs/openapi.yaml', import.meta.url);
const LOCAL_SERVER = 'http://127.0.0.1:3000';

interface Server {
  url: string;
  description?: string;
}

/**
 * docs/openapi.yaml as JSON, with this stack's own address in place of the default local one, first in
 * `servers`, so that a tool pointed at `/openapi.json` calls this stack.
 */
export function openApiDocument(gatewayUrl: string): GatewayResponse {
  const spec = parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
    servers?: Server[];
    paths: Record<string, { servers?: Server[] }>;
  };
  const here = (servers: Server[] | undefined) =>
    servers?.map((server) => (server.url === LOCAL_SERVER ? { ...server, url: gatewayUrl } : server));
  const local = here(spec.servers)?.filter((server) => server.url === gatewayUrl) ?? [];
  const others = spec.servers?.filter((server) => server.url !== LOCAL_SERVER) ?? [];
  const document = {
    ...spec,
    servers: [...local, ...others],
    paths: Object.fromEntries(
      Object.entries(spec.paths).map(([path, item]) => [
        path,
        item.servers ? { ...item, servers: here(item.servers) } : item,
      ]),
    ),
  };
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
    body: Buffer.from(JSON.stringify(document)),
  };
}
