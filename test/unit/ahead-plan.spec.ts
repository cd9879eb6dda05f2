import { describe, expect, it } from 'vitest';
import { planAhead } from '../../libs/redis-broker/src/runtime/limits/ahead-plan.js';

describe('matching a fetched batch to rate slots dated ahead', () => {
  it('starts each message at its slot time, counted from when the reserve reply came', () => {
    const plan = planAhead([0, 12, 30], 3, 1_000, 1_005, 250);
    expect(plan.onTime).toEqual([{ index: 0, dueAt: 1_000 }, { index: 1, dueAt: 1_012 }, { index: 2, dueAt: 1_030 }]);
    expect(plan.late).toEqual([]);
    expect(plan.drop).toEqual([]);
  });

  it('gives back the slots no message came for, the latest ones', () => {
    const plan = planAhead([0, 12, 30, 41], 2, 1_000, 1_003, 250);
    expect(plan.onTime.map((s) => s.index)).toEqual([0, 1]);
    expect(plan.drop).toEqual([3, 4]);
  });

  it('gives back the slot of a message that came more than lateMs after it, and marks the message for a new slot', () => {
    // The fetch blocked on an empty queue for 300 ms: slot 1 (due at 1 000) is 300 ms behind, slot 2 (1 100) 200 ms.
    const plan = planAhead([0, 100], 2, 1_000, 1_300, 250);
    expect(plan.late).toEqual([0]);
    expect(plan.drop).toEqual([1]);
    expect(plan.onTime).toEqual([{ index: 1, dueAt: 1_100 }]);
  });

  it('keeps a message exactly lateMs behind its slot', () => {
    expect(planAhead([0], 1, 1_000, 1_250, 250).onTime).toEqual([{ index: 0, dueAt: 1_000 }]);
  });

  it('plans nothing for an empty fetch but dropping every slot', () => {
    expect(planAhead([5, 9], 0, 1_000, 1_010, 250)).toEqual({ onTime: [], late: [], drop: [1, 2] });
  });
});
