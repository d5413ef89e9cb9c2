/**
 * Schedules: CRUD, queries and soft delete. A schedule names a task definition, a queue,
 * parameters and a timing. While it is active, next_run_at says when a ScheduleRunner
 * enqueues next (lib/schedules/schedule-firing.ts); every write that activates or re-times a schedule
 * plans that instant anew, and any other status clears it.
 */
import { TaskStoreError, invalidArgument, notFound } from '../foundation/errors.js';
import { newId } from '../foundation/ids.js';
import { decodeParameters } from '../foundation/params.js';
import { applyFilters, applyPaging, countOf, orderColumns, validateQuery, type QuerySpec } from '../store/query.js';
import {
  DEFAULT_TIMEZONE,
  EDITABLE_KEYS,
  READ_ONLY_KEYS,
  checkFields,
  checkTiming,
  encodeRule,
  firstRunAt,
  timingKey,
  toRow,
  toSchedule,
  type CheckedFields,
} from './schedule-fields.js';
import { laterThan } from '../foundation/time.js';
import type { StoreContext } from '../store/store-context.js';
import type { TaskDefinitions } from '../definitions/task-definitions.js';
import { DEFAULT_QUEUE } from '../queue/task-queue.js';
import {
  SCHEDULE_ORDER_BY,
  SCHEDULE_STATUSES,
  type Schedule,
  type ScheduleCreateInput,
  type ScheduleQuery,
  type ScheduleUpdateInput,
  type TaskDefinition,
} from '../foundation/types.js';
import { assertKnownKeys, assertNonEmptyString, assertPlainObject } from '../foundation/validate.js';

const SCHEDULE_QUERY: QuerySpec = {
  name: 'schedule',
  statuses: SCHEDULE_STATUSES,
  orderBy: orderColumns(SCHEDULE_ORDER_BY),
  filters: {
    name: (builder, name) => {
      builder.where('name', name);
    },
    queueName: (builder, queueName) => {
      builder.where('queue_name', queueName);
    },
    taskDefinitionId: (builder, id) => {
      builder.where('task_definition_id', id);
    },
  },
};

/** An update is written only over the version it read; a runner's claim in between makes it read again. */
const UPDATE_ATTEMPTS = 5;

export class Schedules {
  readonly #ctx: StoreContext;
  readonly #definitions: TaskDefinitions;
  readonly #onChange: () => void;

  /** `onChange` runs after a create, update or restore (schedule runners look again). */
  constructor(context: StoreContext, definitions: TaskDefinitions, onChange: () => void = () => {}) {
    this.#ctx = context;
    this.#definitions = definitions;
    this.#onChange = onChange;
  }

  get #table() {
    return this.#ctx.knex(this.#ctx.tables.schedule);
  }

  async create(input: ScheduleCreateInput): Promise<Schedule> {
    return this.#changed(await this.#create(input));
  }

  async #create(input: ScheduleCreateInput): Promise<Schedule> {
    const name = 'scheduleCreate: schedule';
    assertPlainObject(input, name);
    assertKnownKeys(input, EDITABLE_KEYS, name);
    if (input.name === undefined) throw invalidArgument(`${name}.name is required`);
    const fields = checkFields(input, name, this.#ctx.limits);
    if (fields.taskDefinitionId === undefined && fields.alias === undefined) {
      throw invalidArgument(`${name}: taskDefinitionId or alias is required (the task definition to enqueue)`);
    }
    const timing = checkTiming({
      recurrenceRule: input.recurrenceRule ?? null,
      cron: input.cron ?? null,
      timezone: input.timezone ?? DEFAULT_TIMEZONE,
    });
    const definition = await this.#definitionOf(fields);
    const now = this.#ctx.now();
    const schedule: Schedule = {
      id: newId(),
      name: fields.name as string,
      description: fields.description ?? '',
      status: fields.status ?? 'active',
      taskDefinitionId: definition.id,
      queueName: fields.queueName ?? DEFAULT_QUEUE,
      parameters: decodeParameters(fields.parameters ?? '{}'),
      ...timing,
      endAt: fields.endAt ?? null,
      executionCount: 0,
      maxExecutionCount: fields.maxExecutionCount ?? 0,
      lastRunAt: null,
      nextRunAt: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
      softDeletedAt: null,
    };
    if (schedule.status === 'active') plan(schedule, now);
    await this.#table.insert(toRow(schedule));
    return schedule;
  }

  async findById(id: string, options: { includeSoftDeleted?: boolean } = {}): Promise<Schedule | null> {
    assertNonEmptyString(id, 'id');
    const builder = this.#table.where('id', id);
    if (!options.includeSoftDeleted) builder.whereNull('soft_deleted_at');
    const row = await builder.first();
    return row ? toSchedule(row) : null;
  }

  async list(query?: ScheduleQuery): Promise<Schedule[]> {
    const q = validateQuery(query, SCHEDULE_QUERY);
    const rows = await applyPaging(applyFilters(this.#table.select('*'), q, SCHEDULE_QUERY), q, SCHEDULE_QUERY);
    return rows.map(toSchedule);
  }

  async count(query?: ScheduleQuery): Promise<number> {
    const q = validateQuery(query, SCHEDULE_QUERY);
    return countOf(await applyFilters(this.#table.count({ count: '*' }), q, SCHEDULE_QUERY));
  }

  /**
   * Changes the given fields. Activating, re-timing (rule, cron, timezone, endAt) or changing
   * the definition's limits plans nextRunAt anew from now; leaving 'active' clears it.
   */
  async update(input: ScheduleUpdateInput): Promise<Schedule> {
    return this.#changed(await this.#update(input));
  }

  async #update(input: ScheduleUpdateInput): Promise<Schedule> {
    const name = 'scheduleUpdate: schedule';
    assertPlainObject(input, name);
    assertNonEmptyString(input.id, `${name}.id`);
    assertKnownKeys(input, [...EDITABLE_KEYS, ...READ_ONLY_KEYS], name);
    const fields = checkFields(input, name, this.#ctx.limits);
    const definition = fields.taskDefinitionId !== undefined || fields.alias !== undefined ? await this.#definitionOf(fields) : null;
    for (let attempt = 1; ; attempt++) {
      const current = await this.findById(input.id, { includeSoftDeleted: true });
      if (!current) throw notFound(`schedule '${input.id}' not found`);
      const next = merge(current, input, fields, definition, this.#ctx.now());
      const written = await this.#table.where({ id: current.id, updated_at: current.updatedAt }).update({
        name: next.name,
        description: next.description,
        status: next.status,
        task_definition_id: next.taskDefinitionId,
        queue_name: next.queueName,
        parameters: JSON.stringify(next.parameters),
        recurrence_rule: encodeRule(next.recurrenceRule),
        cron: next.cron,
        timezone: next.timezone,
        end_at: next.endAt,
        max_execution_count: next.maxExecutionCount,
        next_run_at: next.nextRunAt,
        last_error: next.lastError,
        updated_at: next.updatedAt,
      });
      if (written === 1) return next;
      if (attempt >= UPDATE_ATTEMPTS) {
        throw new TaskStoreError('INVALID_STATE', `schedule '${input.id}' kept changing while it was being updated; try again`);
      }
    }
  }

  /** Soft delete: hidden from finds, lists and runners. Idempotent. */
  async softDeleteById(id: string): Promise<void> {
    assertNonEmptyString(id, 'id');
    const current = await this.findById(id, { includeSoftDeleted: true });
    if (!current) throw notFound(`schedule '${id}' not found`);
    if (current.softDeletedAt) return;
    const now = this.#ctx.now();
    await this.#table
      .where('id', id)
      .whereNull('soft_deleted_at')
      .update({ soft_deleted_at: now, updated_at: laterThan(current.updatedAt, now) });
  }

  /** Undoes a soft delete. An active schedule whose nextRunAt passed meanwhile fires once, as after downtime. */
  async restoreById(id: string): Promise<Schedule> {
    return this.#changed(await this.#restoreById(id));
  }

  async #restoreById(id: string): Promise<Schedule> {
    assertNonEmptyString(id, 'id');
    const current = await this.findById(id, { includeSoftDeleted: true });
    if (!current) throw notFound(`schedule '${id}' not found`);
    if (!current.softDeletedAt) return current;
    const updatedAt = laterThan(current.updatedAt, this.#ctx.now());
    await this.#table.where('id', id).update({ soft_deleted_at: null, updated_at: updatedAt });
    return { ...current, softDeletedAt: null, updatedAt };
  }

  #changed(schedule: Schedule): Schedule {
    this.#onChange();
    return schedule;
  }

  async deleteById(id: string): Promise<void> {
    assertNonEmptyString(id, 'id');
    if ((await this.#table.where('id', id).delete()) === 0) throw notFound(`schedule '${id}' not found`);
  }

  /** A live definition by id or alias, else NOT_FOUND. */
  async #definitionOf(fields: CheckedFields): Promise<TaskDefinition> {
    if (fields.taskDefinitionId !== undefined) {
      const definition = await this.#definitions.findById(fields.taskDefinitionId);
      if (!definition) throw notFound(`task definition '${fields.taskDefinitionId}' not found`);
      return definition;
    }
    const definition = await this.#definitions.findByAlias(fields.alias as string);
    if (!definition) throw notFound(`no task definition with alias '${fields.alias}'`);
    return definition;
  }
}

/** Sets nextRunAt of a schedule becoming active; one that can never run again is completed instead. */
function plan(schedule: Schedule, now: Date): void {
  schedule.nextRunAt = firstRunAt(schedule, now);
  if (schedule.nextRunAt === null) schedule.status = 'completed';
}

/** The schedule after an update: given fields over the current ones, then planned. */
function merge(
  current: Schedule,
  input: ScheduleUpdateInput,
  fields: CheckedFields,
  definition: TaskDefinition | null,
  now: Date,
): Schedule {
  // Giving a cron replaces the rule and vice versa; null clears explicitly.
  const timing = checkTiming({
    recurrenceRule: input.recurrenceRule !== undefined ? input.recurrenceRule : input.cron != null ? null : current.recurrenceRule,
    cron: input.cron !== undefined ? input.cron : input.recurrenceRule != null ? null : current.cron,
    timezone: input.timezone !== undefined ? (input.timezone ?? DEFAULT_TIMEZONE) : current.timezone,
  });
  const next: Schedule = {
    ...current,
    name: fields.name ?? current.name,
    description: fields.description ?? current.description,
    status: fields.status ?? current.status,
    taskDefinitionId: definition?.id ?? current.taskDefinitionId,
    queueName: fields.queueName ?? current.queueName,
    parameters: fields.parameters !== undefined ? decodeParameters(fields.parameters) : current.parameters,
    ...timing,
    endAt: fields.endAt !== undefined ? fields.endAt : current.endAt,
    maxExecutionCount: fields.maxExecutionCount ?? current.maxExecutionCount,
    updatedAt: laterThan(current.updatedAt, now),
  };
  if (next.status !== 'active') {
    next.nextRunAt = null;
    return next;
  }
  const activated = current.status !== 'active';
  if (activated) next.lastError = null;
  const retimed = timingKey(current, current.endAt) !== timingKey(next, next.endAt);
  if (activated || retimed || current.nextRunAt === null) plan(next, now);
  else if (next.maxExecutionCount > 0 && next.executionCount >= next.maxExecutionCount) {
    next.status = 'completed';
    next.nextRunAt = null;
  }
  return next;
}
