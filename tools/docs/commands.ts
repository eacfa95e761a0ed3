import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../bin/lib/commands.js';
import { USAGE as SIMULATE_USAGE } from '../../local/simulate.js';
import { USAGE as START_USAGE } from '../../local/start-options.js';
import { code, codes, fenced, table } from './markdown.js';

/** A command as the docs show it: its name, its one-line summary and its `--help` text. */
export interface DocumentedCommand {
  name: string;
  summary: string;
  usage: string;
}

/** `vobiz-archive <command>`: the CLI's own registry (bin/lib/commands.ts), in the order `--help` lists it. */
export const OPERATOR_COMMANDS: readonly DocumentedCommand[] = COMMANDS;

/** The synopsis of a usage text: its `Usage:` lines, without the word, up to the first blank line. */
export function synopsis(usage: string): string {
  const lines = usage.split('\n');
  const end = lines.findIndex((line) => line.trim() === '');
  const head = lines.slice(0, end === -1 ? lines.length : end);
  if (!head[0]?.startsWith('Usage: '))
    throw new Error(`a usage text does not start with "Usage: ": ${head[0]}`);
  const indent = 'Usage: '.length;
  return head
    .map((line, i) => (i === 0 ? line.slice(indent) : line.slice(Math.min(indent, line.search(/\S/)))))
    .join('\n');
}

/** docs/reference/commands.md: every `vobiz-archive` command and its summary. */
export function commandsTable(): string {
  return table(
    ['command', 'what it does'],
    OPERATOR_COMMANDS.map((command) => [
      `[${code(command.name)}](#${command.name})`,
      flagsAsCode(command.summary),
    ]),
  );
}

/** The flags in a summary as code: `--all --csv/--jsonl` stays one span. */
function flagsAsCode(text: string): string {
  return text.replace(/--[\w-]+(?:[ /]--[\w-]+)*/g, (flags) => code(flags));
}

/** A command's synopsis, as the block at the top of its section. */
export function synopsisBlock(command: DocumentedCommand): string {
  return fenced(synopsis(command.usage));
}

/** `npm start` and `npm run simulate`, one synopsis each. */
export function localSynopsisBlock(): string {
  return fenced(`${synopsis(START_USAGE)}\n${synopsis(SIMULATE_USAGE)}`);
}

/**
 * The table of npm scripts: each row names the scripts it covers, and every script of package.json is in
 * exactly one row (else `npm run docs` stops), so the table cannot miss one or keep a gone one.
 */
interface ScriptRow {
  scripts: readonly string[];
  /** The first cell, when more than `npm run <script>`. */
  command?: string;
  summary: string;
}

const TEST_PROJECTS = ['test:unit', 'test:integration', 'test:infra', 'test:e2e'];
const BENCHMARKS = [
  'bench:ack',
  'bench:ingest',
  'bench:query',
  'bench:console',
  'bench:lifecycle',
  'bench:coldstart',
];

export const SCRIPT_ROWS: readonly ScriptRow[] = [
  { scripts: [], command: '`npm ci`', summary: 'install the exact dependency versions (Node.js ≥ 20.11)' },
  {
    scripts: ['test'],
    summary: 'all tests: unit, integration against the emulators, infra, e2e in headless Chromium',
  },
  {
    scripts: TEST_PROJECTS,
    command: `\`npm run ${TEST_PROJECTS[0]}\` / ${TEST_PROJECTS.slice(1)
      .map((s) => code(s))
      .join(' / ')}`,
    summary: 'one of the four test projects',
  },
  { scripts: ['typecheck'], summary: '`tsc` over the functions and infra, the console and the e2e tests' },
  {
    scripts: ['lint'],
    summary:
      "ESLint with type-aware rules, and Prettier's check (TypeScript, JSON, YAML; Markdown is left as written)",
  },
  { scripts: ['format'], summary: 'format the tree with Prettier' },
  { scripts: ['check'], summary: 'what CI runs: typecheck, lint, tests, `cdk synth`, `lint:templates`' },
  { scripts: ['synth'], summary: '`cdk synth`, offline and without AWS credentials' },
  {
    scripts: ['lint:templates'],
    summary:
      'cfn-lint on every stack variant (no finding beyond W3005); fails when cfn-lint is not installed',
  },
  {
    scripts: ['docs'],
    summary: 'write the generated reference tables in docs/ from the code that defines them',
  },
  {
    scripts: ['docs:check'],
    summary: 'fail (exit 1, naming the table) when a generated table in docs/ is stale; part of `npm test`',
  },
  {
    scripts: ['start'],
    summary:
      'the local stack: emulators, Vobiz simulator, gateway on port 3000 ([local](../getting-started/local.md))',
  },
  {
    scripts: ['simulate'],
    command: '`npm run simulate -- --count 5`',
    summary: 'signed callbacks from the simulator through the local stack',
  },
  {
    scripts: ['vobiz-archive', ...OPERATOR_COMMANDS.map((command) => command.name)],
    command: '`npm run vobiz-archive -- <command> …`',
    summary: `the command line itself; ${OPERATOR_COMMANDS.map((command) => (command.name === 'deploy' ? `\`npm run ${command.name}\`` : code(command.name))).join(', ')} run one command each`,
  },
  {
    scripts: BENCHMARKS,
    command: `\`npm run ${BENCHMARKS[0]}\`, ${codes(BENCHMARKS.slice(1))}`,
    summary: 'benchmarks ([benchmarks](../development/benchmarks.md))',
  },
];

function npmCommand(script: string): string {
  return script === 'start' || script === 'test' ? `npm ${script}` : `npm run ${script}`;
}

/** docs/reference/commands.md: every npm script and what it does. */
export function npmScriptsTable(root: string): string {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const covered = SCRIPT_ROWS.flatMap((row) => row.scripts);
  const missing = Object.keys(scripts).filter((script) => !covered.includes(script));
  if (missing.length > 0)
    throw new Error(`npm scripts without a row in tools/docs/commands.ts: ${missing.join(', ')}`);
  const gone = covered.filter((script, i) => scripts[script] === undefined || covered.indexOf(script) !== i);
  if (gone.length > 0)
    throw new Error(
      `tools/docs/commands.ts describes scripts that do not exist or twice: ${gone.join(', ')}`,
    );
  return table(
    ['command', 'what it does'],
    SCRIPT_ROWS.map((row) => [row.command ?? code(npmCommand(row.scripts[0]!)), row.summary]),
  );
}
