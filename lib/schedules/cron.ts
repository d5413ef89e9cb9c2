/**
 * Cron expressions for schedules, parsed and evaluated by cron-parser (never by hand).
 * Five fields (minute precision) or six (a leading seconds field), evaluated in an IANA zone.
 */
import { CronExpressionParser } from 'cron-parser';
import { TaskStoreError } from '../foundation/errors.js';
import { assertNonEmptyString } from '../foundation/validate.js';

const FIELD_NAMES_5 = 'minute hour day-of-month month day-of-week';
/** cron-parser's `H` picks a random value per parse, which would move the schedule on every call. */
const HASHED_VALUE = /(^|[\s,])H/i;

const invalidCron = (message: string, cause?: unknown): TaskStoreError =>
  new TaskStoreError('INVALID_ARGUMENT', message, cause === undefined ? undefined : { cause });

/**
 * Checks a cron expression and returns it with its whitespace normalised.
 * Accepts 5 fields (`minute hour day-of-month month day-of-week`) or 6 (a leading seconds
 * field). Rejects `@daily`-style aliases (write `0 0 * * *`), the random `H` value, and
 * anything cron-parser rejects, with INVALID_ARGUMENT naming `field`.
 */
export function validateCron(expr: unknown, field = 'cron'): string {
  assertNonEmptyString(expr, field, 255);
  const fields = expr.trim().split(/\s+/);
  const normalised = fields.join(' ');
  if (fields.length !== 5 && fields.length !== 6) {
    throw invalidCron(
      `${field} must have 5 fields (${FIELD_NAMES_5}) or 6 (a leading seconds field) ` +
        `(got ${fields.length} field${fields.length === 1 ? '' : 's'}: '${normalised}')`,
    );
  }
  if (HASHED_VALUE.test(normalised)) {
    throw invalidCron(`${field} must not use the random 'H' value (got '${normalised}')`);
  }
  try {
    CronExpressionParser.parse(normalised, { currentDate: new Date(0), tz: 'UTC' }).next();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidCron(`${field} is not a valid cron expression: ${reason} (got '${normalised}')`, error);
  }
  return normalised;
}

/**
 * The first time strictly after `now` at which `expr` (already validated) fires, evaluated in
 * `timezone`, or null when cron-parser finds none within its search limit.
 */
export function nextCronRunAt(expr: string, now: Date, timezone: string): Date | null {
  const expression = CronExpressionParser.parse(expr, { currentDate: now, tz: timezone });
  try {
    return expression.next().toDate();
  } catch (error) {
    if (error instanceof Error && /loop limit exceeded/i.test(error.message)) return null; // none found
    throw error;
  }
}
