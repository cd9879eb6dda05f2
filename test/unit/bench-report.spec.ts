import { describe, expect, it } from 'vitest';
import { checkBars, pairedRatios, summarise } from '../../bench/report.js';
import type { TrialResult } from '../../bench/trial.js';
import type { SystemId } from '../../bench/protocol.js';

function trial(system: SystemId, throughput: number, error?: string): TrialResult {
  return { scenario: 'list', system, workers: 1, expected: 100, handled: error ? 0 : 100, elapsedMs: 1, throughput, maxRssBytes: 0, ...(error ? { error } : {}) };
}

/** The list scenario as `run.ts` records it: per repetition, each system in turn. */
function listRun(reliable: (number | 'failed')[], raw: number[]): TrialResult[] {
  return reliable.flatMap((value, i) => [
    value === 'failed' ? trial('nrb-reliable', 0, 'timed out') : trial('nrb-reliable', value),
    trial('raw-list', raw[i]),
  ]);
}

function listBar(results: TrialResult[]) {
  return checkBars(summarise(results)).find((b) => b.bar === 'reliable list ≥ 60 % of raw list');
}

describe('the benchmark report', () => {
  it('pairs each repetition with the other system run beside it', () => {
    const summaries = summarise(listRun([60, 100, 50], [100, 250, 50]));
    const reliable = summaries.find((s) => s.system === 'nrb-reliable');
    const raw = summaries.find((s) => s.system === 'raw-list');
    expect(pairedRatios(reliable, raw)).toEqual([0.6, 0.4, 1]);
  });

  it('decides a throughput bar by the ratio of medians and shows each repetition beside it', () => {
    // Medians 60 and 100: 60 %, met, though one repetition alone was at 40 %.
    expect(listBar(listRun([60, 100, 50], [100, 250, 50]))).toEqual({
      bar: 'reliable list ≥ 60 % of raw list',
      measured: '60 % (repetitions 60, 40, 100 %)',
      pass: true,
    });
    expect(listBar(listRun([50, 55, 58], [100, 100, 100]))?.pass).toBe(false);
  });

  it('names a repetition that failed instead of dropping it from the pairs', () => {
    expect(listBar(listRun([60, 'failed', 70], [100, 100, 100]))?.measured).toBe('65 % (repetitions 60, failed, 70 %)');
  });

  it('shows no repetitions for a single one', () => {
    expect(listBar(listRun([60], [100]))?.measured).toBe('60 %');
  });
});
