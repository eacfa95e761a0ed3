import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { parse } from 'yaml';

/**
 * Every HTTP answer the integration tests see is checked against docs/openapi.yaml: its path and method
 * are documented (or it is the 404 of an undocumented path), its status is documented for that
 * operation, its required headers are there, and its body validates against the documented schema
 * (JSON Schema 2020-12, with Ajv). A mismatch fails the test that made the request.
 */

export const OPENAPI_PATH = new URL('../../docs/openapi.yaml', import.meta.url);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed YAML document, walked by key
type Json = any;

const SPEC_ID = 'https://vobiz-recording-archive.local/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export const ANY_METHOD = 'x-amazon-apigateway-any-method';

export function loadSpec(): Json {
  return parse(readFileSync(OPENAPI_PATH, 'utf8'));
}

export interface DocumentedResponse {
  method: string;
  /** The raw path, without the query string. */
  path: string;
  status: number;
  headers: Record<string, string | undefined>;
  /** The body as sent (undefined or empty when there is none). */
  body: string | undefined;
}

function pointer(...segments: string[]): string {
  return `#/${segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}

/** The spec path whose template matches `path` (one segment per `{name}`, as API Gateway matches them). */
export function matchPath(spec: Json, path: string): string | undefined {
  const segments = path.split('/');
  const templates = Object.keys(spec.paths as object);
  const literal = templates.find((template) => template === path);
  if (literal) return literal;
  return templates.find((template) => {
    const parts = template.split('/');
    return (
      parts.length === segments.length &&
      parts.every((part, i) => (/^\{\w+\}$/.test(part) ? segments[i] !== '' : part === segments[i]))
    );
  });
}

export class OpenApiValidator {
  readonly spec: Json;
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(spec: Json = loadSpec()) {
    this.spec = spec;
    this.ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormatsModule.default(this.ajv);
    // Only the schemas are JSON Schema; the rest of the document is reached through `$ref` pointers.
    this.ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'components', 'security', 'tags']);
    this.ajv.addSchema({ ...spec, $id: SPEC_ID });
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${SPEC_ID}${ref}` });
      this.compiled.set(ref, validate);
    }
    return validate;
  }

  /**
   * Compiles every schema of every documented answer (bodies and headers), so that a broken `$ref` or an
   * invalid schema fails here rather than in the test that first meets it. Returns how many it compiled.
   */
  compileAll(): number {
    let count = 0;
    for (const [path, item] of Object.entries(this.spec.paths as Record<string, Json>)) {
      for (const [method, operation] of Object.entries(item as Record<string, Json>)) {
        if (!operation?.responses) continue;
        for (const status of Object.keys(operation.responses as object)) {
          const { ref, node } = this.follow(pointer('paths', path, method, 'responses', status));
          for (const mediaType of Object.keys((node.content ?? {}) as object)) {
            this.validator(`${ref}/content/${mediaType.replace(/\//g, '~1')}/schema`);
            count++;
          }
          for (const name of Object.keys((node.headers ?? {}) as object)) {
            const header = this.follow(`${ref}/headers/${name}`);
            this.validator(`${header.ref}/schema`);
            count++;
          }
        }
      }
    }
    return count;
  }

  /** The node a local `#/…` pointer names, without following a `$ref` found there. */
  private nodeAt(ref: string): Json {
    let node: unknown = this.spec;
    for (const part of ref.replace(/^#\//, '').split('/'))
      node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return node;
  }

  /** Follows `$ref`s from a pointer: the final pointer and its node. */
  private follow(ref: string): { ref: string; node: Json } {
    let node = this.nodeAt(ref);
    for (let hops = 0; typeof node?.$ref === 'string'; hops++) {
      if (hops > 10) throw new Error(`$ref loop at ${ref}`);
      ref = node.$ref as string;
      node = this.nodeAt(ref);
    }
    return { ref, node };
  }

  /** What is wrong with a response, or an empty list. */
  problems(response: DocumentedResponse): string[] {
    const method = response.method.toUpperCase();
    const where = `${method} ${response.path} → ${response.status}`;
    const template = matchPath(this.spec, response.path);
    if (!template) {
      // No route serves the path: the gateway's 404 (or a catch-all handler's, as API Gateway never sends it).
      const problems = response.status === 404 ? [] : [`${where}: a path no route serves must answer 404`];
      return [...problems, ...this.check(where, response, pointer('components', 'responses', 'NotFound'))];
    }
    const item = this.spec.paths[template];
    const key =
      (METHODS as readonly string[]).includes(method.toLowerCase()) && item[method.toLowerCase()]
        ? method.toLowerCase()
        : ANY_METHOD;
    const operation = item[key];
    if (!operation) return [`${where}: ${template} documents no ${method} (nor any method)`];
    const status = String(response.status);
    const responseKey = operation.responses[status] ? status : `${status[0]}XX`;
    if (!operation.responses[responseKey]) {
      const which = key === ANY_METHOD ? 'the other methods of' : method;
      return [`${where}: status ${status} is not documented for ${which} ${template}`];
    }
    return this.check(where, response, pointer('paths', template, key, 'responses', responseKey));
  }

  private check(where: string, response: DocumentedResponse, at: string): string[] {
    const problems: string[] = [];
    const { ref, node: documented } = this.follow(at);
    const headers = Object.fromEntries(
      Object.entries(response.headers).map(([name, value]) => [name.toLowerCase(), value]),
    );
    for (const name of Object.keys((documented.headers ?? {}) as Record<string, Json>)) {
      const definition = this.follow(`${ref}/headers/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`);
      const value = headers[name.toLowerCase()];
      if (value === undefined) {
        if (definition.node.required) problems.push(`${where}: header ${name} is missing`);
        continue;
      }
      const validate = this.validator(`${definition.ref}/schema`);
      const shown = value;
      if (!validate(value))
        problems.push(`${where}: header ${name} "${shown}": ${describeErrors(validate.errors)}`);
    }
    const body = response.body ?? '';
    const content = documented.content as Record<string, Json> | undefined;
    if (response.method.toUpperCase() === 'HEAD') return problems;
    if (!content) {
      if (body.length > 0) problems.push(`${where}: no body is documented, got ${body.length} bytes`);
      return problems;
    }
    const mediaType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!content[mediaType]) {
      const documentedTypes = Object.keys(content).join(', ');
      return [...problems, `${where}: content type "${mediaType}" is not documented (${documentedTypes})`];
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return [...problems, `${where}: the body is not JSON: ${body.slice(0, 200)}`];
    }
    const validate = this.validator(`${ref}/content/${mediaType.replace(/\//g, '~1')}/schema`);
    if (!validate(parsed)) {
      const errors = describeErrors(validate.errors);
      problems.push(
        `${where}: the body does not match the documented schema: ${errors}\n${body.slice(0, 600)}`,
      );
    }
    return problems;
  }
}

function describeErrors(errors: ValidateFunction['errors']): string {
  return (errors ?? [])
    .map((error) => {
      const detail =
        error.keyword === 'additionalProperties'
          ? ` (${String(error.params.additionalProperty)})`
          : error.keyword === 'enum' || error.keyword === 'const'
            ? ` (${JSON.stringify(error.params)})`
            : '';
      return `${error.instancePath || '/'} ${error.message ?? error.keyword}${detail}`;
    })
    .join('; ');
}

let shared: OpenApiValidator | undefined;

/** Throws, naming every problem, unless the response is what docs/openapi.yaml documents. */
export function expectDocumented(response: DocumentedResponse): void {
  shared ??= new OpenApiValidator();
  const problems = shared.problems(response);
  if (problems.length > 0) throw new Error(`Not as docs/openapi.yaml documents it:\n${problems.join('\n')}`);
}

/** Checks what a Lambda handler answered to an API Gateway event, as API Gateway would send it. */
export function expectDocumentedResult(
  event: APIGatewayProxyEventV2,
  result: APIGatewayProxyStructuredResultV2,
): void {
  const body =
    result.body !== undefined && result.isBase64Encoded
      ? Buffer.from(result.body, 'base64').toString('utf8')
      : result.body;
  expectDocumented({
    method: event.requestContext.http.method,
    path: event.rawPath,
    status: result.statusCode ?? 200,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    body,
  });
}

/**
 * `fetch` for the local gateway: the same answer, once it was checked against the spec. A redirect is
 * checked as the gateway sent it, then followed (unless the caller asked for `redirect: 'manual'`), the
 * way fetch would have.
 */
export async function fetchDocumented(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const method = init.method ?? 'GET';
  const response = await fetch(url, { ...init, redirect: 'manual' });
  const body = await response.text();
  expectDocumented({
    method,
    path: new URL(url).pathname,
    status: response.status,
    headers: Object.fromEntries(response.headers.entries()),
    body,
  });
  const location = response.headers.get('location');
  if (response.status >= 300 && response.status < 400 && location && init.redirect !== 'manual')
    return fetch(new URL(location, url), { ...init, method: 'GET', body: undefined });
  const empty = [101, 204, 205, 304].includes(response.status) || method === 'HEAD';
  return new Response(empty ? null : body, { status: response.status, headers: response.headers });
}

/** A route as API Gateway names it: `GET /recordings`, `ANY /audit`. */
export type RouteKey = `${string} ${string}`;

/** The routes the spec documents: its operations, and `ANY` where it documents the other methods. */
export function specRoutes(spec: Json = loadSpec()): Set<RouteKey> {
  const routes = new Set<RouteKey>();
  for (const [path, item] of Object.entries(spec.paths as Record<string, Json>)) {
    for (const method of METHODS) if (item[method]) routes.add(`${method.toUpperCase()} ${path}`);
    if (item[ANY_METHOD]) routes.add(`ANY ${path}`);
  }
  return routes;
}

/**
 * How the routes something serves and the routes the spec documents differ: a served route the spec
 * lacks, or a documented one nothing serves. A documented method is served by its own route or by the
 * path's `ANY` route (which takes the methods without one); `ANY` itself is documented as
 * `x-amazon-apigateway-any-method`.
 */
export function routeMismatches(documented: Set<RouteKey>, served: Set<RouteKey>): string[] {
  const problems: string[] = [];
  for (const route of served)
    if (!documented.has(route)) problems.push(`${route} is served but not in docs/openapi.yaml`);
  for (const route of documented) {
    const [method, path] = route.split(' ') as [string, string];
    if (!served.has(route) && !(method !== 'ANY' && served.has(`ANY ${path}`)))
      problems.push(`${route} is in docs/openapi.yaml but nothing serves it`);
  }
  return problems;
}
