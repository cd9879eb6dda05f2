import { describe, expect, it } from 'vitest';
import { checkBars, envelopeCost, pairedRatios, renderMarkdown, summarise } from '../../bench/report.js';
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

  describe("the envelope's cost", () => {
    // Repetitions rotate the order of systems: here the enveloped loop runs before the plain one first.
    const run = (): TrialResult[] => [
      trial('nrb-reliable', 60), trial('raw-list-envelope', 80), trial('raw-list', 100),
      trial('raw-list', 200), trial('raw-list-envelope', 100), trial('nrb-reliable', 50),
    ];

    it('splits the list scenario into the wire against plain and the library against the same wire', () => {
      expect(envelopeCost(summarise(run()))).toEqual([
        { measure: 'raw loop, enveloped messages, against plain ones', measured: '60 % (repetitions 80, 50 %)' },
        { measure: 'reliable list against the raw loop, both enveloped', measured: '61 % (repetitions 75, 50 %)' },
      ]);
    });

    it('keeps the plain raw loop as the "vs raw" reference and the bar', () => {
      const summaries = summarise(run());
      expect(listBar(run())?.measured).toBe('37 % (repetitions 60, 25 %)');
      const markdown = renderMarkdown(summaries, checkBars(summaries));
      // Reliable: median 55 against plain raw's 150 (37 %), not the enveloped loop's 90 (61 %).
      expect(markdown).toMatch(/\| nest-redis-broker list, reliable \(c50\) \| 55 \| 37 % \|/);
      expect(markdown).toMatch(/\| raw ioredis LPUSH \+ BLMPOP COUNT 100, enveloped messages \| 90 \| 60 % \|/);
      expect(markdown).toContain("### The envelope's cost on the list scenario");
    });

    it('says nothing when the enveloped loop did not run', () => {
      expect(envelopeCost(summarise(listRun([60], [100])))).toEqual([]);
      const summaries = summarise(listRun([60], [100]));
      expect(renderMarkdown(summaries, checkBars(summaries))).not.toContain('envelope');
    });
  });
});
