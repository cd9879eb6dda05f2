import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { BrokerClient, RedisBrokerModule } from 'nest-redis-broker';
import { FANOUT_QUEUE, OperationsModule, USER_EVENTS_STREAM, TimelineCache, TimelineStore, type TimelineConfig } from '../../timeline-shared/src/index.js';
import { StatsController } from './stats.controller.js';
import { SocialService } from './social.service.js';
import { TimelineReader } from './timeline-reader.service.js';
import { NotificationsController } from './notifications.controller.js';
import { UsersController } from './users.controller.js';

/** About how many entries `user-events` keeps (`MAXLEN ~`). */
const USER_EVENTS_MAX_LEN = 100_000;

/**
 * The timeline HTTP API. It only produces messages (`producerOnly`): the
 * worker, deployed separately, consumes them.
 */
@Module({})
export class TimelineApiModule implements OnApplicationShutdown {
  constructor(@Inject(TimelineStore) private readonly store: TimelineStore) {}

  static forRoot(config: TimelineConfig): DynamicModule {
    return {
      module: TimelineApiModule,
      imports: [
        RedisBrokerModule.forRoot({
          connection: { url: config.redisUrl },
          producerOnly: true,
          shutdownTimeoutMs: config.shutdownTimeoutMs,
          // Activity is kept for about a day's worth of a busy sample, not forever.
          streams: { [USER_EVENTS_STREAM]: { maxLen: USER_EVENTS_MAX_LEN } },
        }),
        OperationsModule.forRoot({ queues: [FANOUT_QUEUE], streams: [USER_EVENTS_STREAM] }),
      ],
      controllers: [UsersController, StatsController, NotificationsController],
      providers: [
        { provide: TimelineStore, useFactory: () => new TimelineStore(config.databasePath) },
        {
          provide: TimelineCache,
          useFactory: (client: BrokerClient) => new TimelineCache(client.redis, { maxLength: config.cacheMaxLength, ttlSeconds: config.cacheTtlSeconds }),
          inject: [BrokerClient],
        },
        SocialService,
        TimelineReader,
      ],
    };
  }

  onApplicationShutdown(): void {
    this.store.close();
  }
}
