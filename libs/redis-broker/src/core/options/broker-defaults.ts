/**
 * The defaults of the module's, the handlers' and the dashboard's options,
 * and the library's internal timings and batch sizes, in one object: an
 * option that is not given takes its value from here. Read-only (`as const`).
 * @publicApi
 */
export const BROKER_DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  keyPrefix: '',
  producerOnly: false,
  shutdownTimeoutMs: 10_000,
  heartbeatIntervalMs: 5_000,
  consumerTtlMs: 30_000,
  delayedPollMs: 1_000,
  deadLetterMaxEntries: 0,
  collectBootGarbage: true,
  delayedPromoteBatch: 500,
  deadLetterRequeueBatch: 500,
  fetchErrorBackoffMs: { initial: 100, max: 5_000 },
  logThrottleMs: 10_000,
  stopGraceMs: 2_000,
  /** How often a Cluster's sharded-subscriber client re-reads the slot map, unless `slotsRefreshInterval` is set. */
  shardedSlotsRefreshMs: 5_000,
  /** How long `BrokerClient.request` waits for its reply unless given `timeoutMs`. */
  requestTimeoutMs: 30_000,
  /**
   * Expiry a worker sets on a reply list with each reply it pushes: replies
   * of a requester that is gone for good do not stay in Redis.
   */
  replyTtlMs: 60_000,
  /** `BLPOP` timeout (seconds) of a requester's reply loop: how often it checks whether it is stopping. */
  replyBlockSeconds: 2,
  /** How long an `enqueue`/`append` with `replicas` waits for them (`WAIT` timeout). */
  replicasTimeoutMs: 1_000,
  /** Slot redirections (`MOVED`, `ASK`, `TRYAGAIN`) a replicated write follows before failing. */
  replicatedWriteRedirections: 16,
  /** Pause before a replicated write is sent again after `TRYAGAIN` / `CLUSTERDOWN`. */
  replicatedWriteRetryMs: 100,
  /** How long an `enqueue` `dedupKey` is remembered unless given `dedupTtlMs` (1 hour). */
  dedupTtlMs: 3_600_000,
  /**
   * Most messages in one command of `enqueueMany` (one `LPUSH`), `appendMany` and `publishMany`
   * (one pipeline): beyond it a call sends several (a transaction, for `enqueueMany`).
   */
  produceChunk: 1_000,
  /** A stream ack that failed is sent again after this pause, doubled each time up to the cap (ms). */
  ackRetryMs: { initial: 100, max: 2_000 },
  observability: {
    metricPrefix: 'nrb_',
    durationBucketsSeconds: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    /** Buckets of `queue_wait_seconds` (enqueue to handler start): a backlog waits minutes. */
    waitBucketsSeconds: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    /** Longest a scrape waits for Redis counts before serving the previous values. */
    scrapeTimeoutMs: 1_000,
    /** Longest the health PING may take. */
    pingTimeoutMs: 1_000,
    /** Slack over a consumer's blockTimeoutMs before its loop counts as stuck. */
    stuckMarginMs: 5_000,
  },
  queue: {
    mode: 'reliable',
    concurrency: 1,
    prefetch: 0,
    /** `auto`: `concurrency` when `prefetch` is 0 and `concurrency` above 1, else 0. */
    readAhead: 'auto',
    maxAttempts: 3,
    backoff: { type: 'exponential', delayMs: 1_000, maxDelayMs: 60_000, jitter: true },
    parse: 'json',
    maxMessageBytes: 1024 * 1024,
    blockTimeoutMs: 2_000,
    maxDeaths: 3,
    /** 0: no limit on a run. */
    timeoutMs: 0,
  },
  channel: {
    parse: 'auto',
    bufferSize: 10_000,
    maxBufferBytes: 32 * 1024 * 1024,
    overflow: 'drop-oldest',
    concurrency: 1,
  },
  /** How often an idle subscriber connection is PINGed (liveness for health checks). */
  subscriberPingMs: 5_000,
  /** Buffered channel messages one listener runs between two checks of its CPU time slice. */
  channelDispatchBatch: 64,
  /** CPU time (ms) one listener's buffered messages may run back to back before yielding to socket reads. */
  channelDispatchSliceMs: 50,
  stream: {
    startId: '0',
    concurrency: 1,
    prefetch: 0,
    /** `auto`: `concurrency` when `prefetch` is 0 and `concurrency` above 1, else 0. */
    readAhead: 'auto',
    maxDeliveries: 3,
    backoff: { type: 'exponential', delayMs: 1_000, maxDelayMs: 60_000, jitter: true },
    parse: 'fields',
    maxMessageBytes: 1024 * 1024,
    blockTimeoutMs: 2_000,
    claimIdleMs: 30_000,
    reclaimIntervalMs: 5_000,
    idleConsumerTtlMs: 3_600_000,
    /** 0: no limit on a run. */
    timeoutMs: 0,
  },
  /**
   * Entries a stream consumer holds have their idle time reset this many
   * times per `claimIdleMs` (`XCLAIM ... JUSTID`), so a live run is never
   * taken over however long it takes.
   */
  streamIdleRefreshesPerClaimIdle: 3,
  /** Queue and stream names whose keys each producer keeps built (the oldest made is dropped first). */
  producerKeyCacheSize: 1_000,
  /** Pending entries looked at per reclaim step. */
  streamReclaimBatch: 100,
  /** Dead-letter entries requeued per script call. */
  streamRequeueBatch: 100,
  /** Cross-process limits of queue and stream-group handlers (`rateLimit`, `globalConcurrency`). */
  limits: {
    /** `globalConcurrencyLeaseMs`: a lease not renewed this long expires (renewed every third of it). */
    leaseMs: 30_000,
    /** A rate reservation taken before a fetch is dated this long past the fetch's block timeout until committed. */
    reservationMarginMs: 5_000,
    /** With a backlog, a consumer takes a rate slot (and fetches its message) at most this long before the slot frees. */
    rateLeadMs: 50,
    /** A message fetched for a slot whose time passed more than this long ago (the fetch blocked) gives the slot back. */
    rateLateMs: 250,
    /**
     * With a backlog, a slot that freed while every consumer was late (a
     * stalled host) is dated when it freed, up to this long ago (and at most
     * perMs / 20), so the stall does not cost the rate those slots.
     */
    rateCatchUpMs: 50,
  },
  /** Distributed schedules (`@Scheduled`, `SchedulerService`). */
  schedule: {
    misfire: 'fire-once',
    /** A tick claimed later than this after its time is missed: `misfire` decides whether it still fires. */
    misfireGraceMs: 5_000,
    /** Smallest `every`. */
    minEveryMs: 100,
    /** Longest a poller sleeps: a schedule another process added or changed is seen within this. */
    maxSleepMs: 1_000,
    /**
     * Default `scheduleCheckMs`: how often a process that has no schedule of
     * its own checks whether one exists (created at run time elsewhere), to
     * start polling.
     */
    idleCheckMs: 5_000,
    /** Due schedules one poll claims; more are claimed by the next poll at once. */
    claimBatch: 100,
    /** A claimed tick still in the outbox this long after its claim is delivered by any poller. */
    outboxStaleMs: 5_000,
    /** How long a target remembers the ticks it got (a tick delivered twice within this is dropped). */
    dedupWindowMs: 600_000,
    /** Backoff of a poller whose Redis calls fail. */
    errorBackoffMs: { initial: 100, max: 5_000 },
  },
  /** `batch` of a `@QueueHandler` / `@StreamConsumer` (see docs/batches.md); `size` has no default. */
  batch: {
    maxWaitMs: 20,
    /** Largest `batch.size` accepted. */
    maxSize: 10_000,
    /** Largest `batch.maxWaitMs` accepted (a minute). */
    maxWaitLimitMs: 60_000,
  },
  /** `RedisBrokerDashboardModule.register()`. */
  dashboard: {
    path: 'broker',
    refreshIntervalMs: 2_000,
    /** Width of one throughput bar. */
    throughputBucketMs: 10_000,
    /** Bars kept: 10 minutes of 10 s. */
    throughputBuckets: 60,
    /** Failures kept for the "recent failures" table. */
    recentFailures: 50,
    /** Dead letters shown per page. */
    deadLetterPage: 50,
  },
} as const;
