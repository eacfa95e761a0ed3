import { runConsoleUserCommand } from './lib/console-user-command.js';

process.exitCode = await runConsoleUserCommand(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
});
