import { describe, expect, it } from 'vitest';
import { ROUTES as GATEWAY_ROUTES } from '../../local/gateway.js';
import { LOCAL_API_ROUTES } from '../../local/local-api.js';
import {
  loadSpec,
  OpenApiValidator,
  routeMismatches,
  specRoutes,
  type RouteKey,
} from '../support/openapi.js';
import { buildStack } from './build.js';

/**
 * docs/openapi.yaml documents every route the stack and the local gateway serve, and nothing else: a
 * route added to infra/ or local/ without its description (or a described one removed) fails here.
 */

const spec = loadSpec();
const LOCAL_SERVER = 'http://127.0.0.1:3000';

/** The paths only the local stack serves: documented with the local server alone. */
const localOnly = (path: string) => {
  const servers = (spec.paths[path] as { servers?: { url: string }[] }).servers;
  return servers !== undefined && servers.every((server) => server.url === LOCAL_SERVER);
};

function split(routes: Set<RouteKey>): { deployed: Set<RouteKey>; local: Set<RouteKey> } {
  const deployed = new Set<RouteKey>();
  const local = new Set<RouteKey>();
  for (const route of routes) (localOnly(route.split(' ')[1]!) ? local : deployed).add(route);
  return { deployed, local };
}

describe('docs/openapi.yaml', () => {
  const documented = split(specRoutes(spec));

  it('documents every route of the synthesized stack, and no route the stack lacks', () => {
    const template = buildStack('prod').template;
    const served = new Set(
      Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
        (route) => (route.Properties as { RouteKey: string }).RouteKey as RouteKey,
      ),
    );
    expect(served.size).toBeGreaterThan(10);
    expect(routeMismatches(documented.deployed, served)).toEqual([]);
  });

  it("documents every route of the local gateway, the local stack's own included", () => {
    const served = new Set<RouteKey>(
      GATEWAY_ROUTES.map((route) => `${route.method} ${route.template}` as const),
    );
    expect(routeMismatches(documented.deployed, served)).toEqual([]);
    const own = new Set<RouteKey>(
      Object.values(LOCAL_API_ROUTES).flatMap((route) =>
        route.methods.map((method) => `${method} ${route.path}` as const),
      ),
    );
    expect(routeMismatches(documented.local, own)).toEqual([]);
  });

  it('finds a served route the spec lacks, and a documented one nothing serves', () => {
    const served = new Set<RouteKey>(['GET /recordings', 'POST /recordings/{recording_id}/retry']);
    expect(routeMismatches(new Set<RouteKey>(['GET /recordings', 'GET /audit']), served)).toEqual([
      'POST /recordings/{recording_id}/retry is served but not in docs/openapi.yaml',
      'GET /audit is in docs/openapi.yaml but nothing serves it',
    ]);
    // An ANY route serves the documented methods of its path that have no route of their own.
    expect(
      routeMismatches(
        new Set<RouteKey>(['GET /health', 'ANY /audit', 'DELETE /audit']),
        new Set<RouteKey>(['GET /health', 'ANY /audit']),
      ),
    ).toEqual([]);
  });

  it('compiles: every answer schema resolves and is valid JSON Schema 2020-12 (Ajv, strict)', () => {
    expect(new OpenApiValidator(spec).compileAll()).toBeGreaterThan(50);
  });

  it('names an operation id once, and gives every IAM route the SigV4 scheme', () => {
    const ids: string[] = [];
    for (const [path, item] of Object.entries(spec.paths as Record<string, Record<string, unknown>>)) {
      for (const [method, operation] of Object.entries(item)) {
        const op = operation as { operationId?: string; security?: unknown[] } | undefined;
        if (!op || typeof op !== 'object' || !('responses' in op)) continue;
        if (op.operationId) ids.push(op.operationId);
        const iam = !path.startsWith('/webhooks/') && !localOnly(path);
        // Undeclared security means the document's default: SigV4.
        if (iam) expect(op.security ?? spec.security, `${method} ${path}`).toEqual([{ sigv4: [] }]);
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
