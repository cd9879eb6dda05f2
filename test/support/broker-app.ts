import { Module, type DynamicModule, type INestApplicationContext, type LoggerService, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisBrokerModule, type RedisBrokerModuleOptions } from 'nest-redis-broker';

/** Collects what Nest's Logger printed, so tests can assert on warnings and errors. */
export class CapturingLogger implements LoggerService {
  readonly lines: { level: string; message: string; context?: string }[] = [];
  log(message: unknown, context?: string): void { this.push('log', message, context); }
  error(message: unknown, _trace?: string, context?: string): void { this.push('error', message, context); }
  warn(message: unknown, context?: string): void { this.push('warn', message, context); }
  debug(message: unknown, context?: string): void { this.push('debug', message, context); }
  verbose(message: unknown, context?: string): void { this.push('verbose', message, context); }
  text(): string { return this.lines.map((l) => `${l.level} [${l.context ?? ''}] ${l.message}`).join('\n'); }
  private push(level: string, message: unknown, context?: string): void {
    this.lines.push({ level, message: String(message), context });
    if (process.env.NRB_TEST_LOGS) console.log(level, context, String(message));
  }
}

/** Boots a Nest application context with the broker and the given providers. */
export async function bootBroker(
  options: RedisBrokerModuleOptions,
  providers: Provider[],
  extra: { imports?: (Type | DynamicModule)[]; logger?: CapturingLogger } = {},
): Promise<{ app: INestApplicationContext; logger: CapturingLogger }> {
  @Module({ imports: [RedisBrokerModule.forRoot(options), ...(extra.imports ?? [])], providers })
  class TestAppModule {}
  const logger = extra.logger ?? new CapturingLogger();
  const app = await NestFactory.createApplicationContext(TestAppModule, { logger, abortOnError: false });
  return { app, logger };
}

/** A promise with its resolve function, for handlers that tests release by hand. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
