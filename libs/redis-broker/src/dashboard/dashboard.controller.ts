import {
  BadRequestException,
  Get,
  Header,
  Headers,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { InvalidBrokerOptionsError } from '../core/errors/invalid-broker-options.error.js';
import { QueueDeadLetterService, type QueueDeadLetter } from '../queue/queue-dead-letter.service.js';
import { BROKER_DEFAULTS } from '../core/options/broker-defaults.js';
import { StreamDeadLetterService, type StreamDeadLetter } from '../stream/stream-dead-letter.service.js';
import { DashboardOverviewService, type DashboardOverview } from './dashboard-overview.service.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { ResolvedDashboardOptions } from './dashboard.options.js';

/**
 * Header every state-changing call must carry: a cross-site form cannot set it, so a logged-in operator's browser cannot be tricked into a purge.
 * @publicApi
 */
export const DASHBOARD_ACTION_HEADER = 'x-broker-dashboard';

/**
 * Routes of the dashboard, without a path: `RedisBrokerDashboardModule`
 * subclasses it with `@Controller(path)` and the app's guards, so Nest finds
 * these inherited handlers under the chosen route.
 */
export class DashboardController {
  private page: string | undefined;

  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    @Inject(DashboardOverviewService) private readonly overviews: DashboardOverviewService,
    @Inject(QueueDeadLetterService) private readonly queueDead: QueueDeadLetterService,
    @Inject(StreamDeadLetterService) private readonly streamDead: StreamDeadLetterService,
  ) {}

  /** The one page: plain HTML and script, no external resource. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  html(): string {
    this.page ??= readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8').replace(
      '__REFRESH_INTERVAL_MS__',
      String(this.options.refreshIntervalMs),
    );
    return this.page;
  }

  @Get('api/overview')
  @Header('Cache-Control', 'no-store')
  overview(): Promise<DashboardOverview> {
    return this.overviews.overview();
  }

  @Get('api/queues/:queue/dead')
  queueDeadLetters(@Param('queue') queue: string, @Query('limit') limit?: string): Promise<QueueDeadLetter[]> {
    return named(() => this.queueDead.list(queue, { limit: pageSize(limit) }));
  }

  @Post('api/queues/:queue/dead/requeue-all')
  @HttpCode(200)
  async requeueAllQueue(@Param('queue') queue: string, @Headers(DASHBOARD_ACTION_HEADER) action?: string): Promise<{ requeued: number }> {
    requireAction(action);
    return { requeued: await named(() => this.queueDead.requeueAll(queue)) };
  }

  @Post('api/queues/:queue/dead/purge')
  @HttpCode(200)
  async purgeQueue(@Param('queue') queue: string, @Headers(DASHBOARD_ACTION_HEADER) action?: string): Promise<{ purged: number }> {
    requireAction(action);
    return { purged: await named(() => this.queueDead.purge(queue)) };
  }

  @Post('api/queues/:queue/dead/:id/requeue')
  @HttpCode(200)
  async requeueQueue(
    @Param('queue') queue: string,
    @Param('id') id: string,
    @Headers(DASHBOARD_ACTION_HEADER) action?: string,
  ): Promise<{ requeued: number }> {
    requireAction(action);
    if (!(await named(() => this.queueDead.requeue(queue, id)))) throw new NotFoundException(`No dead letter ${id} in queue ${queue}`);
    return { requeued: 1 };
  }

  @Get('api/streams/:stream/groups/:group/dead')
  streamDeadLetters(
    @Param('stream') stream: string,
    @Param('group') group: string,
    @Query('limit') limit?: string,
  ): Promise<StreamDeadLetter[]> {
    return named(() => this.streamDead.list(stream, group, { limit: pageSize(limit) }));
  }

  @Post('api/streams/:stream/groups/:group/dead/requeue-all')
  @HttpCode(200)
  async requeueAllStream(
    @Param('stream') stream: string,
    @Param('group') group: string,
    @Headers(DASHBOARD_ACTION_HEADER) action?: string,
  ): Promise<{ requeued: number }> {
    requireAction(action);
    return { requeued: await named(() => this.streamDead.requeueAll(stream, group)) };
  }

  @Post('api/streams/:stream/groups/:group/dead/purge')
  @HttpCode(200)
  async purgeStream(
    @Param('stream') stream: string,
    @Param('group') group: string,
    @Headers(DASHBOARD_ACTION_HEADER) action?: string,
  ): Promise<{ purged: number }> {
    requireAction(action);
    return { purged: await named(() => this.streamDead.purge(stream, group)) };
  }

  @Post('api/streams/:stream/groups/:group/dead/:id/requeue')
  @HttpCode(200)
  async requeueStream(
    @Param('stream') stream: string,
    @Param('group') group: string,
    @Param('id') id: string,
    @Headers(DASHBOARD_ACTION_HEADER) action?: string,
  ): Promise<{ requeued: number }> {
    requireAction(action);
    if (!(await named(() => this.streamDead.requeue(stream, group, id)))) {
      throw new NotFoundException(`No dead letter ${id} for group ${group} of stream ${stream}`);
    }
    return { requeued: 1 };
  }
}

function requireAction(header: string | undefined): void {
  if (header !== '1') throw new BadRequestException(`State-changing dashboard calls need the header ${DASHBOARD_ACTION_HEADER}: 1`);
}

function pageSize(raw: string | undefined): number {
  if (raw === undefined) return BROKER_DEFAULTS.dashboard.deadLetterPage;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1_000) throw new BadRequestException('limit must be a whole number from 1 to 1000');
  return n;
}

/** Runs a call that builds keys from a name in the URL: an invalid name is the caller's mistake (400), not a server error. */
async function named<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof InvalidBrokerOptionsError) throw new BadRequestException(error.message);
    throw error;
  }
}
