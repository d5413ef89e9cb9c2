/**
 * Task definitions: CRUD, queries and soft delete. Aliases are identified by their
 * normalised form (case, '-', '_' and spaces ignored), unique among live definitions.
 */
import type { Knex } from 'knex';
import { TaskStoreError, invalidArgument, notFound } from '../foundation/errors.js';
import { assertAlias, normalizeAlias } from './handler.js';
import { newId } from '../foundation/ids.js';
import { applyFilters, applyPaging, countOf, orderColumns, validateQuery, type QuerySpec } from '../store/query.js';
import { toTaskDefinition } from '../store/rows.js';
import { storableText } from '../foundation/text.js';
import { laterThan } from '../foundation/time.js';
import type { StoreContext } from '../store/store-context.js';
import {
  TASK_DEFINITION_ORDER_BY,
  TASK_DEFINITION_STATUSES,
  type TaskDefinition,
  type TaskDefinitionCreateInput,
  type TaskDefinitionQuery,
  type TaskDefinitionUpdateInput,
} from '../foundation/types.js';
import {
  MAX_ATTEMPTS_LIMIT,
  assertInteger,
  assertKnownKeys,
  assertNonEmptyString,
  assertOneOf,
  assertOptionalString,
  assertPlainObject,
} from '../foundation/validate.js';

const DEFINITION_QUERY: QuerySpec = {
  name: 'task definition',
  statuses: TASK_DEFINITION_STATUSES,
  orderBy: orderColumns(TASK_DEFINITION_ORDER_BY),
  filters: {
    alias: (builder, alias) => {
      const key = normalizeAlias(alias);
      // Live rows carry the key; soft-deleted ones (alias_key NULL) are matched on the fly.
      builder.where((where) =>
        where
          .where('alias_key', key)
          .orWhere((deleted) =>
            deleted.whereNull('alias_key').whereRaw(`LOWER(REPLACE(REPLACE(REPLACE(alias, '-', ''), '_', ''), ' ', '')) = ?`, [key]),
          ),
      );
    },
  },
};

const EDITABLE = ['alias', 'title', 'description', 'memo', 'status', 'maxAttempts'] as const;

function validateFields(input: Record<string, unknown>, name: string): void {
  if (input['alias'] !== undefined) assertAlias(input['alias'], `${name}.alias`);
  assertOptionalString(input['title'], `${name}.title`, 255);
  assertOptionalString(input['description'], `${name}.description`, 10_000);
  assertOptionalString(input['memo'], `${name}.memo`, 10_000);
  if (input['status'] !== undefined) assertOneOf(input['status'], TASK_DEFINITION_STATUSES, `${name}.status`);
  if (input['maxAttempts'] !== undefined) assertInteger(input['maxAttempts'], `${name}.maxAttempts`, 1, MAX_ATTEMPTS_LIMIT);
}

/** The input with its free text (title, description, memo) as it will be stored: U+0000 and lone surrogates replaced. */
function withStorableText<T extends object>(input: T): T {
  const copy = { ...input } as Record<string, unknown>;
  for (const key of ['title', 'description', 'memo']) if (typeof copy[key] === 'string') copy[key] = storableText(copy[key]);
  return copy as T;
}

export class TaskDefinitions {
  readonly #ctx: StoreContext;
  readonly #onChange: () => void;

  /** `onChange` runs after every update, soft delete, restore or delete, failed ones too (the processing cache forgets). */
  constructor(context: StoreContext, onChange: () => void = () => {}) {
    this.#ctx = context;
    this.#onChange = onChange;
  }

  get #table() {
    return this.#ctx.knex(this.#ctx.tables.taskDefinition);
  }

  async create(input: TaskDefinitionCreateInput): Promise<TaskDefinition> {
    assertPlainObject(input, 'taskDefinitionCreate: definition');
    assertKnownKeys(input, EDITABLE, 'taskDefinitionCreate: definition');
    if (input.alias === undefined) throw invalidArgument('taskDefinitionCreate: definition.alias is required');
    validateFields(input, 'taskDefinitionCreate: definition');
    input = withStorableText(input);
    const now = this.#ctx.now();
    const definition: TaskDefinition = {
      id: newId(),
      alias: input.alias,
      title: input.title ?? input.alias,
      description: input.description ?? '',
      memo: input.memo ?? '',
      status: input.status ?? 'active',
      maxAttempts: input.maxAttempts ?? 1,
      createdAt: now,
      updatedAt: now,
      softDeletedAt: null,
    };
    await this.#guardAlias(definition.alias, () =>
      this.#table.insert({
        id: definition.id,
        alias: definition.alias,
        alias_key: normalizeAlias(definition.alias),
        title: definition.title,
        description: definition.description,
        memo: definition.memo,
        status: definition.status,
        max_attempts: definition.maxAttempts,
        created_at: now,
        updated_at: now,
        soft_deleted_at: null,
      }),
    );
    return definition;
  }

  async findById(id: string, options: { includeSoftDeleted?: boolean } = {}): Promise<TaskDefinition | null> {
    assertNonEmptyString(id, 'id');
    const builder = this.#table.where('id', id);
    if (!options.includeSoftDeleted) builder.whereNull('soft_deleted_at');
    const row = await builder.first();
    return row ? toTaskDefinition(row) : null;
  }

  /** A live definition by alias; `trx` reads inside the caller's transaction. */
  async findByAlias(alias: string, trx?: Knex.Transaction): Promise<TaskDefinition | null> {
    assertNonEmptyString(alias, 'alias', 100);
    const row = await (trx ?? this.#ctx.knex)(this.#ctx.tables.taskDefinition).where('alias_key', normalizeAlias(alias)).first();
    return row ? toTaskDefinition(row) : null;
  }

  async list(query?: TaskDefinitionQuery): Promise<TaskDefinition[]> {
    const q = validateQuery(query, DEFINITION_QUERY);
    const rows = await applyPaging(applyFilters(this.#table.select('*'), q, DEFINITION_QUERY), q, DEFINITION_QUERY);
    return rows.map(toTaskDefinition);
  }

  async count(query?: TaskDefinitionQuery): Promise<number> {
    const q = validateQuery(query, DEFINITION_QUERY);
    return countOf(await applyFilters(this.#table.count({ count: '*' }), q, DEFINITION_QUERY));
  }

  update(input: TaskDefinitionUpdateInput): Promise<TaskDefinition> {
    return this.#changing(this.#update(input));
  }

  async #update(input: TaskDefinitionUpdateInput): Promise<TaskDefinition> {
    assertPlainObject(input, 'taskDefinitionUpdate: definition');
    assertNonEmptyString(input.id, 'taskDefinitionUpdate: definition.id');
    const known = ['id', 'createdAt', 'updatedAt', 'softDeletedAt', ...EDITABLE];
    assertKnownKeys(input, known, 'taskDefinitionUpdate: definition');
    validateFields(input, 'taskDefinitionUpdate: definition');
    input = withStorableText(input);
    const current = await this.findById(input.id, { includeSoftDeleted: true });
    if (!current) throw notFound(`task definition '${input.id}' not found`);
    const next: TaskDefinition = { ...current, updatedAt: laterThan(current.updatedAt, this.#ctx.now()) };
    for (const key of EDITABLE) if (input[key] !== undefined) Object.assign(next, { [key]: input[key] });
    await this.#guardAlias(next.alias, () =>
      this.#table.where('id', current.id).update({
        alias: next.alias,
        alias_key: current.softDeletedAt ? null : normalizeAlias(next.alias),
        title: next.title,
        description: next.description,
        memo: next.memo,
        status: next.status,
        max_attempts: next.maxAttempts,
        updated_at: next.updatedAt,
      }),
    );
    return next;
  }

  /** Soft delete: hidden from finds and lists, alias free for a new definition. Idempotent. */
  softDeleteById(id: string): Promise<void> {
    return this.#changing(this.#softDeleteById(id));
  }

  async #softDeleteById(id: string): Promise<void> {
    assertNonEmptyString(id, 'id');
    const now = this.#ctx.now();
    const changed = await this.#table.where('id', id).whereNull('soft_deleted_at').update({
      soft_deleted_at: now,
      updated_at: now,
      alias_key: null,
    });
    if (changed === 0 && !(await this.#exists(id))) throw notFound(`task definition '${id}' not found`);
  }

  /** Undoes a soft delete. ALREADY_EXISTS when a live definition holds the alias meanwhile. */
  restoreById(id: string): Promise<TaskDefinition> {
    return this.#changing(this.#restoreById(id));
  }

  async #restoreById(id: string): Promise<TaskDefinition> {
    assertNonEmptyString(id, 'id');
    const current = await this.findById(id, { includeSoftDeleted: true });
    if (!current) throw notFound(`task definition '${id}' not found`);
    if (!current.softDeletedAt) return current;
    const updatedAt = laterThan(current.updatedAt, this.#ctx.now());
    await this.#guardAlias(current.alias, () =>
      this.#table.where('id', id).update({ soft_deleted_at: null, updated_at: updatedAt, alias_key: normalizeAlias(current.alias) }),
    );
    return { ...current, softDeletedAt: null, updatedAt };
  }

  deleteById(id: string): Promise<void> {
    return this.#changing(this.#deleteById(id));
  }

  async #deleteById(id: string): Promise<void> {
    assertNonEmptyString(id, 'id');
    const deleted = await this.#table.where('id', id).delete();
    if (deleted === 0) throw notFound(`task definition '${id}' not found`);
  }

  async #changing<T>(write: Promise<T>): Promise<T> {
    try {
      return await write;
    } finally {
      this.#onChange();
    }
  }

  async #exists(id: string): Promise<boolean> {
    return (await this.#table.where('id', id).first('id')) !== undefined;
  }

  async #guardAlias<T>(alias: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (this.#ctx.adapter.isUniqueViolation(error)) {
        throw new TaskStoreError('ALREADY_EXISTS', `a live task definition with alias '${alias}' already exists`, { cause: error });
      }
      throw error;
    }
  }
}
