/**
 * The OpenTelemetry SDK as a spec sees it: spans kept in memory, metrics read on demand, and
 * an AsyncLocalStorage context manager so that "the active span" follows async calls (as the
 * Node SDK sets it up). The providers are handed to openTelemetry() directly; only the context
 * manager is global, registered for the describe blocks that ask and removed after them.
 */
import { context, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { openTelemetry } from '../../lib/otel/index.js';
import type { TaskStoreHooks } from '../../lib/index.js';

/** A reader that exports nowhere: collect() is the whole point. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface Telemetry {
  readonly hooks: TaskStoreHooks;
  readonly tracerProvider: BasicTracerProvider;
  /** The spans ended so far. */
  spans(): ReadableSpan[];
  /** One collection: every metric, by name. */
  collect(): Promise<Map<string, MetricData>>;
  shutdown(): Promise<void>;
}

export function createTelemetry(): Telemetry {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    hooks: openTelemetry({ tracerProvider, meterProvider }),
    tracerProvider,
    spans: () => exporter.getFinishedSpans(),
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw errors[0];
      return new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]));
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

let contextUsers = 0;

/** Registers the context manager for the tests of the enclosing describe block (counted: blocks may nest or follow each other). */
export function useAsyncContext(): void {
  before(function () {
    if (contextUsers === 0 && !context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())) {
      throw new Error('a global context manager is registered already');
    }
    contextUsers += 1;
  });
  after(function () {
    contextUsers -= 1;
    if (contextUsers === 0) context.disable();
  });
}

/** The data points of a metric whose attributes include `match`. */
export function pointsOf<T = number>(metric: MetricData | undefined, match: Attributes): DataPoint<T>[] {
  const points = (metric?.dataPoints ?? []) as DataPoint<T>[];
  return points.filter((point) => Object.entries(match).every(([key, value]) => point.attributes[key] === value));
}

export type { Histogram };
