import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** A relative link or anchor in a Markdown file that does not resolve. */
export interface BrokenLink {
  file: string;
  line: number;
  target: string;
  reason: string;
}

/** Every `.md` file under a folder, recursively (no `node_modules`). */
export function markdownFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules') return [];
    if (statSync(path).isDirectory()) return markdownFilesUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

/** The lines of a Markdown file outside fenced code blocks, with their 1-based numbers; inline code blanked. */
function proseLines(text: string): { line: number; text: string }[] {
  const lines: { line: number; text: string }[] = [];
  let fence: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return;
    }
    if (fence === undefined)
      lines.push({ line: i + 1, text: raw.replace(/`[^`]*`/g, (code) => ' '.repeat(code.length)) });
  });
  return lines;
}

/** GitHub's heading anchor: lower case, punctuation dropped (but `-` and `_`), spaces to `-`, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const raw of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(raw)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    const heading = fence === undefined ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw)?.[1] : undefined;
    if (heading === undefined) continue;
    const text = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/(\*\*|\*|__)(.+?)\1/g, '$2');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/**
 * The relative links (`[text](target)`, `![alt](target)`, `[label]: target`) of each file whose target
 * file is missing, or whose `#anchor` names no heading of the target Markdown file.
 */
export function brokenLinks(files: readonly string[], root: string): BrokenLink[] {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let set = anchorsOf.get(file);
    if (!set) {
      set = headingAnchors(readFileSync(file, 'utf8'));
      anchorsOf.set(file, set);
    }
    return set;
  };
  const broken: BrokenLink[] = [];
  for (const file of files) {
    for (const { line, text } of proseLines(readFileSync(file, 'utf8'))) {
      const targets = [
        ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
        ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)].map((m) => m[1]!),
      ];
      for (const target of targets) {
        if (EXTERNAL.test(target)) continue;
        const report = (reason: string) => broken.push({ file: relative(root, file), line, target, reason });
        const [path = '', anchor] = target.split('#', 2);
        const destination = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        if (!existsSync(destination)) {
          report('no such file');
          continue;
        }
        if (anchor === undefined) continue;
        if (!destination.endsWith('.md')) report('an anchor into a file that is not Markdown');
        else if (!anchors(destination).has(decodeURIComponent(anchor).toLowerCase()))
          report(`no heading "#${anchor}" in ${relative(root, destination)}`);
      }
    }
  }
  return broken;
}
