import {
  BACKFILL_USAGE,
  CONSOLE_USER_USAGE,
  DEPLOY_USAGE,
  DESTROY_USAGE,
  DOCTOR_USAGE,
  ERASE_USAGE,
  LIFECYCLE_INDEX_USAGE,
  QUERY_USAGE,
  RETRY_USAGE,
  SET_SECRET_USAGE,
  VOBIZ_CLEANUP_USAGE,
} from './cli.js';
import type { CommandRun } from './command.js';

/**
 * Every command of `vobiz-archive`, in the order `--help` lists them: its one-line summary, its usage
 * text (defined once, in cli.ts) and its code, loaded only when it runs (so `--help` stays fast). The
 * commands reference in the docs is generated from this list.
 */
export interface CommandDefinition {
  name: string;
  summary: string;
  usage: string;
  /** The npm script that runs it too (`npm run <script> -- …`). */
  npmScript: string;
  load: () => Promise<CommandRun>;
}

export const COMMANDS: readonly CommandDefinition[] = [
  {
    name: 'deploy',
    summary: 'deploy a stage through an inspected change set; protect its data with a stack policy',
    usage: DEPLOY_USAGE,
    npmScript: 'deploy',
    load: async () => (await import('./deploy-command.js')).runDeployCommand,
  },
  {
    name: 'destroy',
    summary: 'delete a stage (refused while audio is on legal hold); says what it deletes and keeps',
    usage: DESTROY_USAGE,
    npmScript: 'destroy',
    load: async () => (await import('./destroy-command.js')).runDestroyCommand,
  },
  {
    name: 'set-secret',
    summary: 'put the Vobiz Auth ID and token into the stage (checked with Vobiz first)',
    usage: SET_SECRET_USAGE,
    npmScript: 'set-secret',
    load: async () => (await import('./set-secret-command.js')).runSetSecretCommand,
  },
  {
    name: 'doctor',
    summary: 'check that a stage or the local stack works, and say what to fix',
    usage: DOCTOR_USAGE,
    npmScript: 'doctor',
    load: async () => (await import('./doctor-command.js')).runDoctorCommand,
  },
  {
    name: 'query',
    summary: 'call the lookup API (signed); tables for people, --json, --all --csv/--jsonl exports',
    usage: QUERY_USAGE,
    npmScript: 'query',
    load: async () => (await import('./query-command.js')).runQueryCommand,
  },
  {
    name: 'backfill',
    summary: 'enqueue the recordings Vobiz lists in a time window that the archive lacks',
    usage: BACKFILL_USAGE,
    npmScript: 'backfill',
    load: async () => (await import('./backfill-command.js')).runBackfillCommand,
  },
  {
    name: 'retry',
    summary: 'put failed recordings back in the queue (by id, or --all-failed)',
    usage: RETRY_USAGE,
    npmScript: 'retry',
    load: async () => (await import('./retry-command.js')).runRetryCommand,
  },
  {
    name: 'erase',
    summary: 'erase recordings for good (by id, call or number), leaving tombstones',
    usage: ERASE_USAGE,
    npmScript: 'erase',
    load: async () => (await import('./erase-command.js')).runEraseCommand,
  },
  {
    name: 'vobiz-cleanup',
    summary: "delete at Vobiz the recordings whose copy here is verified (Vobiz's storage cost)",
    usage: VOBIZ_CLEANUP_USAGE,
    npmScript: 'vobiz-cleanup',
    load: async () => (await import('./vobiz-cleanup-command.js')).runVobizCleanupCommand,
  },
  {
    name: 'lifecycle-index',
    summary: 'after an upgrade: put older records into the lifecycle and legal-hold indexes',
    usage: LIFECYCLE_INDEX_USAGE,
    npmScript: 'lifecycle-index',
    load: async () => (await import('./lifecycle-index-command.js')).runLifecycleIndexCommand,
  },
  {
    name: 'console-user',
    summary: 'add, remove and list the people who may use the recordings console',
    usage: CONSOLE_USER_USAGE,
    npmScript: 'console-user',
    load: async () => (await import('./console-user-command.js')).runConsoleUserCommand,
  },
];

export function overview(version: string): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: vobiz-archive <command> [options]      (vobiz-archive <command> --help for its options)

The operator's command line of vobiz-recording-archive ${version}.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Every command: --stage <name> (the names it needs come from that stage's stack outputs) or, where it
makes sense, --local [--port N] (the running npm start); --region and --profile as in the AWS CLI;
--json for one JSON document on stdout; progress on stderr. Exit codes: 0 done, 1 failed, 2 usage.
From a clone: npx vobiz-archive <command>, or npm run <command> -- … (the same commands).`;
}
