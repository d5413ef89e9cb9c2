/**
 * The flow methods of the TaskStore facade (see lib/store/store-facade.ts): enqueueing a flow
 * or a batch with a completion step, reading a flow, canceling it. See docs/flows.md.
 */
import type { BatchEnqueueInput, Flow, FlowEnqueueInput, FlowEnqueueOptions, FlowEnqueueResult } from '../foundation/flow-types.js';
import { BulkMethods } from '../queue/bulk-methods.js';

export abstract class FlowMethods extends BulkMethods {
  /**
   * Enqueues the steps of a flow in one transaction (or none): steps without parents are
   * queued, the others wait until every parent has finished. Bad graph → INVALID_ARGUMENT,
   * unknown alias → NOT_FOUND; nothing is written then.
   */
  flowEnqueue(flow: FlowEnqueueInput, options?: FlowEnqueueOptions): Promise<FlowEnqueueResult> {
    return this.run('flowEnqueue', () => this.parts.flows.enqueuer.enqueue('flowEnqueue', flow, options));
  }

  /** The flow, its status and its steps by key; null when unknown. */
  flowFindById(id: string): Promise<Flow | null> {
    return this.run('flowFindById', () => this.parts.flows.reader.findById(id));
  }

  /** Cancels the flow's steps that have not started (running ones finish); unknown flow → NOT_FOUND. */
  flowCancelById(id: string): Promise<Flow> {
    return this.run('flowCancelById', () => this.parts.flows.reader.cancelById(id));
  }

  /** A flow of independent tasks and a completion step (key 'onComplete') that runs once all of them ended, however. */
  batchEnqueue(batch: BatchEnqueueInput, options?: FlowEnqueueOptions): Promise<FlowEnqueueResult> {
    return this.run('batchEnqueue', () => this.parts.flows.enqueuer.batch('batchEnqueue', batch, options));
  }
}
