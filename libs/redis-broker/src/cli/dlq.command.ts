import {
  BrokerCatalog,
  QueueDeadLetterService,
  StreamDeadLetterService,
  StreamInspector,
  type QueueDeadLetter,
  type RedisClient,
  type StreamDeadLetter,
} from '../index.js';
import { required, type CliCommand } from './cli-args.js';
import type { CliConnections } from './cli-connection.js';
import { NotFoundError, UsageError } from './cli-errors.js';
import { clip, isoTime, type CliOutput } from './cli-output.js';

type DeadTarget = { kind: 'queue'; queue: string } | { kind: 'stream'; stream: string; groups: string[] };

/** `dlq list|show|requeue|purge <queue|stream>`: dead letters of a queue, or of a stream's groups. */
export async function runDlq(command: CliCommand, connections: CliConnections, out: CliOutput): Promise<void> {
  const action = required(command.positionals, 1, 'dlq action (list, show, requeue or purge)');
  const name = required(command.positionals, 2, 'queue or stream name');
  if (!['list', 'show', 'requeue', 'purge'].includes(action)) throw new UsageError(`unknown dlq action "${action}"`);
  const { options } = command;
  if (action === 'purge' && !options.yes) throw new UsageError('dlq purge deletes every dead letter for good; add --yes to confirm');
  const client = await connections.connect('command');
  const target = await resolveTarget(client, connections, name, options.group);
  const queues = new QueueDeadLetterService(client, connections.options);
  const streams = new StreamDeadLetterService(client, connections.options);

  switch (action) {
    case 'list': {
      const entries =
        target.kind === 'queue'
          ? await queues.list(target.queue, { limit: options.limit })
          : (await Promise.all(target.groups.map((g) => streams.list(target.stream, g, { limit: options.limit }))))
              .flat()
              .sort((a, b) => b.failedAt - a.failedAt)
              .slice(0, options.limit);
      printList(out, target, entries);
      return;
    }
    case 'show': {
      const id = required(command.positionals, 3, 'dead-letter id');
      const entry = target.kind === 'queue' ? await queues.get(target.queue, id) : await findStreamEntry(streams, target, id);
      if (!entry) throw new NotFoundError(`no dead letter "${id}" in ${describe(target)}`);
      if (out.json) out.data(entry);
      else for (const [key, value] of Object.entries(entry)) out.line(`${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`);
      return;
    }
    case 'requeue': {
      const id = command.positionals[3];
      if (id === undefined && !options.all) throw new UsageError('dlq requeue needs a dead-letter id or --all');
      if (id !== undefined && options.all) throw new UsageError('give either a dead-letter id or --all, not both');
      let requeued: number;
      if (options.all) {
        requeued =
          target.kind === 'queue'
            ? await queues.requeueAll(target.queue)
            : (await Promise.all(target.groups.map((g) => streams.requeueAll(target.stream, g)))).reduce((a, b) => a + b, 0);
      } else {
        const found = target.kind === 'queue' ? await queues.requeue(target.queue, id) : await requeueStreamEntry(streams, target, id);
        if (!found) throw new NotFoundError(`no dead letter "${id}" in ${describe(target)}`);
        requeued = 1;
      }
      if (out.json) out.data({ requeued });
      else out.line(`requeued ${requeued} dead letter(s) of ${describe(target)}`);
      return;
    }
    default: {
      const purged =
        target.kind === 'queue'
          ? await queues.purge(target.queue)
          : (await Promise.all(target.groups.map((g) => streams.purge(target.stream, g)))).reduce((a, b) => a + b, 0);
      if (out.json) out.data({ purged });
      else out.line(`purged ${purged} dead letter(s) of ${describe(target)}`);
    }
  }
}

async function resolveTarget(client: RedisClient, connections: CliConnections, name: string, group: string | undefined): Promise<DeadTarget> {
  const kind = await new BrokerCatalog(client, connections.options.keyPrefix).kindOf(name);
  if (kind === null) throw new NotFoundError(`no queue or stream named "${name}"`);
  if (kind === 'queue') {
    if (group !== undefined) throw new UsageError(`"${name}" is a queue; --group applies to streams only`);
    return { kind, queue: name };
  }
  const groups = (await new StreamInspector(client, connections.options).stats(name)).groups.map((g) => g.group);
  if (group === undefined) return { kind, stream: name, groups };
  if (!groups.includes(group) && (await new StreamDeadLetterService(client, connections.options).count(name, group)) === 0) {
    throw new NotFoundError(`stream "${name}" has no group "${group}"`);
  }
  return { kind, stream: name, groups: [group] };
}

async function findStreamEntry(streams: StreamDeadLetterService, target: Extract<DeadTarget, { kind: 'stream' }>, id: string): Promise<StreamDeadLetter | null> {
  for (const group of target.groups) {
    const entry = await streams.get(target.stream, group, id);
    if (entry) return entry;
  }
  return null;
}

async function requeueStreamEntry(streams: StreamDeadLetterService, target: Extract<DeadTarget, { kind: 'stream' }>, id: string): Promise<boolean> {
  for (const group of target.groups) {
    if (await streams.requeue(target.stream, group, id)) return true;
  }
  return false;
}

function printList(out: CliOutput, target: DeadTarget, entries: (QueueDeadLetter | StreamDeadLetter)[]): void {
  if (out.json) {
    out.data(entries);
    return;
  }
  if (target.kind === 'queue') {
    out.table(
      ['ID', 'DIED', 'REASON', 'ATTEMPTS', 'ERROR', 'MESSAGE'],
      (entries as QueueDeadLetter[]).map((d) => [d.id, isoTime(d.failedAt), d.reason, d.attempts, clip(d.error, 40), clip(d.message)]),
      `no dead letter in ${describe(target)}`,
    );
    return;
  }
  out.table(
    ['ID', 'GROUP', 'ORIGINAL ID', 'DIED', 'REASON', 'DELIVERIES', 'ERROR', 'FIELDS'],
    (entries as StreamDeadLetter[]).map((d) => [d.id, d.group, d.originalId, isoTime(d.failedAt), d.reason, d.deliveries, clip(d.error, 40), clip(JSON.stringify(d.fields))]),
    `no dead letter in ${describe(target)}`,
  );
}

function describe(target: DeadTarget): string {
  return target.kind === 'queue' ? `queue "${target.queue}"` : `stream "${target.stream}" (groups: ${target.groups.join(', ') || 'none'})`;
}
