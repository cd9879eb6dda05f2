import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BrokerHealthIndicator } from './broker-health.indicator.js';

/**
 * Provides `BrokerHealthIndicator` (needs `@nestjs/terminus`); use it with
 * terminus' `HealthCheckService` in the app's own health controller.
 * @publicApi
 */
@Module({
  imports: [TerminusModule],
  providers: [BrokerHealthIndicator],
  exports: [BrokerHealthIndicator, TerminusModule],
})
export class RedisBrokerHealthModule {}
