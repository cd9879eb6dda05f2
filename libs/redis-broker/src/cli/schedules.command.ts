import { ScheduleStore } from '../internal.js';
import type { CliCommand } from './cli-args.js';
import type { CliConnections } from './cli-connection.js';
import { UsageError } from './cli-errors.js';
import type { CliOutput } from './cli-output.js';

/** `schedules`: every schedule under the key prefix, with its target, timing, next run, last run and runs so far. */
export async function runSchedules(command: CliCommand, connections: CliConnections, out: CliOutput): Promise<void> {
  if (command.positionals.length > 1) throw new UsageError('schedules takes no argument');
  const client = await connections.connect('command');
  const schedules = await new ScheduleStore(client, connections.options.keyPrefix).list();
  if (out.json) {
    out.data({ schedules });
    return;
  }
  const at = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
  out.table(
    ['SCHEDULE', 'TARGET', 'WHEN', 'NEXT RUN', 'LAST RUN', 'RUNS'],
    schedules.map((s) => [
      s.id,
      'queue' in s.target ? `queue ${s.target.queue}` : `stream ${s.target.stream}`,
      s.definition.cron === undefined ? `every ${s.definition.every} ms` : `${s.definition.cron} (${s.definition.timeZone ?? 'UTC'})`,
      s.nextRunAt === null ? 'ended' : at(s.nextRunAt),
      at(s.lastRunAt),
      s.runs,
    ]),
    'no schedule',
  );
}
