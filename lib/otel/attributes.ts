/**
 * The attribute names taskstore/otel sets, copied as strings from the OpenTelemetry messaging
 * semantic conventions (rather than imported from their incubating entry point), and
 * taskstore's own.
 */
export const ATTR = Object.freeze({
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  alias: 'taskstore.task.alias',
  attempt: 'taskstore.task.attempt',
  /** How an attempt ended: success, retry, failed, canceled, snoozed, lost, or error (processing itself failed). */
  status: 'taskstore.task.status',
});

/** The value of messaging.system. */
export const SYSTEM = 'taskstore';
