import { setTimeout as sleep } from 'node:timers/promises';

const RESEND_PAUSE_MS = 50;

/**
 * The producer of the failover tests: for n = 0, 1, ... until `done()` (and at least `minSent`),
 * runs the writes `writesOf(n)` gives, one at a time and in order, re-sending each write that
 * rejected (a failover, a slot on the move, a replica that did not confirm) until it is stored.
 * Resolves to how many were sent and how many writes were re-sent.
 */
export async function produceUntil(
  minSent: number,
  done: () => boolean,
  writesOf: (n: number) => (() => Promise<unknown>)[],
): Promise<{ sent: number; resent: number }> {
  let resent = 0;
  let n = 0;
  for (; n < minSent || !done(); n += 1) {
    for (const write of writesOf(n)) {
      for (;;) {
        try {
          await write();
          break;
        } catch {
          resent += 1;
          await sleep(RESEND_PAUSE_MS);
        }
      }
    }
  }
  return { sent: n, resent };
}
