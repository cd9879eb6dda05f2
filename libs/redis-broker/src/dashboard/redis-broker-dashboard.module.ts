import { Controller, Inject, Logger, Module, Optional, UseGuards, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { messages } from '../core/messages.js';
import { DashboardOverviewService } from './dashboard-overview.service.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import { DashboardReadOnlyGuard } from './dashboard-read-only.guard.js';
import { DashboardController } from './dashboard.controller.js';
import { resolveDashboardOptions, type RedisBrokerDashboardOptions, type ResolvedDashboardOptions } from './dashboard.options.js';
import { ThroughputRecorder } from './throughput.recorder.js';

/**
 * The operator dashboard: one page at `path` (default `/broker`) showing
 * every queue, stream group and subscribed channel with their counts, this
 * process' throughput and recent failures, and the dead letters, which can be
 * requeued or purged. Off unless imported; needs `RedisBrokerModule` in the
 * app and any Nest HTTP adapter (e.g. `@nestjs/platform-express`).
 *
 * The dashboard can requeue and delete messages: mount it behind the app's
 * own auth by passing `guards` (run before every route of the dashboard,
 * page and API alike). Without guards it is read-only (requeue and purge
 * answer 403) and warns at boot, unless `public: true` says it is served
 * only where no auth is needed (an internal port).
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     RedisBrokerModule.forRoot({ connection: { url: process.env.REDIS_URL } }),
 *     RedisBrokerDashboardModule.register({ path: 'ops/broker', guards: [AdminGuard], imports: [AuthModule] }),
 *   ],
 * })
 * export class WorkerModule {}
 * ```
 * @publicApi
 */
@Module({})
export class RedisBrokerDashboardModule implements OnModuleInit {
  private readonly logger = new Logger(RedisBrokerDashboardModule.name);

  // Absent when the class is imported without register(): then nothing is mounted.
  constructor(@Optional() @Inject(DASHBOARD_OPTIONS) private readonly options?: ResolvedDashboardOptions) {}

  /** Says at boot when the dashboard has no guard, and what that exposes. */
  onModuleInit(): void {
    if (!this.options || this.options.guards.length > 0) return;
    if (this.options.public) this.logger.log(messages.dashboardPublic(this.options.path));
    else this.logger.warn(messages.dashboardUnguarded(this.options.path));
  }

  /** Mounts the dashboard; options are validated here, so a bad path or guard fails at startup. */
  static register(options: RedisBrokerDashboardOptions = {}): DynamicModule {
    const resolved = resolveDashboardOptions(options);
    // A class per registration: the route and guards are class decorators,
    // and Nest reads them from the controller class itself.
    class MountedDashboardController extends DashboardController {}
    Controller(resolved.path)(MountedDashboardController);
    if (resolved.guards.length > 0) UseGuards(...resolved.guards)(MountedDashboardController);
    else if (!resolved.public) UseGuards(new DashboardReadOnlyGuard())(MountedDashboardController);
    return {
      module: RedisBrokerDashboardModule,
      imports: resolved.imports,
      controllers: [MountedDashboardController],
      providers: [{ provide: DASHBOARD_OPTIONS, useValue: resolved }, ThroughputRecorder, DashboardOverviewService],
    };
  }
}
