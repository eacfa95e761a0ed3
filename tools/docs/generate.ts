import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alarmActionsTable, alarmsTable, metricsTable } from './alarms.js';
import { BlockError, blockNames, replaceBlock } from './blocks.js';
import {
  commandsTable,
  localSynopsisBlock,
  npmScriptsTable,
  OPERATOR_COMMANDS,
  synopsisBlock,
} from './commands.js';
import { functionsEnvironmentTable, functionVariables, localEnvironmentTable } from './environment.js';
import { settingsTable } from './settings.js';

/** One generated block: the page, its marker name, and what writes it. */
export interface GeneratedBlock {
  page: string;
  name: string;
  render: (root: string) => string;
}

export const GENERATED_BLOCKS: readonly GeneratedBlock[] = [
  {
    page: 'docs/reference/settings.md',
    name: 'settings',
    render: () => settingsTable(functionVariables()),
  },
  { page: 'docs/reference/environment.md', name: 'environment-functions', render: functionsEnvironmentTable },
  { page: 'docs/reference/environment.md', name: 'environment-local', render: localEnvironmentTable },
  { page: 'docs/reference/commands.md', name: 'commands', render: commandsTable },
  ...OPERATOR_COMMANDS.map((command) => ({
    page: 'docs/reference/commands.md',
    name: `usage-${command.name}`,
    render: () => synopsisBlock(command),
  })),
  { page: 'docs/reference/commands.md', name: 'npm-scripts', render: npmScriptsTable },
  { page: 'docs/reference/commands.md', name: 'usage-local', render: localSynopsisBlock },
  { page: 'docs/reference/alarms.md', name: 'alarms', render: alarmsTable },
  { page: 'docs/reference/alarms.md', name: 'metrics', render: metricsTable },
  { page: 'docs/guides/runbook.md', name: 'alarm-actions', render: alarmActionsTable },
];

export interface DocsResult {
  /** `page#name` of every block whose text differs from what the code says. */
  stale: string[];
  /** Pages written (not in check mode). */
  written: string[];
}

/** Renders every generated block from the code and compares it with the page (check) or writes it. */
export function generateDocs(root: string, options: { check: boolean }): DocsResult {
  const pages = [...new Set(GENERATED_BLOCKS.map((block) => block.page))];
  const result: DocsResult = { stale: [], written: [] };
  for (const page of pages) {
    const path = join(root, page);
    const before = readFileSync(path, 'utf8');
    const blocks = GENERATED_BLOCKS.filter((block) => block.page === page);
    const unknown = blockNames(before).filter((name) => !blocks.some((block) => block.name === name));
    if (unknown.length > 0)
      throw new BlockError(`${page} has a block no generator writes: ${unknown.join(', ')}`);
    let after = before;
    for (const block of blocks) {
      const body = block.render(root);
      try {
        after = replaceBlock(after, block.name, body);
      } catch (error) {
        if (error instanceof BlockError) throw new BlockError(`${page} ${error.message}`);
        throw error;
      }
      if (replaceBlock(before, block.name, body) !== before) result.stale.push(`${page}#${block.name}`);
    }
    if (!options.check && after !== before) {
      writeFileSync(path, after);
      result.written.push(page);
    }
  }
  return result;
}
