import { ARCHIVE_WORKER_VARIABLES } from '../../functions/archive-worker/dependencies.js';
import { AUDIT_COPY_VARIABLES } from '../../functions/audit-copy/config.js';
import { LIFECYCLE_VARIABLES } from '../../functions/lifecycle/dependencies.js';
import { LOOKUP_VARIABLES } from '../../functions/lookup/config.js';
import { REDRIVE_VARIABLES } from '../../functions/redrive/dependencies.js';
import { RETRY_API_VARIABLES } from '../../functions/retry-api/config.js';
import { AWS_ENV, RUNTIME_ENV, type EnvVar } from '../../functions/shared/config.js';
import { WEBHOOK_VARIABLES } from '../../functions/webhook/dependencies.js';
import { SETTINGS } from '../../infra/settings.js';
import { LOCAL_ENV } from '../../local/start-options.js';
import { code, table } from './markdown.js';
import { variablesTheStackSets } from './stack.js';

/** Each function and what its loaders read (the lifecycle API shares the scheduled lifecycle's loader). */
export const FUNCTION_VARIABLES: readonly (readonly [string, readonly EnvVar[]])[] = [
  ['webhook', WEBHOOK_VARIABLES],
  ['archive worker', ARCHIVE_WORKER_VARIABLES],
  ['re-drive', REDRIVE_VARIABLES],
  ['lookup', LOOKUP_VARIABLES],
  ['lifecycle', LIFECYCLE_VARIABLES],
  ['lifecycle API', LIFECYCLE_VARIABLES],
  ['audit copy', AUDIT_COPY_VARIABLES],
  ['retry API', RETRY_API_VARIABLES],
];

/** Every variable the functions read, once, by name: the archive's first, the SDK's and the runtime's last. */
export function functionVariables(): Map<string, EnvVar> {
  const byName = new Map<string, EnvVar>();
  const archiveFirst = [...FUNCTION_VARIABLES].sort(
    ([a], [b]) => Number(b === 'archive worker') - Number(a === 'archive worker'),
  );
  for (const [, variables] of archiveFirst) {
    for (const variable of variables) {
      const known = byName.get(variable.name);
      if (known && known !== variable) throw new Error(`${variable.name} is declared twice`);
      byName.set(variable.name, variable);
    }
  }
  const platform = new Set([...Object.keys(AWS_ENV), ...Object.keys(RUNTIME_ENV)]);
  return new Map([...byName].sort(([a], [b]) => Number(platform.has(a)) - Number(platform.has(b))));
}

function readBy(name: string): string {
  const readers = FUNCTION_VARIABLES.filter(([, variables]) => variables.some((v) => v.name === name)).map(
    ([reader]) => reader,
  );
  return readers.length === FUNCTION_VARIABLES.length ? 'every function' : readers.join(', ');
}

/** docs/reference/environment.md: what the functions read, who reads it and the stage setting that sets it. */
export function functionsEnvironmentTable(): string {
  const stackSets = variablesTheStackSets();
  const settingOf = new Map<string, string>();
  for (const [key, definition] of Object.entries(SETTINGS)) {
    const variable = (definition as { variable?: string }).variable;
    if (variable) settingOf.set(variable, key);
  }
  return table(
    ['name', 'read by', 'default', 'accepted', 'meaning', 'stage setting'],
    [...functionVariables().values()].map((variable) => [
      code(variable.name),
      readBy(variable.name),
      variable.default || '—',
      variable.accepted,
      variable.description,
      settingOf.has(variable.name)
        ? `[${code(settingOf.get(variable.name)!)}](settings.md)`
        : stackSets.has(variable.name)
          ? '(stack)'
          : '',
    ]),
  );
}

/** docs/reference/environment.md: what `npm start` itself reads (local/start-options.ts). */
export function localEnvironmentTable(): string {
  return table(
    ['name', 'default', 'accepted', 'meaning'],
    Object.values(LOCAL_ENV).map((variable) => [
      code(variable.name),
      variable.default || '—',
      variable.accepted,
      variable.description,
    ]),
  );
}
