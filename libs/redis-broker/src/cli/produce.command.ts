import { BrokerClient } from '../index.js';
import { required, type CliCommand } from './cli-args.js';
import type { CliConnections } from './cli-connection.js';
import { UsageError } from './cli-errors.js';
import type { CliOutput } from './cli-output.js';

/** `enqueue <queue> <json>`: one message on a list queue, exactly as `BrokerClient.enqueue` writes it. */
export async function runEnqueue(command: CliCommand, connections: CliConnections, out: CliOutput): Promise<void> {
  const queue = required(command.positionals, 1, 'queue name');
  const text = required(command.positionals, 2, 'JSON message');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the message is not JSON (${error instanceof Error ? error.message : String(error)}); quote it, e.g. '{"id":1}'`);
  }
  const client = new BrokerClient(await connections.connect('command'), connections.options, connections.factory);
  const delay = command.options.delay;
  const id = await client.enqueue(queue, payload, delay === undefined ? undefined : { delayMs: delay });
  if (out.json) out.data({ queue, enqueued: id !== null, id });
  else out.line(id !== null ? `enqueued ${id} on ${queue}${delay ? ` (due in ${delay} ms)` : ''}` : `skipped on ${queue} (duplicate)`);
}

/** `append <stream> field=value ...`: one entry on a stream; prints its id. */
export async function runAppend(command: CliCommand, connections: CliConnections, out: CliOutput): Promise<void> {
  const stream = required(command.positionals, 1, 'stream name');
  const pairs = command.positionals.slice(2);
  if (pairs.length === 0) throw new UsageError('append needs at least one field=value');
  const fields: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`"${pair}" is not field=value`);
    fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const client = new BrokerClient(await connections.connect('command'), connections.options, connections.factory);
  const id = await client.append(stream, fields);
  if (out.json) out.data({ stream, id });
  else out.line(id);
}

/** `publish <channel> <message> [--sharded]`: the message string as it is, through `BrokerClient.publish`. */
export async function runPublish(command: CliCommand, connections: CliConnections, out: CliOutput): Promise<void> {
  const channel = required(command.positionals, 1, 'channel name');
  const message = required(command.positionals, 2, 'message');
  const client = new BrokerClient(await connections.connect('command'), connections.options, connections.factory);
  const receivers = await client.publish(channel, message, { sharded: command.options.sharded });
  if (out.json) out.data({ channel, receivers });
  else out.line(`published to ${receivers} subscriber(s) of ${channel}`);
}
