import { Logger } from '@nestjs/common';
import type { QueueKeys } from '../core/keys.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import type { MessageSource } from '../runtime/message-source.js';
import { toDeliveries, type QueueDelivery } from './queue-delivery.js';

/**
 * Fast fetch, the design notes' loop: `RPOP count` for a batch, `BRPOP` to
 * wait. A popped message exists only in this process: at-most-once.
 */
export class FastListFetcher implements MessageSource<QueueDelivery> {
  readonly description: string;
  private readonly logger = new Logger(FastListFetcher.name);
  private clientId: number | undefined;
  private interrupted = false;
  /** The last fetch emptied the queue: the next one blocks at once (one round trip less on wake-up). */
  private drained = false;

  constructor(
    private readonly keys: QueueKeys,
    private readonly blocking: RedisClient,
    private readonly command: RedisClient,
    private readonly blockTimeoutMs: number,
    private readonly canUnblock: boolean,
    private readonly closeBlocking: () => Promise<void>,
  ) {
    this.description = `queue "${keys.queue}" (fast)`;
    // A reconnect gets a new client id; the next fetch asks for it again.
    blocking.on('close', () => (this.clientId = undefined));
  }

  async start(): Promise<void> {}

  async fetch(max: number): Promise<QueueDelivery[]> {
    // Asked on this connection right before blocking, so the id is known
    // whenever a BRPOP may need interrupting.
    if (this.canUnblock && this.clientId === undefined) await this.refreshClientId();
    const { list, attempts, deaths } = this.keys;
    // The second and fifth keys are unused in fast mode; any key of the queue keeps the script single-slot.
    // Fast mode records no starts: every message counts as started (`max`), so none waits for a mark.
    let deliveries = this.drained ? [] : toDeliveries(await this.blocking.nrbFetchBuffer(list, list, attempts, deaths, list, 'fast', max, max));
    if (deliveries.length === 0) {
      // An interrupt that came while the script ran would miss the BRPOP.
      if (this.interrupted) return [];
      const popped = await this.blocking.brpopBuffer(list, this.blockTimeoutMs / 1000);
      if (!popped) {
        this.drained = true;
        return [];
      }
      deliveries = toDeliveries(await this.blocking.nrbFetchBuffer(list, list, attempts, deaths, list, 'fast', max - 1, max, popped[1]));
    }
    this.drained = deliveries.length < max;
    return deliveries;
  }

  /** Popped messages exist only here: push them back to the consuming end, oldest taken first. */
  async handBack(deliveries: QueueDelivery[]): Promise<void> {
    await this.command.rpush(this.keys.list, ...deliveries.map((d) => d.body).reverse());
  }

  interrupt(): void {
    this.interrupted = true;
    // Dropping the connection could lose a popped message with its reply, so
    // ask Redis to end the BRPOP instead (CLIENT UNBLOCK answers it with nil).
    // Without a known client id (Cluster), the pop ends within blockTimeoutMs.
    if (this.clientId === undefined) return;
    this.command.client('UNBLOCK', this.clientId).catch((error: unknown) => {
      this.logger.warn(`CLIENT UNBLOCK failed for ${this.description}: ${String(error)}`);
    });
  }

  async stop(): Promise<void> {
    await this.closeBlocking();
  }

  private async refreshClientId(): Promise<void> {
    try {
      this.clientId = Number(await (this.blocking as { client(sub: 'ID'): Promise<number> }).client('ID'));
    } catch (error) {
      this.clientId = undefined;
      this.logger.warn(`CLIENT ID failed for ${this.description}: ${String(error)}`);
    }
  }
}
