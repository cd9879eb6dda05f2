/** Texts of every error and warning the library raises, in one place. */
export const messages = {
  invalidOption: (path: string, value: unknown, accepted: string) =>
    `Invalid nest-redis-broker option "${path}": got ${describe(value)}; accepted: ${accepted}.`,
  unknownOption: (path: string, known: readonly string[]) =>
    `Unknown nest-redis-broker option "${path}"; known options here: ${known.join(', ')}.`,
  invalidName: (kind: string, name: unknown, reason: string) =>
    `Invalid ${kind} name ${describe(name)}: ${reason}.`,
  duplicateHandler: (key: string, first: string, second: string) =>
    `Two handlers are registered for ${key}: ${first} and ${second}. One consumer per ${key.split(':')[0]} and process; remove one of them.`,
  requestScopedHandler: (target: string) =>
    `${target} is request-scoped (or depends on a request-scoped provider); broker handlers need a static provider, so it is not registered.`,
  invalidEntryId: (what: string, id: unknown) =>
    `Invalid ${what} ${describe(id)}: a stream entry id is "<ms>-<seq>", e.g. "1700000000000-0" (both parts whole numbers below 2^64).`,
  invalidHandlerOptions: (target: string, detail: string) => `Invalid options on ${target}: ${detail}`,
  invalidEventHook: (target: string, detail: string) => `Invalid @OnBrokerEvent on ${target}: ${detail}`,
  eventHookHearsNothing: (target: string, event: string, filter: unknown) =>
    `Event hook ${target} on '${event}' filters ${describe(filter)}, which no handler of this app consumes: it will never run (events come only from this process's consumers).`,
  eventHookFailed: (target: string, event: string, error: string, suppressed: number) =>
    `Event hook ${target} failed on '${event}': ${error}${suppressed > 0 ? ` (${suppressed} more failure(s) since the last report)` : ''}. Delivery is not affected.`,
  requestTimedOut: (queue: string, id: string, timeoutMs: number) =>
    `Request ${id} to queue "${queue}" got no reply within ${timeoutMs} ms; its message may still run (a late reply is dropped).`,
  requestFailed: (queue: string, id: string, reason: string, error: string) =>
    `Request ${id} to queue "${queue}" failed (${reason}): ${error}`,
  requestStopped: (queue: string, id: string) =>
    `Request ${id} to queue "${queue}" was still waiting for its reply when the broker shut down.`,
  requestAfterStop: (queue: string) => `A request to queue "${queue}" was made after the broker shut down; nothing was sent.`,
  replyLoopError: (key: string, error: string, retryInMs: number) =>
    `The reply loop of ${key} could not read: ${error}; retrying in ${retryInMs} ms (pending requests keep their timeouts).`,
  replyDropped: (key: string, text: string) => `Dropped an element of ${key} that is not a reply: ${text}`,
  replyRefused: (queue: string, id: string, replyTo: string) =>
    `Message ${id} of queue "${queue}" asks for a reply on ${replyTo}, which is not a reply list of this key prefix: no reply sent.`,
  replyNotEncodable: (error: string) => `the handler's return value is not JSON-encodable: ${error}`,
  connectionError: (role: string, target: string, error: string) =>
    `Redis ${role} connection to ${target} failed: ${error}`,
  connectionRecovered: (role: string, target: string) => `Redis ${role} connection to ${target} is ready again.`,
  loopError: (source: string, error: string, retryInMs: number) =>
    `Consumer of ${source} could not fetch: ${error}; retrying in ${retryInMs} ms.`,
  settleError: (source: string, id: string, error: string) =>
    `Could not settle message ${id} of ${source}: ${error}. Whether Redis applied the step is unknown: the consumer re-reads its processing list and runs the message again if it is still there.`,
  fastSettleError: (source: string, id: string, error: string) =>
    `Could not settle message ${id} of ${source}: ${error}. Whether Redis applied the step is unknown; if it did not, the message is lost (fast mode is at-most-once).`,
  unackedHandedBack: (queue: string, count: number, error: string) =>
    `Could not ack ${count} handled message(s) of queue "${queue}" at shutdown: ${error}. They go back to the queue with the rest and run again.`,
  enqueueManyFailed: (queue: string, count: number, stored: number | null, error: string) =>
    `enqueueMany on queue "${queue}" failed: ${error}. ${
      stored === null
        ? `The connection failed with the batch on its way: Redis stored all ${count} messages or none (one transaction).`
        : stored === 0
          ? `None of its ${count} messages was stored (one transaction): retrying the call stores each once.`
          : `${stored} of its ${count} messages were stored.`
    }`,
  ackRefused: (queue: string, consumer: string) =>
    `Ack refused on queue "${queue}": consumer ${consumer} was presumed dead and its processing list returned to the queue; its messages run again (at-least-once)`,
  ackFailed: (source: string, id: string, error: string) =>
    `Message ${id} of ${source} was handled but its ack failed: ${error}. The ack is re-sent once Redis answers; the message does not run again.`,
  acksResent: (queue: string, resent: number, landed: number) =>
    `Re-sent ${resent} ack(s) of queue ${queue} that had failed (${landed} more had landed before the failure).`,
  shutdownTimeout: (source: string, inFlight: number) =>
    `Shutdown deadline (shutdownTimeoutMs) passed with ${inFlight} handler(s) of ${source} still running; their ctx.signal is aborted, and their messages are handed back (reliable queues) or left pending (streams) to run again.`,
  handBackTimeout: (source: string, graceMs: number) =>
    `Could not hand back the messages of ${source} within ${graceMs} ms (is Redis down?); other consumers recover them once this consumer's heartbeat expires.`,
  handlerFailed: (target: string, source: string, id: string, attempt: number, error: string) =>
    `${target} failed on message ${id} of ${source} (attempt ${attempt}): ${error}`,
  lateHandlerResult: (target: string, source: string, id: string, timeoutMs: number, outcome: string) =>
    `${target} on message ${id} of ${source} ${outcome} after its timeoutMs (${timeoutMs} ms) had passed; the result is ignored (the message was already settled as timed out). Honour ctx.signal to stop a run at its timeout.`,
  deadLettered: (source: string, id: string, reason: string, error: string) =>
    `Message ${id} of ${source} moved to the dead-letter list (${reason}): ${error}`,
  heartbeatFailed: (queue: string, error: string) =>
    `Heartbeat of queue "${queue}" failed: ${error}. This consumer takes no new message until a heartbeat lands (the others may presume it dead).`,
  reaped: (queue: string, consumer: string, returned: number, quarantined: number) =>
    `Consumer ${consumer} of queue ${queue} stopped heart-beating: ${returned} message(s) returned to the queue, ${quarantined} quarantined as poison.`,
  recovered: (queue: string, count: number) =>
    `Recovered ${count} message(s) of queue ${queue} that were moved to this consumer while its connection was lost.`,
  channelHandlerFailed: (target: string, source: string, error: string, suppressed: number) =>
    `${target} failed on a message of ${source}: ${error}${suppressed > 0 ? ` (${suppressed} more failure(s) since the last report)` : ''}`,
  channelUnparsable: (target: string, source: string, error: string, suppressed: number) =>
    `${target} skipped a message of ${source} that is not JSON (parse: 'json'): ${error}${suppressed > 0 ? ` (${suppressed} more since the last report)` : ''}`,
  channelDropped: (target: string, source: string, count: number, total: number, bufferSize: number, maxBufferBytes: number, policy: string) =>
    `${target} is slower than ${source}: dropped ${count} message(s) since the last report (${total} in all; buffer of ${bufferSize} messages or ${maxBufferBytes} bytes full, overflow: ${policy}).`,
  channelShutdownDiscarded: (target: string, source: string, count: number) =>
    `Shutdown deadline passed: ${count} buffered message(s) of ${source} for ${target} were not run.`,
  channelResubscribeFailed: (connection: string, error: string) =>
    `Could not resubscribe the ${connection} subscriber after reconnecting: ${error}; retrying on the next reconnect.`,
  channelSubscriberStopped: () => 'The channel subscriber has stopped (the application is shutting down); cannot subscribe.',
  streamGroupMissing: (stream: string, group: string, startId: string) =>
    `Consumer group "${group}" of stream "${stream}" is gone (deleted, or Redis restarted without persistence); recreating it from "${startId}". Entries pending in the old group are lost to it.`,
  streamTakenOver: (key: string, group: string, consumer: string, count: number, idleMs: number) =>
    `Consumer ${consumer} of group "${group}" took over ${count} entr${count === 1 ? 'y' : 'ies'} of ${key} pending for more than ${idleMs} ms (their consumer is presumed dead).`,
  streamIdleRefreshFailed: (source: string, error: string) =>
    `Could not refresh the idle time of the entries this consumer holds in ${source} (another consumer may take one over after claimIdleMs and run it again): ${error}`,
  streamSettleError: (source: string, id: string, error: string) =>
    `Could not settle entry ${id} of ${source}: ${error}. It stays pending and is reclaimed later.`,
  streamDeadLettered: (source: string, id: string, reason: string, error: string) =>
    `Entry ${id} of ${source} copied to the dead-letter stream and acknowledged (${reason}): ${error}`,
  metricsReadFailed: (error: string) =>
    `Could not read queue and stream counts from Redis for metrics: ${error}; the previous values are served.`,
  registryWriteFailed: (kind: string, name: string, error: string) =>
    `Could not record ${kind} "${name}" in the broker's registry: ${error}. The dashboard and the CLI's status do not list it until a later write records it (an ACL user needs SADD on the prefix's keys).`,
  dashboardUnguarded: (path: string) =>
    `The broker dashboard at /${path} has no guard: whoever reaches this port can read every queue's dead letters and messages. Its requeue and purge routes answer 403; pass guards (your auth) to RedisBrokerDashboardModule.register(), or public: true to allow them without auth on an internal port.`,
  dashboardPublic: (path: string) =>
    `The broker dashboard at /${path} is public (public: true): whoever reaches this port can requeue and purge dead letters.`,
  dashboardActionsDisabled: () =>
    'Dashboard actions are disabled: this dashboard has no guard. Register it with guards (your auth) or public: true.',
  replicationNotConfirmed: (replicas: number, confirmed: number, timeoutMs: number) =>
    `Write stored on the master but confirmed by ${confirmed} of ${replicas} replica(s) within ${timeoutMs} ms (WAIT): it is lost if the master fails before replicating it; sending it again may deliver it twice.`,
  replicationConnectionLost: (replicas: number) =>
    `Write not confirmed by ${replicas} replica(s): the connection closed before WAIT answered, so the write may or may not be stored; sending it again may deliver it twice.`,
  redisServerMissing: (binary: string) =>
    `Cannot start "${binary}": it is not installed or not on PATH. Install it (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL to an existing Redis.`,
} as const;

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') return `a ${typeof value}`;
  try {
    return JSON.stringify(value) ?? 'undefined';
  } catch {
    return `an unserialisable ${typeof value}`;
  }
}
