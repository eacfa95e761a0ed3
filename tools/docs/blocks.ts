/**
 * A generated block in a Markdown page sits between two marker comments, which the page keeps:
 *
 *   <!-- generated:settings start: … -->
 *   …written by `npm run docs`…
 *   <!-- generated:settings end -->
 *
 * Whatever follows `start` inside the first comment is free text (where the block comes from).
 */

const START = /<!-- generated:([a-z0-9-]+) start\b[^>]*-->/g;

function endMarker(name: string): string {
  return `<!-- generated:${name} end -->`;
}

export class BlockError extends Error {}

/** The names of the blocks a page has, in order. */
export function blockNames(page: string): string[] {
  return [...page.matchAll(START)].map((match) => match[1]!);
}

/** The page with the block `name` holding `body`; a BlockError when its markers are missing or broken. */
export function replaceBlock(page: string, name: string, body: string): string {
  const starts = [...page.matchAll(START)].filter((match) => match[1] === name);
  if (starts.length === 0) throw new BlockError(`has no <!-- generated:${name} start --> marker`);
  if (starts.length > 1) throw new BlockError(`has the generated:${name} block twice`);
  const start = starts[0]!;
  const from = start.index + start[0].length;
  const to = page.indexOf(endMarker(name), from);
  if (to === -1) throw new BlockError(`has no ${endMarker(name)} after its start marker`);
  return `${page.slice(0, from)}\n\n${body.trim()}\n\n${page.slice(to)}`;
}
