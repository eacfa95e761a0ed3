/** How values read in the console: local times, m:ss durations, binary sizes. */
const two = (n: number) => String(n).padStart(2, '0');

export function formatTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** `UTC+05:30` for the viewer's time zone at `ms`. */
export function timeZoneLabel(ms = Date.now()): string {
  const offset = -new Date(ms).getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `UTC${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

export function formatDuration(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '—';
  const total = Math.floor(ms / 1000); // as audio players show it
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

export function formatSize(bytes: unknown): string {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function recordTimeMs(record: Record<string, unknown>): number | undefined {
  if (typeof record.add_time_ms === 'number') return record.add_time_ms;
  if (typeof record.received_at === 'string') return Date.parse(record.received_at);
  return undefined;
}

/** The local time of an ISO-8601 instant, or `—`. */
export function formatIso(value: unknown): string {
  return typeof value === 'string' ? formatTime(Date.parse(value)) : '—';
}

/**
 * Who acted, short enough for a table cell: the role and session of an IAM ARN, the console user of an
 * actor object (`{arn, cognito_identity_id?, user_sub?}`), the local stack's marker; `title` is all of it.
 */
export function describeActor(actor: unknown): { label: string; title: string } {
  if (actor && typeof actor === 'object') {
    const { arn, user_sub: sub } = actor as { arn?: unknown; user_sub?: unknown };
    const role = typeof arn === 'string' ? describeActor(arn).label : 'unknown';
    return {
      label: typeof sub === 'string' ? `${role} · user ${sub}` : role,
      title: JSON.stringify(actor),
    };
  }
  if (typeof actor !== 'string' || actor === '') return { label: '—', title: '' };
  if (actor === 'unsigned request (local stack)') return { label: 'local stack (no sign-in)', title: actor };
  const assumed = /^arn:[\w-]+:sts::\d+:assumed-role\/([^/]+)\/(.+)$/.exec(actor);
  if (assumed) return { label: `${assumed[1]} / ${assumed[2]}`, title: actor };
  const user = /^arn:[\w-]+:iam::\d+:(user|role)\/(.+)$/.exec(actor);
  if (user) return { label: `${user[1]} ${user[2]}`, title: actor };
  return { label: actor, title: actor };
}
