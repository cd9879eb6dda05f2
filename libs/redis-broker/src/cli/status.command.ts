import { batchSettingText, BrokerCatalog, limitStateText } from '../index.js';
import type { CliCommand } from './cli-args.js';
import type { CliConnections } from './cli-connection.js';
import { NotFoundError } from './cli-errors.js';
import type { CliOutput } from './cli-output.js';

/**
 * `status [name ...]`: every queue and stream group of the broker's registry
 * and every subscribed channel, with counts. Names given are shown too: a
 * queue only plain clients or older versions wrote to is not in the registry.
 */
export async function runStatus(command: CliCommand, connections: CliConnections, out: CliOutput): Promise<void> {
  const client = await connections.connect('command');
  const catalog = new BrokerCatalog(client, connections.options.keyPrefix);
  const known: { queues: string[]; streams: string[] } = { queues: [], streams: [] };
  for (const name of command.positionals.slice(1)) {
    const kind = await catalog.kindOf(name);
    if (kind === null) throw new NotFoundError(`no queue or stream named "${name}"`);
    (kind === 'queue' ? known.queues : known.streams).push(name);
  }
  const overview = await catalog.overview(known);
  if (out.json) {
    out.data(overview);
    return;
  }
  out.table(
    ['QUEUE', 'WAITING', 'IN FLIGHT', 'DELAYED', 'DEAD', 'CONSUMERS', 'LIMITS', 'BATCH'],
    overview.queues.map((q) => [q.queue, q.waiting, q.processing, q.delayed, q.dead, q.consumers, limitStateText(q.limits), batchSettingText(q.batch)]),
    'no queue found',
  );
  out.line('');
  out.table(
    ['STREAM', 'LENGTH', 'GROUP', 'PENDING', 'LAG', 'CONSUMERS', 'IDLE MS', 'DEAD', 'LIMITS', 'BATCH'],
    overview.streams.flatMap((s) =>
      s.groups.length === 0
        ? [[s.stream, s.length, '-', '', '', '', '', '', '', '']]
        : s.groups.map((g) => [
            s.stream,
            s.length,
            g.group,
            g.pending,
            g.lag,
            g.consumers,
            g.consumerDetails.length === 0 ? '' : Math.min(...g.consumerDetails.map((c) => c.idleMs)),
            g.dead,
            limitStateText(g.limits),
            batchSettingText(g.batch),
          ]),
    ),
    'no stream found',
  );
  out.line('');
  out.table(
    ['CHANNEL', 'SUBSCRIBERS', 'KIND'],
    overview.channels.map((c) => [c.channel, c.subscribers, c.sharded ? 'sharded' : 'plain']),
    'no channel has a subscriber',
  );
  if (overview.patternSubscriptions > 0) out.line(`${overview.patternSubscriptions} pattern subscription(s) open.`);
}
