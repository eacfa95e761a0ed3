import './styles.css';
import { actionsPanel } from './actions.js';
import { ApiError, createApi, describeError, type Api, type AudioLink, type Recording } from './api.js';
import { auditQueryFromUrl, auditQueryToUrl } from './audit-query.js';
import { auditView, listenedBy } from './audit.js';
import { signIn, type Session } from './auth.js';
import { configFromBlock, type ConsoleConfig } from './config.js';
import { h, replace } from './dom.js';
import { exportControl } from './export-control.js';
import { RECORDING_COLUMNS } from './export.js';
import { formatDuration } from './format.js';
import {
  effectiveGroup,
  groupAllows,
  isConsoleGroup,
  LOCAL_GROUP_HEADER,
  type ConsoleGroup,
} from './groups.js';
import {
  apiQueries,
  checkQuery,
  Listing,
  queryFromUrl,
  queryToUrl,
  RECORDING_ID,
  sameQuery,
  type SearchQuery,
} from './search.js';
import { signRequest } from './sigv4.js';
import {
  describeQuery,
  listFooter,
  recordBadges,
  recordFacts,
  resultRow,
  resultsTable,
  searchForm,
  noticeBox,
  statusNotice,
} from './views.js';

/**
 * The recordings console: one page that searches the archive, lists results newest first with the
 * API's cursors, and opens a recording to play or download it; for administrators also the actions on
 * a recording and the audit log. The URL holds the view, the search and the open recording, so a link
 * can be shared and Back works.
 */
class ConsoleApp {
  private readonly form;
  private readonly resultsView = h('section', { class: 'results-view', 'aria-live': 'polite' });
  private readonly recordingView = h('section', { class: 'recording-view', hidden: true });
  private readonly auditPage = h('section', { class: 'audit-page', hidden: true });
  private readonly nav = h('nav', { class: 'views', 'aria-label': 'Views' });
  private readonly status = h('p', { class: 'visually-hidden', role: 'status' });
  private loaded?: { query: SearchQuery; listing: Listing; body: HTMLTableSectionElement; count: number };
  private scrollY = 0;
  private lastOpened: string | undefined;
  private generation = 0;
  private lastPlayLink?: { id: string; link: AudioLink };
  /** Reads "Listened/downloaded by" again (after a download from this page). */
  private refreshListened?: () => Promise<void>;

  constructor(
    private readonly root: HTMLElement,
    private readonly api: Api,
    config: ConsoleConfig,
    session: Session | undefined,
    private readonly group: ConsoleGroup,
    /** Shows the page if start() kept it hidden for the first page (hideUntilFirstPage). */
    private readonly reveal: () => void = () => undefined,
  ) {
    this.form = searchForm(
      (query) => this.submit(query),
      (id) => this.navigate({ ...Object.fromEntries(queryToUrl(this.currentQuery())), id }),
    );
    const user = session
      ? h(
          'div',
          { class: 'user' },
          h('span', null, session.email, session.groups.length ? ` (${session.groups.join(', ')})` : ''),
          h('button', { type: 'button', class: 'link', onclick: () => void session.signOut() }, 'Sign out'),
        )
      : h('div', { class: 'user' }, 'Local stack · no sign-in · ', localGroupSwitch(group));
    replace(
      root,
      h(
        'header',
        { class: 'top' },
        h('h1', null, h('a', { href: '?', onclick: (e) => this.follow(e, {}) }, 'Recordings')),
        this.nav,
        config.stage ? h('span', { class: 'stage' }, config.stage) : null,
        user,
      ),
      h('main', null, this.form.element, this.resultsView, this.recordingView, this.auditPage),
      this.status,
    );
    addEventListener('popstate', () => void this.route());
  }

  /** Whether this person's group may call `method path` (the console shows only what it may). */
  private can(method: string, path: string): boolean {
    return groupAllows(this.group, method, path);
  }

  /** A link inside the console: a real href (new tab works), navigated in place on a plain click. */
  private readonly link = (params: Record<string, string>, text: string, title?: string): HTMLAnchorElement =>
    h(
      'a',
      { href: `?${new URLSearchParams(params).toString()}`, title, onclick: (e) => this.follow(e, params) },
      text,
    );

  private renderNav(current: 'recordings' | 'audit'): void {
    const item = (view: 'recordings' | 'audit', text: string, params: Record<string, string>) => {
      const a = this.link(params, text);
      if (view === current) a.setAttribute('aria-current', 'page');
      return a;
    };
    replace(
      this.nav,
      item('recordings', 'Search', {}),
      this.can('GET', '/audit') ? item('audit', 'Audit log', { view: 'audit' }) : null,
    );
  }

  private currentQuery(): SearchQuery {
    return queryFromUrl(new URLSearchParams(location.search));
  }

  private follow(event: Event, params: Record<string, string>): void {
    const e = event as MouseEvent;
    if (e.ctrlKey || e.metaKey || e.shiftKey) return;
    event.preventDefault();
    this.navigate(params);
  }

  private navigate(params: Record<string, string>): void {
    const search = new URLSearchParams(params).toString();
    if (!new URLSearchParams(location.search).has('id')) this.scrollY = scrollY;
    history.pushState(null, '', `${location.pathname}${search ? `?${search}` : ''}`);
    void this.route();
  }

  private submit(query: SearchQuery): void {
    const problems = checkQuery(query);
    this.form.showProblems(problems);
    if (problems.length > 0) return;
    const params = Object.fromEntries(queryToUrl(query));
    // Searching again for the same thing reloads it (new recordings may have arrived).
    if (sameQuery(query, this.currentQuery())) this.loaded = undefined;
    this.navigate(params);
  }

  async route(): Promise<void> {
    const params = new URLSearchParams(location.search);
    if (params.get('view') === 'audit') return this.showAudit(params);
    this.renderNav('recordings');
    this.auditPage.hidden = true;
    const query = queryFromUrl(params);
    this.form.fill(query);
    const id = params.get('id');
    if (id !== null) return this.showRecording(id, query);
    this.recordingView.hidden = true;
    this.form.element.hidden = false;
    this.resultsView.hidden = false;
    document.title = 'Recordings';
    if (this.loaded && sameQuery(this.loaded.query, query)) {
      this.recordingView.replaceChildren();
      // Back where the person was: the same scroll position, focus on the row they had opened.
      const row = this.lastOpened
        ? this.loaded.body.querySelector<HTMLAnchorElement>(`tr[data-id="${CSS.escape(this.lastOpened)}"] a`)
        : null;
      row?.focus({ preventScroll: true });
      scrollTo(0, this.scrollY);
      return;
    }
    const problems = checkQuery(query);
    this.form.showProblems(problems);
    if (problems.length > 0) {
      this.resultsView.replaceChildren();
      return;
    }
    await this.search(query);
  }

  private showAudit(params: URLSearchParams): void {
    this.generation++;
    this.renderNav('audit');
    this.form.element.hidden = true;
    this.resultsView.hidden = true;
    this.recordingView.hidden = true;
    this.auditPage.hidden = false;
    document.title = 'Audit log';
    if (!this.can('GET', '/audit')) {
      replace(
        this.auditPage,
        noticeBox(
          'error',
          'The audit log is for administrators.',
          'Your account may search, play and download recordings; ask an administrator for what you need from the log.',
        ),
      );
      return;
    }
    replace(
      this.auditPage,
      auditView({
        api: this.api,
        query: auditQueryFromUrl(params),
        link: this.link,
        search: (query) => this.navigate(auditQueryToUrl(query)),
      }),
    );
  }

  private async search(query: SearchQuery): Promise<void> {
    const generation = ++this.generation;
    const listing = new Listing(apiQueries(query), (params) => this.api.listRecordings(params));
    const { table, body } = resultsTable();
    const footer = h('div', { class: 'results-footer' });
    const heading = h('h2', null, describeQuery(query));
    replace(this.resultsView, heading, h('p', { class: 'loading' }, 'Searching…'));
    this.resultsView.setAttribute('aria-busy', 'true');
    let items: Recording[];
    try {
      items = await listing.next();
    } catch (error) {
      if (generation !== this.generation) return;
      this.resultsView.removeAttribute('aria-busy');
      replace(
        this.resultsView,
        heading,
        this.errorBox(error, () => void this.search(query)),
      );
      return;
    }
    if (generation !== this.generation) return;
    this.loaded = { query, listing, body, count: 0 };
    const exporter = exportControl<Recording>({
      what: 'recordings',
      noun: 'recordings',
      columns: RECORDING_COLUMNS,
      pages: (signal) => this.allPages(query, signal),
      describeError: (error) => {
        const { title, detail } = describeError(error);
        return `${title} ${detail}`;
      },
    });
    replace(this.resultsView, heading, h('div', { class: 'table-wrap' }, table), footer, exporter);
    this.resultsView.removeAttribute('aria-busy');
    this.appendRows(items, footer);
    this.reveal();
    performance.mark('vra:results-rendered');
  }

  /** Every recording of a search, 100 per request (the API's largest page), merged as on screen. */
  private async *allPages(query: SearchQuery, signal: AbortSignal): AsyncIterable<Recording[]> {
    const listing = new Listing(apiQueries(query), (params) => this.api.listRecordings(params, signal), 100);
    while (!listing.done) {
      const items = await listing.next();
      if (items.length > 0) yield items;
    }
  }

  private appendRows(items: Recording[], footer: HTMLElement): void {
    const loaded = this.loaded!;
    const base = Object.fromEntries(queryToUrl(loaded.query));
    for (const record of items) {
      const params = { ...base, id: record.recording_id };
      loaded.body.append(
        resultRow(record, `?${new URLSearchParams(params).toString()}`, () => this.navigate(params)),
      );
    }
    loaded.count += items.length;
    const count = loaded.count;
    if (count === 0 && loaded.listing.done) {
      replace(footer, h('p', { class: 'empty' }, 'No recordings match this search.'));
      return;
    }
    listFooter(
      footer,
      count,
      'end of results',
      loaded.listing.done ? undefined : () => this.loadMore(footer),
    );
  }

  private async loadMore(footer: HTMLElement): Promise<void> {
    const loaded = this.loaded!;
    const generation = this.generation;
    try {
      const items = await loaded.listing.next();
      if (generation !== this.generation) return;
      this.appendRows(items, footer);
      this.status.textContent = `${items.length} more recordings loaded`;
      performance.mark('vra:page-rendered');
    } catch (error) {
      if (generation !== this.generation) return;
      // A cursor the API refuses will be refused again: the way on is a fresh search.
      const restart = error instanceof ApiError && error.code === 'invalid_cursor';
      replace(
        footer,
        restart
          ? this.errorBox(error, () => void this.search(loaded.query), 'Search again')
          : this.errorBox(error, () => void this.loadMore(footer)),
      );
    }
  }

  private async showRecording(id: string, query: SearchQuery, outcome?: Node): Promise<void> {
    const generation = ++this.generation;
    this.lastOpened = id;
    this.form.element.hidden = true;
    this.resultsView.hidden = true;
    this.recordingView.hidden = false;
    const backParams = Object.fromEntries(queryToUrl(query));
    const back = h(
      'a',
      {
        class: 'back',
        href: `?${new URLSearchParams(backParams).toString()}`,
        onclick: (event) => {
          const e = event as MouseEvent;
          if (e.ctrlKey || e.metaKey || e.shiftKey) return;
          event.preventDefault();
          // Back to the list the person came from, as the browser's Back does; otherwise to the search.
          if (this.loaded && sameQuery(this.loaded.query, query)) history.back();
          else this.navigate(backParams);
        },
      },
      '← Back to results',
    );
    const title = h('h2', { tabindex: '-1' }, 'Recording');
    replace(this.recordingView, back, title, h('p', { class: 'loading' }, 'Loading…'));
    title.focus();
    document.title = `Recording ${id}`;
    if (!RECORDING_ID.test(id)) {
      replace(this.recordingView, back, title, this.notFound(id, 'This is not a recording id.'));
      return;
    }
    let record: Recording;
    try {
      record = await this.api.getRecording(id);
    } catch (error) {
      if (generation !== this.generation) return;
      const content =
        error instanceof ApiError && error.code === 'not_found'
          ? this.notFound(id, 'There is no recording with this id in the archive.')
          : this.errorBox(error, () => void this.showRecording(id, query));
      replace(this.recordingView, back, title, content);
      return;
    }
    if (generation !== this.generation) return;
    replace(title, 'Recording ', recordBadges(record));
    const notice = statusNotice(record);
    const player = h('div', { class: 'player' });
    const actions = actionsPanel({
      api: this.api,
      record,
      can: (method, path) => this.can(method, path),
      changed: (result) => {
        // The list behind this page may show the old state: search again when going back.
        this.loaded = undefined;
        void this.showRecording(id, query, result);
      },
    });
    const listened = this.can('GET', '/audit') ? listenedBy(this.api, id, this.link) : undefined;
    this.refreshListened = listened?.load;
    replace(
      this.recordingView,
      back,
      title,
      outcome ? h('div', { class: 'outcome' }, outcome) : null,
      notice ? noticeBox(notice.tone, notice.title, notice.detail, undefined, 'status') : null,
      player,
      actions,
      h(
        'dl',
        { class: 'facts' },
        recordFacts(record, (params, text, title) => this.link(params, text, title)).map(([k, v]) => [
          h('dt', null, k),
          h('dd', null, v),
        ]),
      ),
      listened?.element,
      h(
        'details',
        { class: 'raw' },
        h('summary', null, 'All fields'),
        h('pre', null, JSON.stringify(record, null, 2)),
      ),
    );
    (outcome ? this.recordingView.querySelector<HTMLElement>('.outcome [role]') : null)?.setAttribute(
      'tabindex',
      '-1',
    );
    title.focus();
    if (record.status === 'stored') await this.loadPlayer(record, player, generation);
    else replace(player, this.copyLinkButton(id));
    if (generation === this.generation) await listened?.load();
  }

  private async loadPlayer(record: Recording, player: HTMLElement, generation: number): Promise<void> {
    const id = record.recording_id;
    const audio = h('audio', { controls: true, preload: 'metadata', 'aria-label': `Recording ${id}` });
    const message = h('p', { class: 'player-message', role: 'status' });
    const download = h(
      'button',
      { type: 'button', class: 'primary', onclick: () => void this.download(id, message) },
      `Download .${typeof record.recording_format === 'string' ? record.recording_format : 'audio'}`,
    );
    replace(
      player,
      audio,
      h('div', { class: 'actions' }, download, this.copyLinkButton(id, message)),
      message,
    );
    let refreshed = false;
    // A presigned link lives PRESIGN_TTL_SECONDS; seeking after that fails: fetch a new one once.
    audio.addEventListener('error', () => {
      if (refreshed) {
        message.textContent = 'The audio could not be played. Download it instead, or reload the page.';
        return;
      }
      refreshed = true;
      const at = audio.currentTime;
      void this.api.audioLink(id).then(
        (link) => {
          this.lastPlayLink = { id, link };
          audio.src = link.url;
          audio.currentTime = at;
        },
        (error: unknown) => (message.textContent = describeError(error).title),
      );
    });
    try {
      const link = await this.playLink(id);
      if (generation !== this.generation) return;
      audio.src = link.url;
      if (typeof record.recording_duration_ms === 'number')
        audio.title = `Duration ${formatDuration(record.recording_duration_ms)}`;
    } catch (error) {
      if (generation !== this.generation) return;
      replace(
        player,
        this.errorBox(error, () => void this.loadPlayer(record, player, generation)),
      );
    }
  }

  /**
   * The link to play a recording: the one this page already got while it is valid for a few more
   * minutes (showing the page again after an action, or Back and forth, hands out no new link and so
   * adds no entry to the audit log), else a new one.
   */
  private async playLink(id: string): Promise<AudioLink> {
    const last = this.lastPlayLink;
    if (last?.id === id && Date.parse(last.link.expires_at) - Date.now() > 5 * 60_000) return last.link;
    const link = await this.api.audioLink(id);
    this.lastPlayLink = { id, link };
    return link;
  }

  private async download(id: string, message: HTMLElement): Promise<void> {
    message.textContent = 'Preparing the download…';
    try {
      const link = await this.api.audioLink(id, { download: true });
      // The link answers with Content-Disposition: attachment, so the page stays where it is.
      h('a', { href: link.url, download: link.filename ?? '' }).click();
      message.textContent = link.filename ? `Downloading ${link.filename}` : 'Downloading';
      await this.refreshListened?.();
    } catch (error) {
      const { title, detail } = describeError(error);
      message.textContent = `${title} ${detail}`;
    }
  }

  private copyLinkButton(id: string, message?: HTMLElement) {
    const url = `${location.origin}${location.pathname}?id=${encodeURIComponent(id)}`;
    const out = message ?? h('p', { class: 'player-message', role: 'status' });
    const button = h(
      'button',
      {
        type: 'button',
        onclick: () => {
          navigator.clipboard.writeText(url).then(
            () => (out.textContent = 'Link copied.'),
            () => {
              // No clipboard permission: show the link selected, ready for Ctrl-C.
              const field = h('input', {
                type: 'text',
                readonly: true,
                value: url,
                'aria-label': 'Link to this recording',
              });
              replace(out, field);
              field.select();
            },
          );
        },
      },
      'Copy link',
    );
    return message ? button : h('div', { class: 'actions' }, button, out);
  }

  private notFound(id: string, detail: string) {
    return noticeBox(
      'warn',
      'Not found.',
      detail,
      h('code', null, id.length > 140 ? `${id.slice(0, 140)}…` : id),
    );
  }

  private errorBox(error: unknown, retry: () => void, action = 'Try again') {
    const { title, detail } = describeError(error);
    return noticeBox('error', title, detail, h('button', { type: 'button', onclick: retry }, action));
  }
}

async function start(): Promise<void> {
  performance.mark('vra:script-start');
  const root = document.getElementById('app')!;
  let config: ConsoleConfig;
  try {
    config = configFromBlock(document.getElementById('config')?.textContent);
  } catch (error) {
    fail(root, 'The console is not configured.', (error as Error).message);
    return;
  }
  let session: Session | undefined;
  if (config.auth) {
    try {
      session = await signIn(config.auth);
      await session.credentials(); // a person without a group learns it here, not on the first search
    } catch (error) {
      fail(root, 'Sign-in did not work.', (error as Error).message);
      return;
    }
  }
  const auth = config.auth;
  const prefetched = window.vraPrefetched;
  // Signed in: the group the identity pool gives a role for. Locally: the group chosen in the header.
  const group = session ? effectiveGroup(session.groups) : localGroup();
  if (!group) {
    fail(root, 'Sign-in did not work.', 'Your account is in neither the reviewers nor the admins group.');
    return;
  }
  const api = createApi({
    baseUrl: config.apiUrl || location.origin,
    prefetched,
    ...(session ? {} : { headers: { [LOCAL_GROUP_HEADER]: group } }),
    sign:
      session && auth
        ? async (request) =>
            (
              await signRequest(request, {
                credentials: await session.credentials(),
                region: auth.region,
                service: 'execute-api',
              })
            ).headers
        : undefined,
  });
  const reveal = prefetched && prefetched.size > 0 ? hideUntilFirstPage(root) : () => undefined;
  await new ConsoleApp(root, api, config, session, group, reveal).route();
  reveal();
  // Only the first page shown at start may use them: anything later asks the API afresh.
  prefetched?.clear();
}

/** How long the app keeps the page hidden for the prefetched first page before it shows it without. */
const PREFETCH_WAIT_MS = 300;

/**
 * With the first page's responses already under way (prefetch.ts), the app builds the page while they
 * travel but keeps it out of layout until its rows are in: one layout and paint of the whole page, instead
 * of the empty page, then the rows (bench/console.ts measures it). "Loading the console…" stays on screen
 * meanwhile, and after PREFETCH_WAIT_MS the page shows anyway ("Searching…"). Returns `reveal`.
 */
function hideUntilFirstPage(root: HTMLElement): () => void {
  const loading = root.querySelector('.loading');
  if (loading) root.before(loading);
  root.hidden = true;
  const reveal = () => {
    clearTimeout(timer);
    root.hidden = false;
    loading?.remove();
  };
  const timer = setTimeout(reveal, PREFETCH_WAIT_MS);
  return reveal;
}

const LOCAL_GROUP = 'vra.localGroup';

/** The local stack's stand-in for a sign-in's group: administrator unless this tab chose reviewer. */
function localGroup(): ConsoleGroup {
  const chosen = sessionStorage.getItem(LOCAL_GROUP);
  return chosen !== null && isConsoleGroup(chosen) ? chosen : 'admins';
}

/** "Acting as" in the local console's header: a reviewer's view and rights, or an administrator's. */
function localGroupSwitch(current: ConsoleGroup): HTMLElement {
  const select = h(
    'select',
    {
      id: 'local-group',
      onchange: () => {
        sessionStorage.setItem(LOCAL_GROUP, select.value);
        location.reload();
      },
    },
    h('option', { value: 'admins' }, 'administrator'),
    h('option', { value: 'reviewers' }, 'reviewer'),
  );
  select.value = current;
  return h('label', { for: 'local-group', class: 'acting-as' }, 'acting as ', select);
}

function fail(root: HTMLElement, title: string, detail: string): void {
  replace(root, noticeBox('error', title, detail, h('a', { href: '' }, 'Reload')));
}

void start();
