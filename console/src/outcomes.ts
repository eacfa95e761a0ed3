import { ApiError, describeError } from './api.js';

/** An administrator's action on a recording, and what its outcomes are called (no DOM: unit-tested). */
export type Action = 'hold' | 'release' | 'erase' | 'retry';

/**
 * A reference for the audit trail, as the lifecycle API will accept it: a ticket or request id such as
 * `DSR-2026-0142` or `JIRA:PRIV-17` (letters, digits and `. _ : / # -`, at most 64).
 */
export const REFERENCE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}$/;
export const REFERENCE_HELP =
  'A ticket or request id, like DSR-2026-0142: letters, digits and . _ : / # - (up to 64).';

const VERB: Record<Action, string> = {
  hold: 'place the legal hold',
  release: 'release the legal hold',
  erase: 'erase this recording',
  retry: 'retry this recording',
};

/** An action's refusal or failure in a support lead's words. */
export function describeActionError(action: Action, error: unknown): { title: string; detail: string } {
  if (!(error instanceof ApiError)) return describeError(error);
  switch (error.code) {
    case 'legal_hold':
      return {
        title: 'Not erased: the recording is on legal hold.',
        detail:
          'Nothing was deleted, and the refused attempt is in the audit log. Release the hold first if the case allows it.',
      };
    case 'archiving':
      return {
        title: 'Not erased yet: the archive is saving this recording right now.',
        detail: `Nothing was deleted. Try again in ${formatWait(error.retryAfterSeconds ?? 60)}, when the archiving attempt is over.`,
      };
    case 'not_stored':
      return {
        title: 'Only archived audio can be put on legal hold.',
        detail: `${error.message}.`,
      };
    case 'no_audio':
      return {
        title: 'There is no audio file to hold.',
        detail:
          'The record says the audio is archived but storage has no file for it. Ask whoever runs the archive to look into it.',
      };
    case 'not_failed':
      return { title: 'Nothing to retry.', detail: `${capitalize(error.message)}.` };
    case 'not_found':
      return { title: 'Not found.', detail: 'This recording is no longer in the archive.' };
    case 'validation_error':
      return { title: `The archive did not accept this (${VERB[action]}).`, detail: error.message };
    case 'forbidden':
      return {
        title: 'You are not allowed to do this.',
        detail: `Your account's group may not ${VERB[action]}. Ask an administrator.`,
      };
    default:
      return describeError(error);
  }
}

/** `45 seconds`, `about 9 minutes`. */
export function formatWait(seconds: number): string {
  return seconds < 90 ? `${Math.ceil(seconds)} seconds` : `about ${Math.round(seconds / 60)} minutes`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
