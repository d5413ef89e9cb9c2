/**
 * The metrics table, `<queue table>_metrics`: per minute and queue, how many attempts ended
 * how, and histograms of their wait and run times, as workers record them (lib/queue/
 * queue-metrics.ts). The dashboard's throughput and timing charts read it instead of the
 * queue table. Idempotent: an existing table is left alone.
 */
import type { Migration } from './migration.js';

export const metricsTable = (taskQueue: string): string => `${taskQueue}_metrics`;

export const queueMetrics: Migration = {
  name: '007-queue-metrics',

  async up(knex, { tables, adapter }) {
    const table = metricsTable(tables.taskQueue);
    if (await knex.schema.hasTable(table)) return false;
    await knex.schema.createTable(table, (builder) => {
      adapter.configureTable(builder);
      builder.datetime('minute_start', { precision: 3, useTz: true }).notNullable();
      builder.string('queue_name', 100).notNullable();
      // 'success' | 'failed' | 'canceled' | 'retried' (le_ms 0), or 'wait' | 'run' (a histogram bucket).
      builder.string('metric', 20).notNullable();
      // A histogram bucket's upper bound in milliseconds (HISTOGRAM_BOUNDS_MS; the last is "more"); 0 for counts.
      builder.integer('le_ms').notNullable();
      builder.bigInteger('count').notNullable();
      builder.primary(['minute_start', 'queue_name', 'metric', 'le_ms']);
    });
    return true;
  },

  async down(knex, { tables }) {
    await knex.schema.dropTableIfExists(metricsTable(tables.taskQueue));
  },
};
