import { describe, expect, it } from 'vitest';
import { decideTick, NextRunCalculator } from '../../libs/redis-broker/src/schedule/next-run.calculator.js';
import { resolveSchedule, resolveTiming } from '../../libs/redis-broker/src/schedule/schedule-definition.validation.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function runs(timing: Parameters<typeof resolveTiming>[1], from: string, count: number): (string | null)[] {
  const calculator = new NextRunCalculator(resolveTiming('t', timing));
  const out: (string | null)[] = [];
  let t = at(from);
  for (let i = 0; i < count; i += 1) {
    const next = calculator.runAfter(t);
    out.push(iso(next));
    if (next === null) break;
    t = next;
  }
  return out;
}

describe('next run of a cron schedule in a time zone across DST changes', () => {
  it('runs a daily 02:30 Berlin job at 03:00 local on the spring-forward day, when 02:30 does not exist', () => {
    expect(runs({ cron: '30 2 * * *', timeZone: 'Europe/Berlin' }, '2026-03-27T12:00:00Z', 4)).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET (UTC+1)
      '2026-03-29T01:00:00.000Z', // 02:30 is skipped: 03:00 CEST
      '2026-03-30T00:30:00.000Z', // 02:30 CEST (UTC+2)
      '2026-03-31T00:30:00.000Z',
    ]);
  });

  it('runs a daily 02:30 Berlin job once on the fall-back day, though 02:30 happens twice', () => {
    expect(runs({ cron: '30 2 * * *', timeZone: 'Europe/Berlin' }, '2026-10-24T12:00:00Z', 3)).toEqual([
      '2026-10-25T00:30:00.000Z', // the first 02:30 (CEST); the second (01:30Z) does not fire
      '2026-10-26T01:30:00.000Z', // 02:30 CET
      '2026-10-27T01:30:00.000Z',
    ]);
  });

  it('keeps a New York 09:00 job at 09:00 local across both changes (UTC hour moves)', () => {
    expect(runs({ cron: '0 9 * * *', timeZone: 'America/New_York' }, '2026-03-07T15:00:00Z', 3)).toEqual([
      '2026-03-08T13:00:00.000Z', // DST began 02:00 that night: EDT, UTC-4
      '2026-03-09T13:00:00.000Z',
      '2026-03-10T13:00:00.000Z',
    ]);
    expect(runs({ cron: '0 9 * * *', timeZone: 'America/New_York' }, '2026-10-31T14:00:00Z', 2)).toEqual([
      '2026-11-01T14:00:00.000Z', // EST, UTC-5
      '2026-11-02T14:00:00.000Z',
    ]);
  });

  it('runs an hourly job 23 times on the Berlin spring-forward day and 25 times on the fall-back day', () => {
    const count = (from: string, to: string): number => {
      const calculator = new NextRunCalculator(resolveTiming('t', { cron: '0 * * * *', timeZone: 'Europe/Berlin' }));
      let n = 0;
      for (let t = calculator.firstRun(at(from)); t !== null && t < at(to); t = calculator.runAfter(t)) n += 1;
      return n;
    };
    expect(count('2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z')).toBe(23);
    expect(count('2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z')).toBe(25);
  });
});

describe('next run of an every schedule', () => {
  it('ticks at whole multiples of the period since the epoch, or since startAt', () => {
    const plain = new NextRunCalculator(resolveTiming('t', { every: 200 }));
    expect(plain.firstRun(1_050)).toBe(1_200);
    expect(plain.firstRun(1_200)).toBe(1_200);
    expect(plain.runAfter(1_200)).toBe(1_400);
    const anchored = new NextRunCalculator(resolveTiming('t', { every: 1_000, startAt: 10_250 }));
    expect(anchored.firstRun(0)).toBe(10_250);
    expect(anchored.runAfter(12_000)).toBe(12_250);
  });

  it('has no run after endAt', () => {
    const calculator = new NextRunCalculator(resolveTiming('t', { every: 1_000, endAt: 5_000 }));
    expect(calculator.runAfter(4_000)).toBe(5_000);
    expect(calculator.runAfter(5_000)).toBeNull();
  });
});

describe('deciding a due tick', () => {
  const stored = (misfire: 'fire-once' | 'skip') => resolveTiming('t', { every: 1_000, misfire, misfireGraceMs: 500 });

  it('fires a tick claimed within the grace and moves to the run right after it (catching up, no gap)', () => {
    const timing = stored('skip');
    expect(decideTick(new NextRunCalculator(timing), timing, 10_000, 10_400)).toEqual({ fire: true, next: 11_000 });
  });

  it('fires a missed tick once with fire-once and resumes at the first run after now, not with a burst', () => {
    const timing = stored('fire-once');
    expect(decideTick(new NextRunCalculator(timing), timing, 10_000, 15_300)).toEqual({ fire: true, next: 16_000 });
  });

  it('drops a missed tick with skip and resumes at the first run after now', () => {
    const timing = stored('skip');
    expect(decideTick(new NextRunCalculator(timing), timing, 10_000, 15_300)).toEqual({ fire: false, next: 16_000 });
  });
});

describe('schedule definitions rejected at startup', () => {
  const bad: [string, unknown, RegExp][] = [
    ['a bad cron', { cron: '61 * * * *' }, /"t\.cron".*61 \* \* \* \*/],
    ['both cron and every', { cron: '* * * * *', every: 1_000 }, /"t".*exactly one of cron or every/],
    ['neither cron nor every', {}, /"t".*exactly one of cron or every/],
    ['an unknown time zone', { cron: '* * * * *', timeZone: 'Mars/Olympus' }, /"t\.timeZone".*Mars\/Olympus/],
    ['every below the floor', { every: 10 }, /"t\.every".*got 10.*from 100/],
    ['a time zone with every', { every: 1_000, timeZone: 'UTC' }, /"t\.timeZone"/],
    ['an unknown misfire policy', { every: 1_000, misfire: 'burst' }, /"t\.misfire".*burst/],
    ['endAt before startAt', { every: 1_000, startAt: 10, endAt: 5 }, /"t\.endAt"/],
    ['an unknown option', { every: 1_000, evry: 1 }, /"t\.evry"/],
  ];
  it.each(bad)('rejects %s, naming the option and value', (_what, timing, message) => {
    expect(() => resolveTiming('t', timing)).toThrow(message);
  });

  it('rejects a target that is neither one queue nor one stream, and a schedule id that needs escaping', () => {
    expect(() => resolveSchedule('s', 'a', { every: 1_000 }, { queue: 'q', stream: 's' }, null)).toThrow(/"s\.target"/);
    expect(() => resolveSchedule('s', 'a b', { every: 1_000 }, { queue: 'q' }, null)).toThrow(/schedule name "a b"/);
    expect(() => resolveSchedule('s', 'a', { every: 1_000 }, { stream: 's' }, [1])).toThrow(/"s\.target\.payload"/);
  });
});
