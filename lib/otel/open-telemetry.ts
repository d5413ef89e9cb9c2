/**
 * `openTelemetry()`: the hooks that trace and measure a store with the OpenTelemetry API
 * (docs/observability.md). Each enqueue call is a producer span `send <queue>` whose context
 * the tasks store; each attempt is a consumer span `process <queue>` that links to it.
 */
import {
  SpanKind,
  SpanStatusCode,
  metrics,
  trace,
  type Attributes,
  type Link,
  type MeterProvider,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { invalidArgument } from '../foundation/errors.js';
import type {
  EnqueueHookInfo,
  EnqueueRun,
  HookedStore,
  ProcessHookInfo,
  ProcessOutcome,
  ProcessRun,
  TaskStoreHooks,
} from '../foundation/hook-types.js';
import type { TaskQueueItem } from '../foundation/queue-item-types.js';
import { assertKnownKeys, assertPlainObject } from '../foundation/validate.js';
import { ATTR, SYSTEM } from './attributes.js';
import { TaskMetrics } from './otel-metrics.js';
import { formatTraceContext, parseTraceContext } from './trace-context.js';

/** The instrumentation scope of taskstore's spans and metrics. */
export const INSTRUMENTATION_NAME = 'taskstore';

export interface OpenTelemetryOptions {
  /**
   * Where spans go.
   * @defaultValue the global tracer provider (the one the Node SDK registers)
   */
  tracerProvider?: TracerProvider;
  /**
   * Where metrics go. The global one is read when the first store opens with these hooks:
   * start the SDK before TaskStore.open.
   * @defaultValue the global meter provider
   */
  meterProvider?: MeterProvider;
}

/** Outcomes that are a failure of the task: the span's status is ERROR and the error is recorded. */
const FAILED: ReadonlySet<string> = new Set(['retry', 'failed']);

class OpenTelemetryHooks implements TaskStoreHooks {
  readonly #tracer: Tracer;
  readonly #meterProvider: MeterProvider | undefined;
  #metrics: TaskMetrics | null = null;

  constructor(options: OpenTelemetryOptions) {
    this.#tracer = (options.tracerProvider ?? trace).getTracer(INSTRUMENTATION_NAME);
    this.#meterProvider = options.meterProvider;
  }

  /** Made on first use, so that a global meter provider registered before the store opened is the one used. */
  #measure(): TaskMetrics {
    this.#metrics ??= new TaskMetrics((this.#meterProvider ?? metrics.getMeterProvider()).getMeter(INSTRUMENTATION_NAME));
    return this.#metrics;
  }

  opened(store: HookedStore): void {
    this.#measure().watch(store);
  }

  closed(store: HookedStore): void {
    this.#metrics?.unwatch(store);
  }

  aroundEnqueue(info: EnqueueHookInfo, run: EnqueueRun): Promise<readonly TaskQueueItem[]> {
    const attributes: Attributes = {
      [ATTR.system]: SYSTEM,
      [ATTR.operationType]: 'send',
      [ATTR.operationName]: 'send',
      [ATTR.destination]: info.queueName,
    };
    if (info.alias !== null) attributes[ATTR.alias] = info.alias;
    if (info.count > 1) attributes[ATTR.batchCount] = info.count;
    return this.#tracer.startActiveSpan(`send ${info.queueName}`, { kind: SpanKind.PRODUCER, attributes }, async (span) => {
      try {
        const items = await run(formatTraceContext(span.spanContext()));
        if (items.length === 1) span.setAttribute(ATTR.messageId, (items[0] as TaskQueueItem).id);
        return items;
      } catch (error) {
        failed(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  aroundProcess({ item, alias }: ProcessHookInfo, run: ProcessRun): Promise<ProcessOutcome> {
    const measure = this.#measure();
    measure.waited(item.queueName, item.availableAt, item.startedAt);
    const sent = parseTraceContext(item.traceContext);
    const links: Link[] = sent ? [{ context: sent }] : [];
    const attributes: Attributes = {
      [ATTR.system]: SYSTEM,
      [ATTR.operationType]: 'process',
      [ATTR.operationName]: 'process',
      [ATTR.destination]: item.queueName,
      [ATTR.messageId]: item.id,
      [ATTR.alias]: alias,
      [ATTR.attempt]: item.attempts,
    };
    return this.#tracer.startActiveSpan(`process ${item.queueName}`, { kind: SpanKind.CONSUMER, attributes, links }, async (span) => {
      const start = performance.now();
      let status = 'error';
      try {
        const outcome = await run();
        status = outcome.status;
        span.setAttribute(ATTR.status, status);
        if (FAILED.has(status)) failed(span, outcome.error ?? new Error(`task ${status}`));
        return outcome;
      } catch (error) {
        span.setAttribute(ATTR.status, status);
        failed(span, error);
        throw error;
      } finally {
        span.end();
        measure.processed(item.queueName, status, (performance.now() - start) / 1000);
      }
    });
  }
}

/** Status ERROR with the error's message, the exception recorded as an event, and error.type. */
function failed(span: Span, thrown: unknown): void {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  span.recordException(error);
  span.setAttribute(ATTR.errorType, error.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

/**
 * Hooks for TaskStore.open that trace enqueues and processing and record task metrics with
 * the OpenTelemetry API (`@opentelemetry/api`, an optional peer dependency of taskstore).
 * Without an SDK registered they cost little and record nothing.
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): TaskStoreHooks {
  assertPlainObject(options, 'openTelemetry: options');
  assertKnownKeys(options, ['tracerProvider', 'meterProvider'], 'openTelemetry: options');
  const { tracerProvider, meterProvider } = options;
  if (tracerProvider !== undefined && typeof (tracerProvider as Partial<TracerProvider> | null)?.getTracer !== 'function') {
    throw invalidArgument('openTelemetry: options.tracerProvider must be a TracerProvider (with getTracer)');
  }
  if (meterProvider !== undefined && typeof (meterProvider as Partial<MeterProvider> | null)?.getMeter !== 'function') {
    throw invalidArgument('openTelemetry: options.meterProvider must be a MeterProvider (with getMeter)');
  }
  return new OpenTelemetryHooks(options);
}
