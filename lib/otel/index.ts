/**
 * taskstore/otel: OpenTelemetry tracing and metrics for a store, as hooks
 * (`TaskStore.open({ hooks: [openTelemetry()] })`). Needs `@opentelemetry/api`, an optional
 * peer dependency; nothing else of taskstore loads it. See docs/observability.md.
 */
export { openTelemetry, INSTRUMENTATION_NAME, type OpenTelemetryOptions } from './open-telemetry.js';
export { formatTraceContext, parseTraceContext } from './trace-context.js';
export { ATTR as ATTRIBUTES, SYSTEM } from './attributes.js';
