import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { TimelineConfig } from '../../timeline-shared/src/index.js';
import { TimelineWorkerModule } from './timeline-worker.module.js';

/** Creates the worker and listens for its operations endpoints on `config.port` (0: a free port). */
export async function startTimelineWorker(
  config: TimelineConfig,
  logger: LoggerService | LogLevel[] = ['error', 'warn', 'log'],
): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(TimelineWorkerModule.forRoot(config), { logger, abortOnError: false });
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
