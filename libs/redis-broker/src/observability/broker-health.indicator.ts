import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { BROKER_COMMAND_CONNECTION } from '../core/constants.js';
import type { RedisClient } from '../core/redis/redis-connection.factory.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import { errorText } from '../core/error-text.js';
import { ConsumerRunner } from '../broker/consumer.runner.js';
import type { ConsumerHealth } from '../runtime/message-source.js';
import { consumerHealthBoard } from '../runtime/consumer-health.board.js';

/**
 * `@nestjs/terminus` health indicator of the broker.
 *
 * - `isAlive`: every consumer loop of this process (those of `RedisBrokerServer`,
 *   the microservices transport, included) is alive and not stuck. A
 *   loop is stuck when its last fetch is older than its block timeout plus a
 *   margin while it is neither waiting for a free handler slot nor failing
 *   (a failing loop waits for Redis; restarting the process would not help).
 *   Redis is not checked: liveness failures restart processes.
 * - `isReady`: the app is not shutting down, Redis answers `PING` on the
 *   command connection within a short timeout, and every consumer is running,
 *   fetching without errors and not stuck.
 * @publicApi
 */
@Injectable()
export class BrokerHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly runner: ConsumerRunner,
    @Inject(BROKER_COMMAND_CONNECTION) private readonly command: RedisClient,
  ) {}

  /** Liveness of the consumer loops, under `key` (default `redis-broker`). */
  async isAlive<const Key extends string = 'redis-broker'>(key: Key = 'redis-broker' as Key): Promise<HealthIndicatorResult<Key>> {
    const session = this.indicators.check(key);
    const now = Date.now();
    const consumers = this.consumers();
    const stuck = consumers.filter((c) => isStuck(c, now)).map((c) => c.description);
    if (stuck.length > 0) return session.down({ message: 'consumer loop stuck', stuck });
    return session.up({ consumers: consumers.length });
  }

  /** Readiness to take traffic and messages, under `key` (default `redis-broker`). */
  async isReady<const Key extends string = 'redis-broker'>(key: Key = 'redis-broker' as Key): Promise<HealthIndicatorResult<Key>> {
    const session = this.indicators.check(key);
    if (this.runner.isShuttingDown) return session.down({ message: 'shutting down' });
    const ping = await this.ping();
    if (ping !== undefined) return session.down({ message: `Redis unreachable: ${ping}` });
    const now = Date.now();
    const consumers = this.consumers();
    const unhealthy = consumers.filter((c) => c.state !== 'running' || c.failing || isStuck(c, now));
    if (unhealthy.length > 0) {
      return session.down({ message: 'consumer not running', consumers: unhealthy.map((c) => `${c.description}: ${c.failing ? 'failing' : c.state}`) });
    }
    return session.up({ consumers: consumers.length });
  }

  /** The module's consumers and those of every listening `RedisBrokerServer` of the process. */
  private consumers(): ConsumerHealth[] {
    return [...this.runner.health(), ...consumerHealthBoard.health()];
  }

  /** `undefined` when Redis answered, else why not. Never waits in ioredis' offline queue. */
  private async ping(): Promise<string | undefined> {
    if (this.command.status !== 'ready') return `connection ${this.command.status}`;
    const timeoutMs = BROKER_DEFAULTS.observability.pingTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.command.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no PONG within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return undefined;
    } catch (error) {
      return errorText(error);
    } finally {
      clearTimeout(timer);
    }
  }
}

function isStuck(health: ConsumerHealth, now: number): boolean {
  if (health.state !== 'running' || health.failing || health.waitingForCapacity === true) return false;
  return now - health.lastFetchAt > health.blockTimeoutMs + BROKER_DEFAULTS.observability.stuckMarginMs;
}
