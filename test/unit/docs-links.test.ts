import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { brokenLinks, headingAnchors, markdownFilesUnder } from '../support/markdown-links.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('documentation links', () => {
  it('every relative link and #anchor in the README, CHANGELOG, CONTRIBUTING and docs/ resolves', () => {
    const files = [
      join(ROOT, 'README.md'),
      join(ROOT, 'CHANGELOG.md'),
      join(ROOT, 'CONTRIBUTING.md'),
      ...markdownFilesUnder(join(ROOT, 'docs')),
    ];
    expect(files.length).toBeGreaterThan(10);
    expect(brokenLinks(files, ROOT)).toEqual([]);
  });

  it('every page under docs/ is reachable from docs/README.md', () => {
    const index = join(ROOT, 'docs', 'README.md');
    const pages = markdownFilesUnder(join(ROOT, 'docs'))
      .filter((file) => file !== index)
      .map((file) => file.slice(join(ROOT, 'docs').length + 1));
    const text = readFileSync(index, 'utf8');
    for (const page of pages) expect(text, page).toContain(`(${page})`);
  });
});

describe('the link checker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docs-links-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a missing file, a missing anchor and an anchor into a file that is not Markdown', () => {
    mkdirSync(join(dir, 'guides'), { recursive: true });
    writeFileSync(
      join(dir, 'guides', 'target.md'),
      '# Title\n\n## Webhook answer time: `npm run bench:ack`\n',
    );
    writeFileSync(join(dir, 'notes.txt'), 'text');
    writeFileSync(
      join(dir, 'page.md'),
      [
        '# Page',
        '[fine](guides/target.md#webhook-answer-time-npm-run-benchack) [fine too](#page)',
        '[gone](guides/missing.md) [wrong anchor](guides/target.md#no-such-heading)',
        '[not markdown](notes.txt#top) [external](https://example.com/x.md#y)',
        '```',
        '[inside a code block](nowhere.md)',
        '```',
        'and `[inline code](nowhere.md)` too',
      ].join('\n'),
    );
    const broken = brokenLinks([join(dir, 'page.md')], dir);
    expect(broken.map(({ target, line }) => ({ target, line }))).toEqual([
      { target: 'guides/missing.md', line: 3 },
      { target: 'guides/target.md#no-such-heading', line: 3 },
      { target: 'notes.txt#top', line: 4 },
    ]);
  });

  it('makes anchors the way GitHub does: punctuation dropped, repeated headings numbered', () => {
    expect([...headingAnchors('# A, b: `c.d`\n## Same\n## Same\n## 4. Put it (here)\n')]).toEqual([
      'a-b-cd',
      'same',
      'same-1',
      '4-put-it-here',
    ]);
  });
});
