// Entry point `nest-redis-broker/observability`: metrics (prom-client) and
// health (@nestjs/terminus). Kept apart from the main entry so that apps
// without these optional peer dependencies can import `nest-redis-broker`.
export { RedisBrokerMetricsModule } from './broker-metrics.module.js';
export { BrokerMetrics } from './broker-metrics.js';
export type { BrokerMetricsOptions } from './broker-metrics.options.js';
export { RedisBrokerHealthModule } from './broker-health.module.js';
export { BrokerHealthIndicator } from './broker-health.indicator.js';
