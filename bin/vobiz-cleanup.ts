import { runVobizCleanupCommand } from './lib/vobiz-cleanup-command.js';

const controller = new AbortController();
// The first Ctrl-C stops cleanly (summary printed); a second one kills the process.
process.once('SIGINT', () => controller.abort(new Error('interrupted')));

process.exitCode = await runVobizCleanupCommand(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
