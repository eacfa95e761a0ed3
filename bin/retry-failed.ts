import { runRetryCommand } from './lib/retry-command.js';

process.exitCode = await runRetryCommand(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
});
