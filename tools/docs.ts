import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BlockError } from './docs/blocks.js';

/**
 * `npm run docs` writes the reference tables in docs/ (settings, environment, commands, alarms) from
 * the code that defines them; `npm run docs:check` (part of `npm test`) fails when one is stale.
 */

export const USAGE = `Usage: npm run docs [-- --check] [--root <dir>]

Writes the generated tables in docs/ (between <!-- generated:NAME start --> and
<!-- generated:NAME end --> markers) from the code that defines them: the stage settings
(infra/settings.ts), the variables the functions and the local stack read (their config loaders),
the commands' usage texts, the alarms (infra/alarms.ts) and the business metrics.

  --check       write nothing; exit 1 naming each stale table (npm run docs:check)
  --root <dir>  the project to work on (default: this one)

Exit codes: 0 done (or up to date), 1 stale or a marker missing, 2 usage error.`;

async function main(argv: string[]): Promise<number> {
  let values: { check?: boolean; root?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        check: { type: 'boolean' },
        root: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`docs: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const root = values.root ?? fileURLToPath(new URL('..', import.meta.url));
  const check = values.check === true;
  try {
    // Loaded only now: it imports the stack's definitions and the functions' loaders.
    const { generateDocs } = await import('./docs/generate.js');
    const { stale, written } = generateDocs(root, { check });
    if (check && stale.length > 0) {
      for (const block of stale) process.stderr.write(`docs: ${block} is stale\n`);
      process.stderr.write('docs: run npm run docs, and commit the result\n');
      return 1;
    }
    process.stdout.write(
      check
        ? 'docs: the generated tables are up to date\n'
        : written.length > 0
          ? `docs: wrote ${written.join(', ')}\n`
          : 'docs: nothing to change\n',
    );
    return 0;
  } catch (error) {
    if (!(error instanceof BlockError)) throw error;
    process.stderr.write(`docs: ${error.message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
