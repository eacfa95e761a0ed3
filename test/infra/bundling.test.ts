import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { esbuildOptions, functionCode, HANDLER_FILE } from '../../infra/bundling.js';
import { LOOKUP_ENTRY } from '../../infra/lookup-api.js';
import { WEBHOOK_ENTRY } from '../../infra/webhook.js';

describe('function bundling (synthesized with bundling, as cdk deploy does)', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'bundling-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bundling');
  for (const [id, entry] of [
    ['Webhook', WEBHOOK_ENTRY],
    ['Lookup', LOOKUP_ENTRY],
  ] as const) {
    new LambdaFunction(stack, id, {
      code: functionCode(entry),
      handler: 'index.handler',
      runtime: Runtime.NODEJS_22_X,
    });
  }
  const assembly = app.synth();
  const functions = Object.values(
    Template.fromStack(stack).findResources('AWS::Lambda::Function') as Record<
      string,
      { Properties: { Code: { S3Key: string } } }
    >,
  );

  it('gives every function its own bundle (all assets share the project folder as their source)', () => {
    const keys = functions.map((f) => f.Properties.Code.S3Key);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
  });

  it('stages the handler file, its chunks and their source maps', () => {
    const staged = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(staged).toHaveLength(2);
    for (const name of staged) {
      const dir = join(assembly.directory, name);
      expect(existsSync(join(dir, HANDLER_FILE))).toBe(true);
      expect(existsSync(join(dir, `${HANDLER_FILE}.map`))).toBe(true);
      const chunks = readdirSync(join(dir, 'chunks'));
      expect(chunks.some((file) => file.endsWith('.mjs'))).toBe(true);
      for (const chunk of chunks.filter((file) => file.endsWith('.mjs')))
        expect(chunks).toContain(`${chunk}.map`);
    }
  });
});

describe("the webhook's cold start (part of Vobiz's 3-second budget, bench/coldstart.ts)", () => {
  it('loads no AWS SDK client: its own signed client talks to DynamoDB and Secrets Manager', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'webhook-bundle-'));
    try {
      const { metafile } = buildSync({ ...esbuildOptions(WEBHOOK_ENTRY, outdir), metafile: true });
      const outputs = metafile.outputs;
      const byPath = new Map(Object.keys(outputs).map((path) => [join(process.cwd(), path), path]));
      // The handler file and what it imports statically: what every cold start compiles.
      const loaded = new Set<string>();
      const visit = (path: string) => {
        if (loaded.has(path) || !outputs[path]) return;
        loaded.add(path);
        for (const imported of outputs[path].imports)
          if (imported.kind === 'import-statement' && !imported.external)
            visit(byPath.get(join(process.cwd(), imported.path)) ?? imported.path);
      };
      const handler = Object.keys(outputs).find((path) => path.endsWith(`/${HANDLER_FILE}`))!;
      visit(handler);
      const inputs = [...loaded].flatMap((path) => Object.keys(outputs[path]!.inputs));
      expect(inputs.some((input) => input.includes('functions/webhook/handler.ts'))).toBe(true);
      expect(inputs.filter((input) => /node_modules\/(@aws-sdk\/client-|@smithy\/)/.test(input))).toEqual([]);
      // The SDK is still bundled, reached only by `await import()` (credentials outside Lambda).
      const all = Object.values(outputs).flatMap((output) => Object.keys(output.inputs));
      expect(all.some((input) => input.includes('@aws-sdk/client-dynamodb'))).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
