import { readFileSync } from 'node:fs';
import { COMMANDS, overview } from './lib/commands.js';
import { describeError } from './lib/output.js';

/**
 * `vobiz-archive <command>`: the one entry point of the operator commands (the npm scripts call it too).
 * The first Ctrl-C asks the running command to stop cleanly (long commands print a summary and are
 * idempotent); a second one ends the process.
 */
// As for npm start: the SDK's reminder that it will soon need Node 22 would follow every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const [name, ...argv] = process.argv.slice(2);

async function main(): Promise<number> {
  if (name === undefined) {
    process.stderr.write(`${overview(version)}\n`);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === argv[0]) : undefined;
    process.stdout.write(`${topic ? topic.usage : overview(version)}\n`);
    return 0;
  }
  if (name === '--version') {
    process.stdout.write(`${version}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`vobiz-archive: unknown command "${name.slice(0, 60)}"\n\n${overview(version)}\n`);
    return 2;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => {
    controller.abort(new Error('interrupted'));
    process.once('SIGINT', () => process.exit(130));
  });
  const run = await command.load();
  return run(argv, process.env, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    signal: controller.signal,
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vobiz-archive ${name}: ${describeError(error)}\n`);
    if (argv.includes('--json'))
      process.stdout.write(`${JSON.stringify({ ok: false, error: describeError(error) }, null, 2)}\n`);
    process.exitCode = 1;
  },
);
