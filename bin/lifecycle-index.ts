import { runLifecycleIndexCommand } from './lib/lifecycle-index-command.js';

const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('interrupted')));

process.exitCode = await runLifecycleIndexCommand(process.argv.slice(2), process.env, {
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
