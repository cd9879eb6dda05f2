import { Logger } from '@nestjs/common';
import type { RedisClient } from './redis-connection.factory.js';
import { RegistryKeys } from '../keys.js';
import { messages } from '../messages.js';
import { BROKER_DEFAULTS } from '../options/broker-defaults.js';
import { errorText } from '../error-text.js';

/** What a registered name is. */
export type RegisteredKind = 'queue' | 'stream';

/**
 * Records each queue and stream name this process uses in the registry
 * (`SADD` to `RegistryKeys`), once per name and process: the first write or
 * consumer start of a name sends one command beside it, every later use
 * sends nothing. Operator tools read the registry instead of scanning the
 * keyspace. A failed record (Redis down, an ACL without `SADD`) never fails
 * the write it goes with: it is logged once per name and tried again at the
 * name's next use. After a reconnect every remembered name is sent again, so
 * a Redis restarted without its data gets its registry back. It remembers
 * the latest `producerKeyCacheSize` names per kind (a process writing to ever
 * new names must not keep them all): a forgotten name is recorded again, one
 * `SADD`, at its next use.
 */
export class NameRegistry {
  private readonly logger = new Logger(NameRegistry.name);
  private readonly keys: RegistryKeys;
  /** Per kind, name → `true` once recorded, or the pending `SADD` while it runs. */
  private readonly recorded: Record<RegisteredKind, Map<string, Promise<void> | true>> = { queue: new Map(), stream: new Map() };
  private readonly warned = new Set<string>();

  constructor(
    private readonly command: RedisClient,
    prefix: string,
  ) {
    this.keys = new RegistryKeys(prefix);
    // A Redis restarted without persistence comes back without the registry:
    // every name recorded so far is sent again, one SADD per kind, whenever the
    // connection is ready after a reconnect.
    command.on('ready', () => this.recordAgain());
  }

  /**
   * Records a name already validated by its keys. Returns `undefined` when it
   * is recorded already (the hot path: one map lookup, nothing to wait for),
   * else a promise that resolves once the record landed or failed; it never rejects.
   */
  record(kind: RegisteredKind, name: string): Promise<void> | undefined {
    const recorded = this.recorded[kind];
    const state = recorded.get(name);
    if (state === true) return undefined;
    if (state) return state;
    const pending = this.command.sadd(kind === 'queue' ? this.keys.queues : this.keys.streams, name).then(
      () => void recorded.set(name, true),
      (error: unknown) => {
        recorded.delete(name);
        const id = `${kind}:${name}`;
        if (this.warned.has(id)) return;
        this.warned.add(id);
        this.logger.warn(messages.registryWriteFailed(kind, name, errorText(error)));
      },
    );
    if (recorded.size >= BROKER_DEFAULTS.producerKeyCacheSize) recorded.delete(recorded.keys().next().value!);
    recorded.set(name, pending);
    return pending;
  }

  private recordAgain(): void {
    for (const kind of ['queue', 'stream'] as const) {
      const names = [...this.recorded[kind]].filter(([, state]) => state === true).map(([name]) => name);
      if (names.length === 0) continue;
      this.command.sadd(kind === 'queue' ? this.keys.queues : this.keys.streams, ...names).catch((error: unknown) => {
        // The names stay marked as recorded: the next reconnect tries again.
        this.logger.warn(messages.registryWriteFailed(kind, names.join('", "'), errorText(error)));
      });
    }
  }
}
