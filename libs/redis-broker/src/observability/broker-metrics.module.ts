import { Module, type DynamicModule } from '@nestjs/common';
import { BROKER_METRICS_OPTIONS } from '../core/constants.js';
import { BrokerMetrics } from './broker-metrics.js';
import { resolveBrokerMetricsOptions, type BrokerMetricsOptions } from './broker-metrics.options.js';

/**
 * Prometheus metrics of the broker (needs `prom-client`). Import it next to
 * `RedisBrokerModule` and serve `BrokerMetrics#metricsText()` from the app's
 * own route:
 *
 * ```ts
 * @Get('metrics') async metrics(@Res() res) { res.type(m.contentType).send(await m.metricsText()); }
 * ```
 * @publicApi
 */
@Module({})
export class RedisBrokerMetricsModule {
  /** Registers `BrokerMetrics`; bad options fail here, naming the option. */
  static forRoot(options: BrokerMetricsOptions = {}): DynamicModule {
    return {
      module: RedisBrokerMetricsModule,
      providers: [{ provide: BROKER_METRICS_OPTIONS, useValue: resolveBrokerMetricsOptions(options) }, BrokerMetrics],
      exports: [BrokerMetrics],
    };
  }
}
