/**
 * A flow as an indented tree, for the CLI and the dashboard: each step under the parent it
 * waits for longest (its deepest parent; the later one on a tie), children in creation order,
 * so a step's depth is its longest path from a root. A step with more parents than that one
 * lists them all (`dependsOn`).
 */
import type { Flow } from '../foundation/flow-types.js';
import type { TaskQueueItem } from '../foundation/types.js';

export interface FlowTreeRow {
  readonly key: string;
  /** 0 for a step without parents. */
  readonly depth: number;
  readonly item: TaskQueueItem;
  readonly dependsOn: readonly string[];
}

export function flowTree(flow: Pick<Flow, 'items' | 'dependsOn'>): FlowTreeRow[] {
  // Creation order is parents-first: flowEnqueue writes the steps in that order.
  const keys = Object.keys(flow.items).sort((a, b) => compareIds(flow.items[a]!.id, flow.items[b]!.id));
  const depth = new Map<string, number>();
  const under = new Map<string, string[]>();
  const roots: string[] = [];
  for (const key of keys) {
    const parents = (flow.dependsOn[key] ?? []).filter((parent) => depth.has(parent));
    let treeParent: string | null = null;
    for (const parent of parents)
      if (treeParent === null || (depth.get(parent) as number) >= (depth.get(treeParent) as number)) treeParent = parent;
    depth.set(key, treeParent === null ? 0 : (depth.get(treeParent) as number) + 1);
    if (treeParent === null) roots.push(key);
    else under.set(treeParent, [...(under.get(treeParent) ?? []), key]);
  }
  const rows: FlowTreeRow[] = [];
  const visit = (key: string) => {
    rows.push({ key, depth: depth.get(key) as number, item: flow.items[key] as TaskQueueItem, dependsOn: flow.dependsOn[key] ?? [] });
    for (const child of under.get(key) ?? []) visit(child);
  };
  for (const root of roots) visit(root);
  return rows;
}

const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
