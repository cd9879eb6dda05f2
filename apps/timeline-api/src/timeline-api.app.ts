import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { TimelineConfig } from '../../timeline-shared/src/index.js';
import { TimelineApiModule } from './timeline-api.module.js';

/** Creates the API and listens on `config.port` (0: a free port); `url` is where it listens. */
export async function startTimelineApi(
  config: TimelineConfig,
  logger: LoggerService | LogLevel[] = ['error', 'warn', 'log'],
): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(TimelineApiModule.forRoot(config), { logger, abortOnError: false });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
