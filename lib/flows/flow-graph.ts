/**
 * Checks a flow before anything is written: the input's shape, each step's fields, keys
 * (present, bounded, storable, unique), dependencies (known keys, none twice) and the graph
 * (no cycle). Resolves the steps in an order where every parent comes before its children.
 */
import { invalidArgument } from '../foundation/errors.js';
import {
  MAX_FLOW_STEPS,
  ON_PARENT_FAILURE,
  type FlowEnqueueInput,
  type FlowStepInput,
  type OnParentFailure,
} from '../foundation/flow-types.js';
import type { JsonObject } from '../foundation/types.js';
import {
  MAX_ATTEMPTS_LIMIT,
  MAX_DELAY_MS,
  assertInteger,
  assertKnownKeys,
  assertNonEmptyString,
  assertNonNegativeNumber,
  assertOneOf,
  assertPlainObject,
  assertStoredDate,
} from '../foundation/validate.js';
import { PRIORITY_LIMIT, resolveQueueName } from '../queue/task-queue.js';

/** A step as checked: defaults applied, parents known, deduplicated nothing (duplicates are refused). */
export interface FlowStep {
  readonly key: string;
  readonly alias: string;
  readonly params: JsonObject;
  readonly dependsOn: readonly string[];
  readonly onParentFailure: OnParentFailure;
  readonly queueName: string;
  readonly priority: number;
  readonly maxAttempts: number | undefined;
  readonly delayMs: number | undefined;
  readonly runAt: Date | undefined;
  /** Where the step came from in the input, for error messages. */
  readonly where: string;
}

const FLOW_KEYS = ['queueName', 'steps'];
const STEP_KEYS = ['key', 'alias', 'params', 'dependsOn', 'onParentFailure', 'queueName', 'priority', 'maxAttempts', 'delayMs', 'runAt'];
/** A step key's longest form (the flow_key column). */
export const MAX_STEP_KEY_LENGTH = 100;

/** The flow's default queue and its steps, parents first. Throws INVALID_ARGUMENT naming the first problem. */
export function checkFlow(input: unknown, name: string): { queueName: string; steps: FlowStep[] } {
  assertPlainObject(input, name);
  assertKnownKeys(input, FLOW_KEYS, name);
  const flow = input as unknown as FlowEnqueueInput;
  const queueName = resolveQueueName(flow.queueName, `${name}.queueName`);
  const list = flow.steps as unknown;
  if (!Array.isArray(list) || list.length === 0) throw invalidArgument(`${name}.steps must be a non-empty array of steps`);
  if (list.length > MAX_FLOW_STEPS) throw invalidArgument(`${name}.steps may hold at most ${MAX_FLOW_STEPS} steps (got ${list.length})`);
  const steps = Array.from(list, (step, index) => {
    if (!(index in list)) throw invalidArgument(`${name}.steps[${index}] is missing (a hole in a sparse array)`);
    return checkStep(step, `${name}.steps[${index}]`, queueName);
  });
  const byKey = new Map<string, FlowStep>();
  for (const step of steps) {
    const earlier = byKey.get(step.key);
    if (earlier) throw invalidArgument(`${step.where}.key '${step.key}' is already the key of ${earlier.where}`);
    byKey.set(step.key, step);
  }
  for (const step of steps) {
    for (const parent of step.dependsOn) {
      if (!byKey.has(parent)) throw invalidArgument(`${step.where}.dependsOn names '${parent}', which is no step of this flow`);
    }
  }
  return { queueName, steps: parentsFirst(steps, name) };
}

function checkStep(input: unknown, where: string, flowQueue: string): FlowStep {
  assertPlainObject(input, where);
  assertKnownKeys(input, STEP_KEYS, where);
  const step = input as unknown as FlowStepInput;
  assertNonEmptyString(step.key, `${where}.key`, MAX_STEP_KEY_LENGTH);
  assertNonEmptyString(step.alias, `${where}.alias`, 100);
  if (step.params !== undefined) assertPlainObject(step.params, `${where}.params`);
  const dependsOn = (step.dependsOn ?? []) as unknown;
  if (!Array.isArray(dependsOn)) throw invalidArgument(`${where}.dependsOn must be an array of step keys`);
  const seen = new Set<string>();
  dependsOn.forEach((parent: unknown, index) => {
    assertNonEmptyString(parent, `${where}.dependsOn[${index}]`, MAX_STEP_KEY_LENGTH);
    if (seen.has(parent)) throw invalidArgument(`${where}.dependsOn names '${parent}' twice`);
    seen.add(parent);
  });
  if (step.onParentFailure !== undefined) assertOneOf(step.onParentFailure, ON_PARENT_FAILURE, `${where}.onParentFailure`);
  if (step.priority !== undefined) assertInteger(step.priority, `${where}.priority`, -PRIORITY_LIMIT, PRIORITY_LIMIT);
  if (step.maxAttempts !== undefined) assertInteger(step.maxAttempts, `${where}.maxAttempts`, 1, MAX_ATTEMPTS_LIMIT);
  if (step.delayMs !== undefined) assertNonNegativeNumber(step.delayMs, `${where}.delayMs`, MAX_DELAY_MS);
  if (step.runAt !== undefined) assertStoredDate(step.runAt, `${where}.runAt`);
  if (step.delayMs !== undefined && step.runAt !== undefined) throw invalidArgument(`${where}: give delayMs or runAt, not both`);
  return {
    key: step.key,
    alias: step.alias,
    params: step.params ?? {},
    dependsOn: dependsOn as string[],
    onParentFailure: step.onParentFailure ?? 'fail',
    queueName: step.queueName === undefined ? flowQueue : resolveQueueName(step.queueName, `${where}.queueName`),
    priority: step.priority ?? 0,
    maxAttempts: step.maxAttempts,
    delayMs: step.delayMs,
    runAt: step.runAt,
    where,
  };
}

/** Kahn's order: parents before children, the input's order among equals; what is left over lies on a cycle. */
function parentsFirst(steps: FlowStep[], name: string): FlowStep[] {
  const waiting = new Map(steps.map((step) => [step.key, step.dependsOn.length]));
  const children = new Map<string, string[]>(steps.map((step) => [step.key, []]));
  for (const step of steps) for (const parent of step.dependsOn) children.get(parent)?.push(step.key);
  const byKey = new Map(steps.map((step) => [step.key, step]));
  const ready = steps.filter((step) => step.dependsOn.length === 0).map((step) => step.key);
  const ordered: FlowStep[] = [];
  for (let next = 0; next < ready.length; next++) {
    const key = ready[next] as string;
    ordered.push(byKey.get(key) as FlowStep);
    for (const child of children.get(key) ?? []) {
      const left = (waiting.get(child) as number) - 1;
      waiting.set(child, left);
      if (left === 0) ready.push(child);
    }
  }
  if (ordered.length < steps.length) {
    const stuck = steps.filter((step) => (waiting.get(step.key) as number) > 0).map((step) => `'${step.key}'`);
    const shown = stuck.length > 10 ? `${stuck.slice(0, 10).join(', ')} and ${stuck.length - 10} more` : stuck.join(', ');
    throw invalidArgument(`${name}.steps: the dependencies form a cycle (steps on or after it: ${shown})`);
  }
  return ordered;
}
