/**
 * The W3C trace context a task stores (its `trace_context` column): the `traceparent` of the
 * enqueue's send span, then a space and its `tracestate` when it has one. Written and read
 * here without a propagator, so whatever propagators an application configures, the task
 * carries W3C trace context.
 */
import { createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import { MAX_TRACE_CONTEXT_LENGTH } from '../foundation/hook-types.js';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** `traceparent[ tracestate]` of a valid span context; null for an invalid one (no tracing). The tracestate is left out when both would not fit the column. */
export function formatTraceContext(spanContext: SpanContext): string | null {
  if (!isSpanContextValid(spanContext)) return null;
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
  const tracestate = spanContext.traceState?.serialize() ?? '';
  const both = `${traceparent} ${tracestate}`;
  return tracestate === '' || both.length > MAX_TRACE_CONTEXT_LENGTH ? traceparent : both;
}

/** The remote span context a stored trace context names; null when there is none or it does not parse. */
export function parseTraceContext(stored: string | null): SpanContext | null {
  if (stored === null || stored === '') return null;
  const space = stored.indexOf(' ');
  const traceparent = space < 0 ? stored : stored.slice(0, space);
  const match = TRACEPARENT.exec(traceparent);
  if (!match || match[1] === 'ff') return null;
  const [, , traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  const tracestate = space < 0 ? '' : stored.slice(space + 1);
  const spanContext: SpanContext = {
    traceId,
    spanId,
    traceFlags: parseInt(flags, 16),
    isRemote: true,
    ...(tracestate === '' ? {} : { traceState: createTraceState(tracestate) }),
  };
  return isSpanContextValid(spanContext) ? spanContext : null;
}
