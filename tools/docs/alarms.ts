import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC, METRIC_EMITTED_WHEN } from '../../functions/shared/framework/observability.js';
import {
  ALARM_PERIOD_MINUTES,
  ALARMED_FUNCTIONS,
  ALARMS,
  FUNCTION_ALARM_STATISTIC,
  functionAlarmGuide,
  type AlarmGuide,
  type FunctionAlarmKind,
} from '../../infra/alarms.js';
import { code, codes, table } from './markdown.js';

interface AlarmRow {
  names: string[];
  watches: string;
  threshold: string;
  periods: number;
  guide: AlarmGuide;
}

/** Every alarm of the stack, those that read alike in one row (e.g. the errors of four functions). */
function alarmRows(): AlarmRow[] {
  const rows: AlarmRow[] = [];
  for (const kind of ['Errors', 'Throttles'] as FunctionAlarmKind[]) {
    for (const fn of ALARMED_FUNCTIONS) {
      const guide = functionAlarmGuide(fn, kind);
      const same = rows.find((row) => JSON.stringify(row.guide) === JSON.stringify(guide));
      if (same) same.names.push(`${fn}${kind}`);
      else
        rows.push({
          names: [`${fn}${kind}`],
          watches: `the function's ${code(kind)} (${FUNCTION_ALARM_STATISTIC})`,
          threshold: '> 0',
          periods: 1,
          guide,
        });
    }
  }
  for (const [name, definition] of Object.entries(ALARMS)) {
    rows.push({
      names: [name],
      watches: definition.statistic ? `${definition.watches} (${definition.statistic})` : definition.watches,
      threshold: `> ${definition.thresholdText ?? definition.threshold ?? 0}`,
      periods: definition.periods ?? 1,
      guide: definition,
    });
  }
  return rows;
}

function periods(count: number): string {
  return count === 1 ? '1' : `${count} (${count * ALARM_PERIOD_MINUTES} minutes)`;
}

/** The runbook's section titles by their anchors (GitHub's: lower case, punctuation dropped, `-` for spaces). */
function runbookSections(root: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const [, title] of readFileSync(join(root, RUNBOOK), 'utf8').matchAll(/^#{2,4} (.+)$/gm)) {
    const anchor = title!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_ -]/gu, '')
      .replace(/ /g, '-');
    sections.set(anchor, title!.replace(/`/g, ''));
  }
  return sections;
}

const RUNBOOK = 'docs/guides/runbook.md';

/** docs/reference/alarms.md: what each alarm watches, and where the runbook says what to do. */
export function alarmsTable(root: string): string {
  const sections = runbookSections(root);
  const link = (anchor: string) => {
    const title = sections.get(anchor);
    if (!title) throw new Error(`${RUNBOOK} has no section #${anchor} (named by infra/alarms.ts)`);
    return `[${title}](../guides/runbook.md#${anchor})`;
  };
  return table(
    ['alarm', 'watches (statistic)', 'threshold', 'periods', 'fires when', 'runbook'],
    alarmRows().map((row) => [
      codes(row.names),
      row.watches,
      row.threshold,
      periods(row.periods),
      row.guide.meaning,
      link(row.guide.runbook),
    ]),
  );
}

/** docs/guides/runbook.md: alarm → action. */
export function alarmActionsTable(): string {
  return table(
    ['alarm', 'fires when', 'what to do'],
    alarmRows().map((row) => [
      codes(row.names),
      row.periods > 1
        ? `for ${row.periods * ALARM_PERIOD_MINUTES} minutes: ${row.guide.meaning}`
        : row.guide.meaning,
      `${row.guide.action} ([more](#${row.guide.runbook}))`,
    ]),
  );
}

/** docs/reference/alarms.md: the business metrics and the alarms that watch them. */
export function metricsTable(): string {
  const alarmsOf = (metricName: string) =>
    Object.entries(ALARMS)
      .filter(([, definition]) => definition.businessMetrics?.includes(metricName))
      .map(([name]) => name);
  return table(
    ['metric', 'emitted when', 'alarm'],
    (Object.keys(METRIC) as (keyof typeof METRIC)[]).map((key) => [
      code(METRIC[key]),
      METRIC_EMITTED_WHEN[key],
      codes(alarmsOf(METRIC[key])),
    ]),
  );
}
