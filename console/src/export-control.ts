import { h, replace } from './dom.js';
import { collectExport, exportFileName, type ExportColumn, type ExportFormat } from './export.js';

/**
 * The export control under a list: a button per format; while it runs, how many rows are in so far and
 * a Cancel button; at the end, the file is saved and the count said. `noun` is what a row is
 * ("recordings", "audit entries").
 */
export function exportControl<T>(options: {
  what: string;
  noun: string;
  columns: readonly ExportColumn<T>[];
  pages: (signal: AbortSignal) => AsyncIterable<T[]>;
  describeError: (error: unknown) => string;
}) {
  const status = h('span', { class: 'export-status', role: 'status' });
  const buttons = h('span', { class: 'export-buttons' });
  const element = h('div', { class: 'export' }, buttons, status);
  let running: AbortController | undefined;

  const idle = () => {
    replace(
      buttons,
      h('span', { class: 'export-label' }, 'Export all:'),
      h('button', { type: 'button', 'data-format': 'csv', onclick: () => void start('csv') }, 'CSV'),
      h(
        'button',
        { type: 'button', 'data-format': 'jsonl', onclick: () => void start('jsonl') },
        'JSON Lines',
      ),
    );
  };

  async function start(format: ExportFormat): Promise<void> {
    if (running) return;
    const controller = new AbortController();
    running = controller;
    const progress = h('progress', { 'aria-label': `Exporting ${options.noun}` });
    replace(
      buttons,
      progress,
      h('button', { type: 'button', class: 'cancel', onclick: () => controller.abort() }, 'Cancel'),
    );
    status.textContent = `Exporting ${options.noun}…`;
    try {
      const { blob, rows } = await collectExport({
        format,
        columns: options.columns,
        pages: options.pages,
        signal: controller.signal,
        onProgress: (count, pages) =>
          (status.textContent = `Exporting… ${count.toLocaleString('en')} ${options.noun} (${pages} page${pages === 1 ? '' : 's'})`),
      });
      const name = exportFileName(options.what, format);
      const url = URL.createObjectURL(blob);
      h('a', { href: url, download: name }).click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      status.textContent = `Exported ${rows.toLocaleString('en')} ${options.noun} to ${name}.`;
    } catch (error) {
      status.textContent = controller.signal.aborted
        ? 'Export cancelled; nothing was saved.'
        : `The export stopped: ${options.describeError(error)} Nothing was saved.`;
    } finally {
      running = undefined;
      idle();
    }
  }

  idle();
  return element;
}
