/**
 * The console's two groups and the API routes each may call, as `[method, path]` of `execute-api:Invoke`
 * route ARNs: `*` matches any characters, `/` included (so `GET /recordings/*` also covers `…/audio`).
 * infra/console.ts grants exactly these to each group's role; the console shows a person only what
 * their group may do, and the local stack refuses the rest to a console acting as a reviewer.
 */
export const CONSOLE_GROUP_ROUTES = {
  reviewers: [
    ['GET', '/recordings'],
    ['GET', '/recordings/*'],
  ],
  admins: [
    ['GET', '/recordings'],
    ['GET', '/recordings/*'],
    ['PUT', '/recordings/*/legal-hold'],
    ['DELETE', '/recordings/*/legal-hold'],
    ['DELETE', '/recordings/*'],
    ['POST', '/recordings/*/retry'],
    ['GET', '/audit'],
  ],
} as const satisfies Record<string, readonly (readonly [string, string])[]>;

export type ConsoleGroup = keyof typeof CONSOLE_GROUP_ROUTES;

/** The group whose role a person gets: the identity pool maps the lowest precedence, admins first. */
export function effectiveGroup(groups: readonly string[]): ConsoleGroup | undefined {
  if (groups.includes('admins')) return 'admins';
  if (groups.includes('reviewers')) return 'reviewers';
  return undefined;
}

/** Whether `group`'s role may invoke `method path` (a concrete path, e.g. `/recordings/r1/retry`). */
export function groupAllows(group: ConsoleGroup, method: string, path: string): boolean {
  return CONSOLE_GROUP_ROUTES[group].some(
    ([allowedMethod, pattern]) =>
      allowedMethod === method.toUpperCase() &&
      new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(path),
  );
}

/**
 * The local stack has no sign-in: its console lets a person act as either group, and sends the group in
 * this header so that the local gateway refuses what that group's role could not do in AWS. Only the
 * local stack reads it; in AWS the console never sends it (a signed-in person's group comes from their
 * token) and API Gateway ignores it (IAM decides).
 */
export const LOCAL_GROUP_HEADER = 'x-vra-local-group';

export function isConsoleGroup(value: string): value is ConsoleGroup {
  return Object.hasOwn(CONSOLE_GROUP_ROUTES, value);
}
