import { ForbiddenException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { messages } from '../core/messages.js';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * Put on a dashboard registered with neither `guards` nor `public: true`: the
 * page and the read-only API are served, every state-changing call (requeue,
 * purge) answers 403 with what to do, so an unguarded dashboard cannot be
 * used to delete messages by whoever reaches the port.
 */
export class DashboardReadOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const { method } = context.switchToHttp().getRequest<{ method: string }>();
    if (SAFE_METHODS.has(method.toUpperCase())) return true;
    throw new ForbiddenException(messages.dashboardActionsDisabled());
  }
}
