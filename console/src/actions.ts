import { ApiError, type Api, type EraseResult, type Recording } from './api.js';
import { h, replace } from './dom.js';
import { describeActor, formatIso } from './format.js';
import { describeActionError, REFERENCE_HELP, REFERENCE_PATTERN, type Action } from './outcomes.js';
import { noticeBox } from './views.js';

/**
 * What an administrator does on a recording's page: place or release a legal hold, erase it, retry a
 * failed one. A reviewer's page has none of it (and their role could not call the routes anyway). Every
 * outcome, refusals included, is said in words (outcomes.ts); nothing here asks anyone to run a command.
 */
export interface ActionsContext {
  api: Api;
  record: Recording;
  /** Whether the person's group may call this route (console/src/groups.ts). */
  can: (method: string, path: string) => boolean;
  /** The recording changed: show it afresh, with this outcome on top. */
  changed: (outcome: Node) => void;
}

/** The administrator actions for this record, or null when the person may do none of them. */
export function actionsPanel(ctx: ActionsContext): HTMLElement | null {
  const { record } = ctx;
  const id = record.recording_id;
  const path = `/recordings/${encodeURIComponent(id)}`;
  const held = record.legal_hold === true;
  const available: [Action, boolean][] = [
    ['hold', !held && record.status === 'stored' && ctx.can('PUT', `${path}/legal-hold`)],
    ['release', held && ctx.can('DELETE', `${path}/legal-hold`)],
    ['retry', record.status === 'failed' && ctx.can('POST', `${path}/retry`)],
    ['erase', record.status !== 'erased' && ctx.can('DELETE', path)],
  ];
  const actions = available.filter(([, ok]) => ok).map(([action]) => action);
  if (actions.length === 0) return null;

  const form = h('div', { class: 'action-form' });
  const buttons = h('div', { class: 'actions' });
  const open = (action: Action) => {
    for (const button of buttons.querySelectorAll('button')) button.setAttribute('aria-expanded', 'false');
    buttons.querySelector(`[data-action="${action}"]`)?.setAttribute('aria-expanded', 'true');
    replace(
      form,
      FORMS[action](ctx, () => replace(form)),
    );
    form.querySelector<HTMLElement>('input, button')?.focus();
  };
  const LABELS: Record<Action, string> = {
    hold: 'Place legal hold…',
    release: 'Release legal hold…',
    retry: 'Retry archiving…',
    erase: 'Erase…',
  };
  for (const action of actions)
    buttons.append(
      h(
        'button',
        {
          type: 'button',
          'data-action': action,
          'aria-expanded': 'false',
          class: action === 'erase' ? 'danger' : undefined,
          onclick: () => open(action),
        },
        LABELS[action],
      ),
    );
  return h(
    'section',
    { class: 'admin-actions', 'aria-labelledby': 'admin-actions-title' },
    h('h3', { id: 'admin-actions-title' }, 'Administrator actions'),
    buttons,
    form,
  );
}

type FormBuilder = (ctx: ActionsContext, close: () => void) => HTMLElement;

const FORMS: Record<Action, FormBuilder> = {
  hold: (ctx, close) =>
    referenceForm(ctx, close, {
      action: 'hold',
      intro:
        'A legal hold keeps the audio exactly as it is: retention, erasure and the delete at Vobiz leave it alone until the hold is released.',
      submit: 'Place legal hold',
      run: async (reason) => {
        const result = await ctx.api.placeHold(ctx.record.recording_id, reason);
        return result.already_held
          ? noticeBox(
              'info',
              'Already on legal hold.',
              `It has been held since ${formatIso(result.legal_hold_at)} by ${describeActor(result.legal_hold_by).label}; nothing changed.`,
              undefined,
              'status',
            )
          : noticeBox(
              'info',
              'Legal hold placed.',
              `Nothing removes this audio until the hold is released (reference ${reason}).`,
              undefined,
              'status',
            );
      },
    }),
  release: (ctx, close) =>
    referenceForm(ctx, close, {
      action: 'release',
      intro:
        'Releasing the hold lets retention, erasure and the delete at Vobiz apply to this recording again.',
      submit: 'Release legal hold',
      run: async (reason) => {
        const result = await ctx.api.releaseHold(ctx.record.recording_id, reason);
        return result.was_held === false
          ? noticeBox('info', 'It was not on legal hold.', 'Nothing changed.', undefined, 'status')
          : noticeBox(
              'info',
              'Legal hold released.',
              `Retention and erasure apply again (reference ${reason}).`,
              undefined,
              'status',
            );
      },
    }),
  retry: (ctx, close) =>
    actionForm(ctx, close, {
      action: 'retry',
      submit: submitButton('Retry archiving'),
      body: [
        h(
          'p',
          null,
          'Archiving this recording failed. Once the cause is fixed (for example Vobiz credentials, or the recording became available), queue it again.',
        ),
      ],
      run: async () => {
        await ctx.api.retry(ctx.record.recording_id);
        return noticeBox(
          'info',
          'Queued again.',
          'The archive fetches this recording from Vobiz again, with a full set of attempts, within about a minute. Its status is pending until then.',
          undefined,
          'status',
        );
      },
    }),
  erase: (ctx, close) => {
    const id = ctx.record.recording_id;
    const reference = referenceInput('erase-reason');
    const alsoVobiz = h('input', { id: 'erase-vobiz', name: 'also_vobiz', type: 'checkbox', checked: true });
    const confirm = h('input', {
      id: 'erase-confirm',
      name: 'confirm',
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
    });
    const submit = submitButton('Erase permanently', 'danger');
    submit.disabled = true;
    const update = () =>
      (submit.disabled = !(
        REFERENCE_PATTERN.test(reference.input.value.trim()) && confirm.value.trim() === id
      ));
    reference.input.addEventListener('input', update);
    confirm.addEventListener('input', update);
    return actionForm(ctx, close, {
      action: 'erase',
      submit,
      ready: () => reference.check() && confirm.value.trim() === id,
      run: async () =>
        erasedNotice(
          await ctx.api.erase(id, { reason: reference.input.value.trim(), alsoVobiz: alsoVobiz.checked }),
          alsoVobiz.checked,
        ),
      body: [
        h(
          'p',
          { class: 'warning' },
          h('strong', null, 'Erasure cannot be undone. '),
          'Every version of the audio is deleted and the record becomes a tombstone that keeps only the id and when, by whom and why it was erased.',
        ),
        ctx.record.legal_hold === true
          ? noticeBox(
              'warn',
              'On legal hold.',
              'The archive refuses to erase a held recording; release the hold first if the case allows it.',
            )
          : null,
        reference.element,
        h(
          'div',
          { class: 'field check' },
          h('label', { for: 'erase-vobiz' }, alsoVobiz, ' Also delete the recording at Vobiz'),
          h(
            'p',
            { class: 'hint' },
            'Vobiz keeps its own copy until it is deleted there. Leave this on for a data-protection request.',
          ),
        ),
        h(
          'div',
          { class: 'field' },
          h('label', { for: 'erase-confirm' }, 'Type the recording id to confirm: ', h('code', null, id)),
          confirm,
        ),
      ],
    });
  },
};

function erasedNotice(result: EraseResult, askedVobiz: boolean): HTMLElement {
  const vobiz =
    result.vobiz === 'deleted'
      ? "Vobiz's copy was deleted."
      : result.vobiz === 'absent'
        ? 'Vobiz no longer had a copy.'
        : result.vobiz_deleted_at
          ? `Vobiz's copy had been deleted on ${formatIso(result.vobiz_deleted_at)}.`
          : askedVobiz
            ? ''
            : "Vobiz's copy was kept, as asked.";
  const versions = `${result.versions_deleted} audio version${result.versions_deleted === 1 ? '' : 's'} deleted.`;
  return noticeBox(
    'info',
    result.already_erased ? 'It was already erased.' : 'Erased.',
    `${result.already_erased ? '' : `${versions} `}${vobiz} The tombstone records ${formatIso(result.erased_at)}, ${describeActor(result.erased_by).label} and reference ${result.erasure_reason}.`.replace(
      /\s+/g,
      ' ',
    ),
    undefined,
    'status',
  );
}

function referenceInput(id: string) {
  const input = h('input', {
    id,
    name: 'reason',
    type: 'text',
    autocomplete: 'off',
    spellcheck: 'false',
    maxlength: 64,
    required: true,
    placeholder: 'DSR-2026-0142',
    'aria-describedby': `${id}-help`,
  });
  const help = h('p', { id: `${id}-help`, class: 'hint' }, REFERENCE_HELP);
  return {
    input,
    element: h(
      'div',
      { class: 'field' },
      h('label', { for: id }, 'Reference (ticket or request id)'),
      input,
      help,
    ),
    /** Whether the value is a reference; if not, the help says so in red. */
    check(): boolean {
      const ok = REFERENCE_PATTERN.test(input.value.trim());
      help.classList.toggle('invalid', !ok);
      input.setAttribute('aria-invalid', String(!ok));
      if (!ok) input.focus();
      return ok;
    },
  };
}

function referenceForm(
  ctx: ActionsContext,
  close: () => void,
  spec: { action: Action; intro: string; submit: string; run: (reason: string) => Promise<HTMLElement> },
): HTMLElement {
  const reference = referenceInput(`${spec.action}-reason`);
  return actionForm(ctx, close, {
    action: spec.action,
    submit: submitButton(spec.submit),
    body: [h('p', null, spec.intro), reference.element],
    ready: () => reference.check(),
    run: () => spec.run(reference.input.value.trim()),
  });
}

/** An action's form: its fields, the submit and Cancel buttons, and where a refusal is said. */
function actionForm(
  ctx: ActionsContext,
  close: () => void,
  spec: {
    action: Action;
    submit: HTMLButtonElement;
    body: (Node | null)[];
    /** Checks the fields (and says what is wrong) before anything is sent. */
    ready?: () => boolean;
    run: () => Promise<HTMLElement>;
  },
): HTMLElement {
  const message = h('div', { class: 'action-message' });
  return h(
    'form',
    {
      class: 'action',
      'data-form': spec.action,
      onsubmit: (event) => {
        event.preventDefault();
        if (spec.ready && !spec.ready()) return;
        void perform(spec.submit, message, spec.action, ctx, spec.run);
      },
    },
    spec.body,
    h('div', { class: 'actions' }, spec.submit, h('button', { type: 'button', onclick: close }, 'Cancel')),
    message,
  );
}

function submitButton(text: string, tone: 'primary' | 'danger' = 'primary'): HTMLButtonElement {
  return h('button', { type: 'submit', class: tone }, text);
}

/** Runs an action: busy while it runs; on success the page shows the record afresh with the outcome. */
async function perform(
  submit: HTMLButtonElement,
  message: HTMLElement,
  action: Action,
  ctx: ActionsContext,
  run: () => Promise<HTMLElement>,
): Promise<void> {
  const label = submit.textContent;
  submit.disabled = true;
  submit.textContent = 'Working…';
  replace(message);
  try {
    ctx.changed(await run());
    return;
  } catch (error) {
    const { title, detail } = describeActionError(action, error);
    replace(message, noticeBox('error', title, detail));
    const wait = error instanceof ApiError ? error.retryAfterSeconds : undefined;
    if (wait !== undefined && error instanceof ApiError && error.code === 'archiving') {
      countdown(submit, label ?? '', wait);
      return;
    }
  }
  submit.disabled = false;
  submit.textContent = label;
}

/** Keeps the button disabled, counting down, until the conflict has passed. */
function countdown(submit: HTMLButtonElement, label: string, seconds: number): void {
  let left = Math.ceil(seconds);
  const tick = () => {
    if (left <= 0) {
      submit.disabled = false;
      submit.textContent = label;
      return;
    }
    submit.textContent = `Try again in ${left} s`;
    left--;
    setTimeout(tick, 1000);
  };
  tick();
}
