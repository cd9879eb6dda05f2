import { Injectable } from '@nestjs/common';
import {
  BrokerClient,
  BrokerEvents,
  InvalidBrokerOptionsError,
  NonRetryableError,
  OnBrokerEvent,
  OnChannel,
  QueueDeadLetterService,
  QueueHandler,
  QueueKeys,
  QueueMessageContext,
  StreamConsumer,
  StreamMessageContext,
  type BrokerHookEvent,
  type HandledEvent,
} from 'nest-redis-broker';
import { waitFor, waitForQueuesIdle, waitForStreamGroupsIdle } from 'nest-redis-broker/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { bootBroker, deferred } from '../support/broker-app.js';
import { useBrokerApp } from '../support/file-redis.js';

const ran = new Map<string, number>();
const channelGate = deferred();

function count(source: string): void {
  ran.set(source, (ran.get(source) ?? 0) + 1);
}

@Injectable()
class Handlers {
  @QueueHandler('hk-ok')
  ok(): void {
    count('hk-ok');
  }

  @QueueHandler('hk-other')
  other(): void {
    count('hk-other');
  }

  @QueueHandler('hk-flaky', { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20, jitter: false } })
  flaky(payload: { n: number }): void {
    count('hk-flaky');
    throw new Error(`boom ${payload.n}`);
  }

  @QueueHandler('hk-throwing-hooks')
  guarded(): void {
    count('hk-throwing-hooks');
  }

  @QueueHandler('hk-refused')
  refused(): void {
    count('hk-refused');
    throw new NonRetryableError('no such order');
  }

  @QueueHandler('hk-reaped')
  reaped(): void {
    count('hk-reaped');
  }

  @QueueHandler('hk-poison', { maxDeaths: 1 })
  poison(): void {
    count('hk-poison');
  }

  @StreamConsumer({ stream: 'hk-stream', group: 'g', claimIdleMs: 200, reclaimIntervalMs: 50 })
  entry(): void {
    count('hk-stream');
  }

  @OnChannel('hk-news', { concurrency: 1, bufferSize: 1 })
  async news(): Promise<void> {
    count('hk-news');
    await channelGate.promise;
  }
}

@Injectable()
class Hooks {
  readonly seen: Record<string, unknown[]> = {};

  private push(name: string, event: unknown): void {
    (this.seen[name] ??= []).push(event);
  }

  @OnBrokerEvent('handled')
  anyHandled(event: BrokerHookEvent<'handled'>): void {
    this.push('handled:any', event);
  }

  @OnBrokerEvent('handled', { queue: 'hk-ok' })
  okHandled(event: BrokerHookEvent<'handled'>): void {
    this.push('handled:hk-ok', event);
  }

  @OnBrokerEvent('failed', { queue: 'hk-flaky' })
  flakyFailed(event: BrokerHookEvent<'failed'>): void {
    this.push('failed:hk-flaky', event);
  }

  @OnBrokerEvent('retrying', { queue: 'hk-flaky' })
  flakyRetrying(event: BrokerHookEvent<'retrying'>): void {
    this.push('retrying:hk-flaky', event);
  }

  @OnBrokerEvent('dead-lettered', { queue: 'hk-flaky' })
  @OnBrokerEvent('dead-lettered', { queue: 'hk-refused' })
  @OnBrokerEvent('dead-lettered', { queue: 'hk-poison' })
  deadLettered(event: BrokerHookEvent<'dead-lettered'>): void {
    this.push(`dead-lettered:${event.source}`, event);
  }

  @OnBrokerEvent('reclaimed', { stream: 'hk-stream', group: 'g' })
  @OnBrokerEvent('reclaimed', { queue: 'hk-reaped' })
  reclaimed(event: BrokerHookEvent<'reclaimed'>): void {
    this.push(`reclaimed:${event.source}`, event);
  }

  @OnBrokerEvent('dropped', { channel: 'hk-news' })
  dropped(event: BrokerHookEvent<'dropped'>): void {
    this.push('dropped:hk-news', event);
  }

  @OnBrokerEvent('handled', { queue: 'hk-throwing-hooks' })
  @OnBrokerEvent('failed', { queue: 'hk-refused' })
  @OnBrokerEvent('dead-lettered', { queue: 'hk-refused' })
  explode(): void {
    throw new Error('hook exploded');
  }

  @OnBrokerEvent('handled', { queue: 'hk-throwing-hooks' })
  @OnBrokerEvent('failed', { queue: 'hk-refused' })
  async reject(): Promise<void> {
    throw new Error('hook rejected');
  }
}

describe('@OnBrokerEvent lifecycle hooks', () => {
  const busEvents: { name: string; source: string }[] = [];
  const broker = useBrokerApp({ delayedPollMs: 20 }, [Handlers, Hooks], {
    beforeBoot: async ({ plain }) => {
      // A stream consumer that read an entry and died holding it.
      await plain.xgroup('CREATE', 'hk-stream', 'g', '$', 'MKSTREAM');
      await plain.xadd('hk-stream', '*', 'n', 'orphan');
      await plain.xreadgroup('GROUP', 'g', 'ghost', 'COUNT', 1, 'STREAMS', 'hk-stream', '>');
      // A queue consumer whose heartbeat expired while it held a message.
      const keys = new QueueKeys('hk-reaped', '');
      await plain.zadd(keys.consumers, 1, 'ghost');
      await plain.rpush(keys.processing('ghost'), JSON.stringify({ n: 'orphan' }));
      // One that died running a message of a queue where one death makes a message poison.
      const poison = new QueueKeys('hk-poison', '');
      await plain.zadd(poison.consumers, 1, 'ghost');
      await plain.rpush(poison.processing('ghost'), JSON.stringify({ n: 'killer' }));
    },
  });
  const seen = (name: string): unknown[] => broker.app.get(Hooks).seen[name] ?? [];

  beforeAll(() => {
    const events = broker.app.get(BrokerEvents);
    for (const name of ['handled', 'failed', 'retried', 'deadLettered'] as const) {
      events.on(name, (event: { source: string }) => busEvents.push({ name, source: event.source }));
    }
  });

  it('calls a handled hook with the message context, only for the queue its filter names', async () => {
    const client = broker.app.get(BrokerClient);
    const id = await client.enqueue('hk-ok', { n: 1 });
    await client.enqueue('hk-other', { n: 2 });
    await waitForQueuesIdle(broker.redis.url, ['hk-ok', 'hk-other']);
    await waitFor(() => seen('handled:any').length >= 2, { description: 'both handled events' });
    const [event] = seen('handled:hk-ok') as BrokerHookEvent<'handled'>[];
    expect(seen('handled:hk-ok')).toHaveLength(1);
    expect(event).toMatchObject({ kind: 'queue', source: 'hk-ok', handler: 'Handlers@ok' });
    expect(event.context).toBeInstanceOf(QueueMessageContext);
    expect(event.context).toMatchObject({ queue: 'hk-ok', attempt: 1, id });
    const unfiltered = seen('handled:any') as BrokerHookEvent<'handled'>[];
    expect(unfiltered.map((e) => e.source)).toEqual(expect.arrayContaining(['hk-ok', 'hk-other']));
    // Every filter here names a consumed source: none is reported as hearing nothing.
    expect(broker.logger.lines.filter((l) => /which no handler/.test(l.message))).toEqual([]);
  });

  it('calls failed, retrying and dead-lettered hooks with the context and what the handler threw', async () => {
    await broker.app.get(BrokerClient).enqueue('hk-flaky', { n: 7 });
    await waitFor(() => seen('dead-lettered:hk-flaky').length === 1, { description: 'the dead-lettered hook' });
    const failed = seen('failed:hk-flaky') as BrokerHookEvent<'failed'>[];
    expect(failed.map((e) => (e.context as QueueMessageContext).attempt)).toEqual([1, 2]);
    for (const event of failed) {
      expect(event.exception).toBeInstanceOf(Error);
      expect((event.exception as Error).message).toBe('boom 7');
      expect(event.error).toContain('boom 7');
    }
    const retrying = seen('retrying:hk-flaky') as BrokerHookEvent<'retrying'>[];
    expect(retrying).toHaveLength(1);
    expect(retrying[0]).toMatchObject({ kind: 'queue', source: 'hk-flaky', attempt: 1, delayMs: 20 });
    expect((retrying[0].exception as Error).message).toBe('boom 7');
    const [dead] = seen('dead-lettered:hk-flaky') as BrokerHookEvent<'dead-lettered'>[];
    expect(dead).toMatchObject({ kind: 'queue', source: 'hk-flaky', reason: 'max-attempts' });
    expect(dead.context).toBeInstanceOf(QueueMessageContext);
    // The payload's type narrows by kind: a queue event's context is a QueueMessageContext.
    expect(dead.kind === 'queue' ? dead.context?.attempt : undefined).toBe(2);
    expect((dead.exception as Error).message).toBe('boom 7');
  });

  it('leaves delivery unchanged when hooks throw or reject, and logs them by Class@method and event', async () => {
    const client = broker.app.get(BrokerClient);
    await client.enqueue('hk-throwing-hooks', { n: 1 });
    await client.enqueue('hk-refused', { n: 2 });
    await waitFor(() => seen('dead-lettered:hk-refused').length === 1, { description: 'the refused message to be dead-lettered' });
    await waitForQueuesIdle(broker.redis.url, ['hk-throwing-hooks', 'hk-refused']);
    // Handled once and acked; refused once and dead-lettered once: as without the hooks.
    expect(ran.get('hk-throwing-hooks')).toBe(1);
    expect(ran.get('hk-refused')).toBe(1);
    expect(busEvents.filter((e) => e.source === 'hk-throwing-hooks').map((e) => e.name)).toEqual(['handled']);
    expect(busEvents.filter((e) => e.source === 'hk-refused').map((e) => e.name)).toEqual(['failed', 'deadLettered']);
    const dead = await broker.app.get(QueueDeadLetterService).list('hk-refused');
    expect(dead.map((d) => d.reason)).toEqual(['non-retryable']);
    await waitFor(() => errors(/Hooks@reject/).length >= 2, { description: 'the rejected hooks to be logged' });
    expect(errors(/Event hook Hooks@explode failed on 'handled': hook exploded/)).toHaveLength(1);
    expect(errors(/Event hook Hooks@explode failed on 'failed': hook exploded/)).toHaveLength(1);
    expect(errors(/Event hook Hooks@explode failed on 'dead-lettered': hook exploded/)).toHaveLength(1);
    expect(errors(/Event hook Hooks@reject failed on 'handled': hook rejected/)).toHaveLength(1);
    expect(errors(/Event hook Hooks@reject failed on 'failed': hook rejected/)).toHaveLength(1);
  });

  it('calls a reclaimed hook with the context of a stream entry taken over from a dead consumer', async () => {
    await waitFor(() => seen('reclaimed:hk-stream/g').length === 1, { description: 'the stream entry to be reclaimed' });
    await waitForStreamGroupsIdle(broker.redis.url, [{ stream: 'hk-stream', group: 'g' }]);
    const [event] = seen('reclaimed:hk-stream/g') as BrokerHookEvent<'reclaimed'>[];
    expect(event).toMatchObject({ kind: 'stream', source: 'hk-stream/g', count: 1, handler: 'Handlers@entry' });
    expect(event.context).toBeInstanceOf(StreamMessageContext);
    expect(event.context?.fields).toEqual({ n: 'orphan' });
    expect(event.context?.deliveryCount).toBe(2);
    expect(ran.get('hk-stream')).toBe(1);
  });

  it('calls a reclaimed hook when the reaper returns a dead consumer\'s queue messages', async () => {
    await waitFor(() => seen('reclaimed:hk-reaped').length === 1, { description: 'the queue message to be reaped' });
    await waitFor(() => ran.get('hk-reaped') === 1, { description: 'the reaped message to run' });
    const [event] = seen('reclaimed:hk-reaped') as BrokerHookEvent<'reclaimed'>[];
    expect(event).toMatchObject({ kind: 'queue', source: 'hk-reaped', count: 1, from: 'ghost', context: undefined });
  });

  it('calls a dead-lettered hook, without context, when the reaper quarantines a poison message', async () => {
    await waitFor(() => seen('dead-lettered:hk-poison').length === 1, { description: 'the poison message to be quarantined' });
    expect(seen('dead-lettered:hk-poison')[0]).toMatchObject({ kind: 'queue', source: 'hk-poison', reason: 'poison', context: undefined });
    // The reaper may quarantine it during boot, before a listener of this
    // file's own could attach: the hook (attached before consumers start) is
    // the witness that it was announced, once.
    const dead = await broker.app.get(QueueDeadLetterService).list('hk-poison');
    expect(dead.map((d) => d.reason)).toEqual(['poison']);
    expect(seen('dead-lettered:hk-poison')).toHaveLength(1);
    expect(ran.get('hk-poison')).toBeUndefined();
  });

  it('calls a dropped hook with the count a full channel buffer dropped', async () => {
    for (let n = 0; n < 5; n += 1) await broker.plain.publish('hk-news', String(n));
    // One runs (held by the gate), one waits in the buffer of 1, three are dropped.
    const dropped = (): number => (seen('dropped:hk-news') as BrokerHookEvent<'dropped'>[]).reduce((sum, e) => sum + e.count, 0);
    await waitFor(() => dropped() === 3, { description: 'three drops' });
    expect(seen('dropped:hk-news')[0]).toMatchObject({ kind: 'channel', source: 'hk-news' });
    channelGate.resolve();
    await waitFor(() => ran.get('hk-news') === 2, { description: 'the buffered message to run' });
  });

  function errors(pattern: RegExp): string[] {
    return broker.logger.lines.filter((l) => l.level === 'error' && pattern.test(l.message)).map((l) => l.message);
  }
});

@Injectable()
class UnknownEventHook {
  @OnBrokerEvent('deadLettered' as never)
  onDead(): void {}
}

@Injectable()
class ChannelRetryHook {
  @OnBrokerEvent('retrying', { channel: 'news' })
  onRetry(): void {}
}

@Injectable()
class MistypedHook {
  @OnBrokerEvent('failed', { queue: 'emials' })
  onFailed(): void {}
}

@Injectable()
class CountingHook {
  readonly heard: HandledEvent[] = [];

  @OnBrokerEvent('handled')
  onHandled(event: HandledEvent): void {
    this.heard.push(event);
  }
}

describe('@OnBrokerEvent at bootstrap and shutdown', () => {
  const broker = useBrokerApp({}, []);
  const options = (): { connection: { url: string } } => ({ connection: { url: broker.redis.url } });

  it('fails bootstrap on an unknown event, naming the method and the value', async () => {
    const boot = bootBroker(options(), [UnknownEventHook]);
    await expect(boot).rejects.toBeInstanceOf(InvalidBrokerOptionsError);
    await expect(boot).rejects.toThrow(/UnknownEventHook@onDead.*"deadLettered"/);
  });

  it('fails bootstrap on a channel filter for an event channels never emit', async () => {
    await expect(bootBroker(options(), [ChannelRetryHook])).rejects.toThrow(/ChannelRetryHook@onRetry.*never emitted for a channel/);
  });

  it('warns at bootstrap about a hook whose queue no handler of the app consumes', async () => {
    const { app, logger } = await bootBroker(options(), [MistypedHook]);
    await app.close();
    const warnings = logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    expect(warnings).toContainEqual(expect.stringMatching(/MistypedHook@onFailed on 'failed' filters \{"queue":"emials"\}, which no handler/));
  });

  it('detaches every hook when the app closes', async () => {
    const { app } = await bootBroker(options(), [CountingHook]);
    const events = app.get(BrokerEvents);
    const hook = app.get(CountingHook);
    expect(events.listenerCount('handled')).toBe(1);
    await app.close();
    expect(events.listenerCount('handled')).toBe(0);
    events.emit('handled', { kind: 'queue', source: 'q', handler: 'X@y', durationMs: 1, context: undefined });
    expect(hook.heard).toHaveLength(0);
  });
});
