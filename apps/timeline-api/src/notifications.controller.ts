import { Controller, Logger, Param, Sse, type MessageEvent } from '@nestjs/common';
import { ChannelSubscriptionService } from 'nest-redis-broker';
import { Observable } from 'rxjs';
import { notificationChannel } from '../../timeline-shared/src/index.js';
import { parseUserId } from './api.requests.js';
import { SocialService } from './social.service.js';

/**
 * Live notifications over server-sent events: the API subscribes to the
 * user's notification channel while the HTTP stream is open and relays each
 * message (published by the worker's fan-out). At most once: nothing is
 * replayed for a client that was not connected.
 */
@Controller('users')
export class NotificationsController {
  private readonly logger = new Logger(NotificationsController.name);

  constructor(
    private readonly subscriptions: ChannelSubscriptionService,
    private readonly social: SocialService,
  ) {}

  @Sse(':id/notifications')
  notifications(@Param('id') id: string): Observable<MessageEvent> {
    const userId = parseUserId(id);
    this.social.user(userId);
    return new Observable<MessageEvent>((subscriber) => {
      let unsubscribe: (() => Promise<void>) | undefined;
      let closed = false;
      this.subscriptions
        .subscribe(notificationChannel(userId), (payload) => subscriber.next({ data: payload as object, type: 'post' }), { label: `sse:user:${userId}` })
        .then((off) => {
          unsubscribe = off;
          if (closed) void off();
          else subscriber.next({ data: { subscribed: notificationChannel(userId) }, type: 'ready' });
        })
        .catch((error: unknown) => subscriber.error(error));
      return () => {
        closed = true;
        unsubscribe?.().catch((error: unknown) => this.logger.warn(`Could not unsubscribe SSE of user ${userId}: ${String(error)}`));
      };
    });
  }
}
