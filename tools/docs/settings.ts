import type { EnvVar } from '../../functions/shared/config.js';
import {
  resolveStageSettings,
  SETTINGS,
  THROWAWAY_STAGES,
  type SettingDefinition,
  type SettingKind,
} from '../../infra/settings.js';
import { code, codes, table } from './markdown.js';
import { setOnText, variablesTheStackSets } from './stack.js';

const ARN_OF: Record<string, string> = {
  secretsmanager: 'a Secrets Manager secret',
  kms: 'a KMS key',
  sns: 'an SNS topic',
};

export function accepted(kind: SettingKind, constraint: string | undefined): string {
  let text: string;
  switch (kind.type) {
    case 'boolean':
      text = codes(['true', 'false']);
      break;
    case 'integer':
      text = kind.values ? kind.values.join(', ') : `${kind.min}–${kind.max}`;
      if (kind.none) text += `, or ${code('none')}`;
      break;
    case 'enum':
      text = codes(kind.values);
      break;
    case 'url':
      text = 'an http(s) URL';
      break;
    case 'arn':
      text = `the ARN of ${ARN_OF[kind.service] ?? kind.service}`;
      break;
    case 'email':
      text = 'an e-mail address';
      break;
    case 'text':
      text = kind.accepted;
      break;
  }
  return constraint ? `${text}; ${constraint}` : text;
}

function shown(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return code(String(value));
  throw new Error(`a setting resolves to ${JSON.stringify(value)}: give it a value the docs can show`);
}

/**
 * The default of a stage, and of a throwaway stage where it differs, from the settings the code
 * resolves for `prod` and `dev` with nothing set.
 */
function defaultOf(definition: SettingDefinition, key: string, variables: Map<string, EnvVar>): string {
  const unset = () => {
    if (definition.unset) return definition.unset;
    const variable = definition.variable ? variables.get(definition.variable) : undefined;
    return variable?.default ? `unset: the functions' default, ${variable.default}` : '—';
  };
  const stage = shown(definition.value(resolveStageSettings('prod'))) ?? unset();
  const throwaway = shown(definition.value(resolveStageSettings('dev'))) ?? unset();
  if (stage === throwaway) return stage;
  const which = key === 'throwaway' ? THROWAWAY_STAGES.map((name) => code(name)).join(', ') : 'throwaway';
  return `${stage} (${which}: ${throwaway})`;
}

/** docs/reference/settings.md: every stage setting (infra/settings.ts). */
export function settingsTable(variables: Map<string, EnvVar>): string {
  const definitions: [string, SettingDefinition][] = Object.entries(SETTINGS);
  return table(
    ['setting', 'default', 'accepted', 'meaning', 'reaches'],
    definitions.map(([key, definition]) => [
      code(key),
      defaultOf(definition, key, variables),
      accepted(definition.kind, definition.constraint),
      definition.description,
      definition.variable
        ? `${code(definition.variable)}: ${setOnText(variablesTheStackSets().get(definition.variable) ?? [])}`
        : '',
    ]),
  );
}
