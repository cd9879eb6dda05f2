import { Module, type DynamicModule } from '@nestjs/common';
import { BrokerClient, RedisBrokerDashboardModule, RedisBrokerModule } from 'nest-redis-broker';
import { OperationsModule, TimelineCache, type TimelineConfig } from '../../timeline-shared/src/index.js';
import { AnalyticsConsumer } from './analytics.consumer.js';
import { DashboardAuthGuard } from './dashboard-auth.guard.js';
import { FanoutHandler } from './fanout.handler.js';
import { InvalidationListener } from './invalidation.listener.js';

/**
 * The timeline worker: consumes what the API produces. Its only HTTP routes
 * are the operations endpoints and the broker dashboard (`/dashboard`, user
 * `admin`, password `DASHBOARD_PASSWORD`). It
 * needs Redis, not the database.
 */
@Module({})
export class TimelineWorkerModule {
  static forRoot(config: TimelineConfig): DynamicModule {
    return {
      module: TimelineWorkerModule,
      imports: [
        RedisBrokerModule.forRoot({
          connection: { url: config.redisUrl },
          shutdownTimeoutMs: config.shutdownTimeoutMs,
          consumerTtlMs: config.consumerTtlMs,
          heartbeatIntervalMs: config.heartbeatIntervalMs,
          ...(config.instanceId === undefined ? {} : { instanceId: config.instanceId }),
        }),
        OperationsModule.forRoot(),
        // The dashboard can requeue and purge: behind auth (HTTP Basic, DASHBOARD_PASSWORD).
        RedisBrokerDashboardModule.register({ path: 'dashboard', guards: [new DashboardAuthGuard(config.dashboardPassword)] }),
      ],
      providers: [
        {
          provide: TimelineCache,
          useFactory: (client: BrokerClient) => new TimelineCache(client.redis, { maxLength: config.cacheMaxLength, ttlSeconds: config.cacheTtlSeconds }),
          inject: [BrokerClient],
        },
        FanoutHandler,
        AnalyticsConsumer,
        InvalidationListener,
      ],
    };
  }
}
