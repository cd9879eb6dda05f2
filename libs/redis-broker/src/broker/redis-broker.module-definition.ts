import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedisBrokerModuleOptions } from '../core/options/broker.options.js';

/**
 * `forRoot(options)` / `forRootAsync({ imports, inject, useFactory })`, built
 * by Nest's `ConfigurableModuleBuilder`. The module is global unless
 * `isGlobal: false` is passed.
 */
export const {
  ConfigurableModuleClass: ConfigurableRedisBrokerModule,
  MODULE_OPTIONS_TOKEN: REDIS_BROKER_MODULE_OPTIONS,
  OPTIONS_TYPE: REDIS_BROKER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REDIS_BROKER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisBrokerModuleOptions>({ moduleName: 'RedisBroker' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
