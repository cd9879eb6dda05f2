import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Runs one full garbage collection now, when V8 offers a way to (else does
 * nothing).
 *
 * Why (docs/performance.md, "A collection after boot"): a Nest app's
 * bootstrap leaves tens of MB in V8's heap, much of it garbage that is still
 * in the young generation when the first messages arrive. The first
 * collections under traffic copy it (a 10–30 ms pause in a fresh worker's
 * first seconds), and the first full one follows about a second later: most
 * of a cold worker's p99. Collected at boot, before any message waits, it
 * costs that pause once with nothing queued behind it.
 *
 * `gc` is the function V8 installs with `--expose-gc`: the global one when
 * the process was started with the flag, else taken from a fresh context
 * with the flag set only for that moment, so no later context (a `vm`
 * sandbox, a worker) gets a `gc` global.
 */
export function collectGarbageNow(): void {
  (exposedGc() ?? borrowedGc())?.();
}

function exposedGc(): (() => void) | undefined {
  const { gc } = globalThis as { gc?: unknown };
  return typeof gc === 'function' ? (gc as () => void) : undefined;
}

function borrowedGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('typeof gc === "function" ? gc : undefined') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
