import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BACKFILL_USAGE,
  ERASE_USAGE,
  LIFECYCLE_INDEX_USAGE,
  RETRY_USAGE,
  VOBIZ_CLEANUP_USAGE,
} from '../../bin/lib/cli.js';
import { CONSOLE_USER_USAGE } from '../../bin/lib/console-user-command.js';
import { USAGE as SIMULATE_USAGE } from '../../local/simulate.js';
import { USAGE as START_USAGE } from '../../local/start-options.js';
import { code, fenced, table } from './markdown.js';

/** A command as the docs show it: what `npm run <npmScript>` runs, its one-line summary, its `--help`. */
export interface DocumentedCommand {
  name: string;
  summary: string;
  usage: string;
  npmScript: string;
}

/** The operator commands and their usage texts (each prints its own with `--help`). */
export const OPERATOR_COMMANDS: readonly DocumentedCommand[] = [
  {
    name: 'backfill',
    summary: 'enqueue the recordings Vobiz lists in a time window that the archive lacks',
    usage: BACKFILL_USAGE,
    npmScript: 'backfill',
  },
  {
    name: 'retry',
    summary: 'put failed recordings back in the queue (by id, or --all-failed)',
    usage: RETRY_USAGE,
    npmScript: 'retry',
  },
  {
    name: 'erase',
    summary: 'erase recordings for good (by id, call or number), leaving tombstones',
    usage: ERASE_USAGE,
    npmScript: 'erase',
  },
  {
    name: 'vobiz-cleanup',
    summary: "delete at Vobiz the recordings whose copy here is verified (Vobiz's storage cost)",
    usage: VOBIZ_CLEANUP_USAGE,
    npmScript: 'vobiz-cleanup',
  },
  {
    name: 'lifecycle-index',
    summary: 'after an upgrade: put older records into the lifecycle indexes',
    usage: LIFECYCLE_INDEX_USAGE,
    npmScript: 'lifecycle-index',
  },
  {
    name: 'console-user',
    summary: 'add, remove and list the people who may use the recordings console',
    usage: CONSOLE_USER_USAGE,
    npmScript: 'console-user',
  },
];

/** The local stack's commands. */
export const LOCAL_COMMANDS: readonly DocumentedCommand[] = [
  {
    name: 'start',
    summary:
      'the local stack: emulators, Vobiz simulator, gateway on port 3000 ([local](../getting-started/local.md))',
    usage: START_USAGE,
    npmScript: 'start',
  },
  {
    name: 'simulate',
    summary: 'signed callbacks from the simulator through the local stack',
    usage: SIMULATE_USAGE,
    npmScript: 'simulate',
  },
];

/**
 * What every other npm script does. A script without a line here (or a line without a script) stops
 * `npm run docs`, so the table cannot miss one.
 */
export const SCRIPT_SUMMARIES: Readonly<Record<string, string>> = {
  test: 'all tests: unit, integration against the emulators, infra, e2e in headless Chromium',
  'test:unit': 'the unit tests',
  'test:integration': 'the integration tests (DynamoDB Local, s3rver, the Vobiz fake)',
  'test:infra': 'the synthesized stack per stage (CDK assertions, cdk-nag)',
  'test:e2e': 'the console in headless Chromium against `npm start`',
  typecheck: '`tsc` over the functions and infra, the console and the e2e tests',
  lint: "ESLint with type-aware rules, and Prettier's check (TypeScript, JSON, YAML; not Markdown)",
  format: 'format the tree with Prettier',
  check: 'what CI runs: typecheck, lint, tests, `cdk synth`, `lint:templates`',
  synth: '`cdk synth`, offline and without AWS credentials',
  'lint:templates':
    'cfn-lint on every stack variant (no finding beyond W3005); fails when cfn-lint is not installed',
  docs: 'write the generated reference tables in docs/ from the code',
  'docs:check': 'fail (exit 1, naming the table) when a generated table in docs/ is stale',
  query: 'SigV4-signed requests to a deployed API ([usage](#query))',
  'bench:ack': 'benchmark: the webhook answer under load ([benchmarks](../development/benchmarks.md))',
  'bench:ingest': 'benchmark: callbacks to stored recordings',
  'bench:query': 'benchmark: lookups and listings at 10,000 and 100,000 records',
  'bench:console': 'benchmark: the console in Chromium against 100,000 records',
  'bench:lifecycle': 'benchmark: the verified delete at Vobiz',
  'bench:coldstart': 'benchmark: bundle sizes and cold starts of the functions',
};

function npmCommand(script: string): string {
  if (script === 'start' || script === 'test') return `npm ${script}`;
  return `npm run ${script}`;
}

/** docs/reference/commands.md: every npm script and what it does. */
export function npmScriptsTable(root: string): string {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const commands = new Map(
    [...LOCAL_COMMANDS, ...OPERATOR_COMMANDS].map((command) => [command.npmScript, command]),
  );
  const missing = Object.keys(scripts).filter((s) => !commands.has(s) && SCRIPT_SUMMARIES[s] === undefined);
  if (missing.length > 0)
    throw new Error(`npm scripts without a summary in tools/docs/commands.ts: ${missing.join(', ')}`);
  const gone = Object.keys(SCRIPT_SUMMARIES).filter((s) => scripts[s] === undefined);
  if (gone.length > 0)
    throw new Error(`tools/docs/commands.ts describes scripts that do not exist: ${gone.join(', ')}`);
  return table(
    ['command', 'what it does'],
    Object.keys(scripts).map((script) => {
      const command = commands.get(script);
      const summary = command ? `${command.summary} ([usage](#${command.name}))` : SCRIPT_SUMMARIES[script]!;
      return [code(npmCommand(script)), summary];
    }),
  );
}

/** A command's `--help`, as a block for its section. */
export function usageBlock(command: DocumentedCommand): string {
  return fenced(command.usage);
}

export const DOCUMENTED_COMMANDS: readonly DocumentedCommand[] = [...OPERATOR_COMMANDS, ...LOCAL_COMMANDS];
