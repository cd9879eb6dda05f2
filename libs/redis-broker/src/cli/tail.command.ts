import { channelName, StreamKeys, type RedisClient } from '../index.js';
import { required, type CliCommand } from './cli-args.js';
import type { CliConnections } from './cli-connection.js';
import type { CliOutput } from './cli-output.js';

/** Longest one `XREAD BLOCK` waits, so a stop request is seen at least this often. */
const BLOCK_MS = 2_000;
const READ_COUNT = 100;

/**
 * `tail <stream|channel>`: prints what arrives until `signal` aborts (Ctrl-C)
 * or `--count` items were printed. A name that is a stream is followed with
 * `XREAD BLOCK` from its current end (or `--from <id>`); anything else, or
 * any name with `--channel` (`--sharded`: `SSUBSCRIBE`), is subscribed to as a
 * pub/sub channel. Each
 * loop owns its connection; stopping disconnects it, which ends a pending
 * blocking read at once.
 */
export async function runTail(command: CliCommand, connections: CliConnections, out: CliOutput, signal: AbortSignal): Promise<void> {
  const name = required(command.positionals, 1, 'stream or channel name');
  const probe = await connections.connect('command');
  const key = new StreamKeys(name, connections.options.keyPrefix).stream;
  const isStream = !command.options.channel && !command.options.sharded && (await probe.type(key)) === 'stream';
  const reader = await connections.connect(isStream ? 'blocking' : 'subscriber');
  const stop = (): void => reader.disconnect();
  signal.addEventListener('abort', stop, { once: true });
  try {
    if (isStream) await tailStream(reader, probe, key, name, command, out, signal);
    else await tailChannel(reader, channelName(connections.options.keyPrefix, name), name, command, out, signal);
  } catch (error) {
    // Disconnecting on Ctrl-C rejects the pending read: that is the stop path, not a failure.
    if (!signal.aborted) throw error;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

async function tailStream(
  reader: RedisClient,
  probe: RedisClient,
  key: string,
  name: string,
  command: CliCommand,
  out: CliOutput,
  signal: AbortSignal,
): Promise<void> {
  // `$` would mean "after the newest entry at each call" and skip entries
  // added between two reads, so start from the id that is newest now.
  let last = command.options.from ?? String(toRecord(await probe.xinfo('STREAM', key))['last-generated-id']);
  let printed = 0;
  if (!out.json) out.note(`following stream ${name} after ${last} (Ctrl-C to stop)`);
  while (!signal.aborted) {
    const reply = await reader.xread('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', key, last);
    for (const [, entries] of reply ?? []) {
      for (const [id, flat] of entries) {
        last = id;
        const fields: Record<string, string> = {};
        for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
        if (out.json) out.data({ stream: name, id, fields });
        else out.line(`${id} ${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(' ')}`);
        if (command.options.count !== undefined && ++printed >= command.options.count) return;
      }
    }
  }
}

async function tailChannel(
  reader: RedisClient,
  channel: string,
  name: string,
  command: CliCommand,
  out: CliOutput,
  signal: AbortSignal,
): Promise<void> {
  let printed = 0;
  await new Promise<void>((resolve, reject) => {
    const done = (): void => resolve();
    signal.addEventListener('abort', done, { once: true });
    reader.on('end', () => (signal.aborted ? resolve() : reject(new Error(`connection to Redis lost while following channel ${name}`))));
    const sharded = command.options.sharded;
    reader.on(sharded ? 'smessage' : 'message', (from: string, message: string) => {
      // Messages already in the socket buffer still arrive after the last one counted.
      if (from !== channel || (command.options.count !== undefined && printed >= command.options.count)) return;
      if (out.json) out.data({ channel: name, message });
      else out.line(message);
      if (command.options.count !== undefined && ++printed >= command.options.count) resolve();
    });
    (sharded ? reader.ssubscribe(channel) : reader.subscribe(channel)).then(
      () => void (out.json ? undefined : out.note(`subscribed to ${sharded ? 'sharded ' : ''}channel ${name} (Ctrl-C to stop)`)),
      reject,
    );
  });
}

/** An `XINFO` reply as an object, whether a flat `[k, v, ...]` array or a map. */
function toRecord(reply: unknown): Record<string, unknown> {
  if (!Array.isArray(reply)) return (reply ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}
