import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Waits for `work` until `deadline` (epoch ms); resolves to whether it
 * finished in time. The work is not cancelled: a Redis command left behind is
 * failed by ioredis when its connection is closed at shutdown.
 */
export async function settledBy(work: Promise<unknown>, deadline: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      work.then(() => true, () => true),
      sleep(Math.max(0, deadline - Date.now()), false, { signal: timer.signal }).catch(() => false),
    ]);
  } finally {
    timer.abort();
  }
}
