import { Controller, Get, Module, Res, type DynamicModule } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { BrokerHealthIndicator, BrokerMetrics, RedisBrokerHealthModule, RedisBrokerMetricsModule } from 'nest-redis-broker/observability';

/** What the metrics response needs of the HTTP response object. */
interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

/** `/health/live`, `/health/ready` (terminus) and `/metrics` (Prometheus text) of either app. */
@Controller()
export class OperationsController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly broker: BrokerHealthIndicator,
    private readonly metrics: BrokerMetrics,
  ) {}

  @Get('health/live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.broker.isAlive()]);
  }

  @Get('health/ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.broker.isReady()]);
  }

  @Get('metrics')
  async scrape(@Res({ passthrough: true }) response: HeaderSink): Promise<string> {
    response.setHeader('Content-Type', this.metrics.contentType);
    return this.metrics.metricsText();
  }
}

/** The operations endpoints, with broker metrics that also report `queues` and `streams` this app only produces to. */
@Module({})
export class OperationsModule {
  static forRoot(options: { queues?: string[]; streams?: string[] } = {}): DynamicModule {
    return {
      module: OperationsModule,
      imports: [RedisBrokerHealthModule, RedisBrokerMetricsModule.forRoot({ queues: options.queues ?? [], streams: options.streams ?? [] })],
      controllers: [OperationsController],
    };
  }
}
