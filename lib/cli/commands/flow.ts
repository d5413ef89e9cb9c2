/** `taskstore flow <id>`: a flow's status and its steps as an indented tree; `--cancel` cancels what has not started. */
import { flowTree } from '../../flows/flow-tree.js';
import { NotFoundError } from '../args.js';
import { helpRequested, parseCommand, required, withStore, type Command } from '../command.js';
import { formatDate, formatTable, line, printJson } from '../output.js';

const FLOW_USAGE = `usage: taskstore flow <id> [--cancel]

  prints a flow (docs/flows.md): its status, and its steps as a tree, each under the parent
  it waits for longest (a step with more parents names them all)
  --cancel  first cancel the flow's steps that have not started (running ones finish)`;

export const flowCommand: Command = {
  name: 'flow',
  summary: 'show a flow and the tree of its steps',
  usage: FLOW_USAGE,
  async run(context) {
    const parsed = parseCommand(context.args, { cancel: { type: 'boolean' } }, 1);
    if (helpRequested(context, parsed, FLOW_USAGE)) return 0;
    const id = required(parsed.positionals, 0, 'the flow id');
    await withStore(context, parsed.string('database'), async (store) => {
      const flow = parsed.flag('cancel')
        ? await store.flowCancelById(id).catch((error: unknown) => {
            throw (error as { code?: string }).code === 'NOT_FOUND' ? new NotFoundError(`no flow with id '${id}'`) : error;
          })
        : await store.flowFindById(id);
      if (!flow) throw new NotFoundError(`no flow with id '${id}'`);
      if (context.out.json) return printJson(context.out, flow);
      const rows = flowTree(flow);
      const out = context.out.stdout;
      line(
        out,
        `flow ${flow.id}: ${flow.status} (${rows.length} step${rows.length === 1 ? '' : 's'}, queue ${flow.queueName}, created ${formatDate(flow.createdAt)} UTC)`,
      );
      line(out);
      line(
        out,
        formatTable(
          ['STEP', 'ALIAS', 'STATUS', 'ATTEMPTS', 'TASK', 'AFTER'],
          rows.map((row) => [
            `${'  '.repeat(row.depth)}${row.key}`,
            String(row.item.parameters['task_alias'] ?? '?'),
            row.item.status,
            `${row.item.attempts}/${row.item.maxAttempts}`,
            row.item.id,
            row.dependsOn.length > 1 ? row.dependsOn.join(', ') : '',
          ]),
        ),
      );
    });
    return 0;
  },
};
