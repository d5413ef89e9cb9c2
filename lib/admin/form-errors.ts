/**
 * A form post the store or the dashboard refused, shown again on its own form: the status,
 * the message, and the field the message names (when it names one) so the page can put the
 * message beside that field and keep what the user typed.
 */
import { describeError } from './http.js';

export interface FormError {
  readonly status: number;
  readonly message: string;
  /** The form field the message is about, or null: then it goes at the top of the form. */
  readonly field: string | null;
}

/** Statuses of a refused input (the request itself was fine): the form is shown again. */
const FORM_STATUSES = new Set([400, 404, 409, 422]);

/**
 * The form field an error message names. Messages name fields as words or dotted paths
 * ("scheduleCreate: schedule.cron …", "recurrenceRule.startsAt is required …", "params is not
 * valid JSON"); `fields` maps such a word to the field's name in the form. Quoted input and
 * what follows "(got" are ignored, so a user's own text never picks the field.
 */
export function fieldNamed(message: string, fields: Readonly<Record<string, string>>): string | null {
  const text = (message.split('(got')[0] ?? '').replace(/'[^']*'/g, ' ');
  for (const token of text.match(/[A-Za-z_][\w.]*/g) ?? []) {
    for (const segment of token.split('.').reverse()) {
      if (Object.hasOwn(fields, segment)) return fields[segment] ?? null;
    }
  }
  return null;
}

/**
 * The error as a form error, or null when it is not about the input (a server error, a CSRF
 * failure, a body too large): those keep their error page. A NOT_FOUND from a form means
 * the input names something missing (an unknown alias): 422, the page itself exists.
 */
export function formErrorOf(error: unknown, fields: Readonly<Record<string, string>>): FormError | null {
  const { status, code, message } = describeError(error);
  if (!FORM_STATUSES.has(status) || code === 'CSRF') return null;
  return { status: status === 404 ? 422 : status, message, field: fieldNamed(message, fields) };
}

/** The text a form shows in a field: what the user sent, else the default. */
export function formValue(values: Readonly<Record<string, unknown>> | undefined, name: string, fallback = ''): string {
  const value = values?.[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;
}
