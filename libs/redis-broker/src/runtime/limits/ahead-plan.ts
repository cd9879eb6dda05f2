/** When each message fetched for rate slots dated ahead may start, and which slots go back. */
export interface AheadPlan {
  /** Per message on time, in slot order: its index in the batch and the host time (epoch ms) it starts at. */
  onTime: { index: number; dueAt: number }[];
  /** Batch indexes of messages that came too late for their slot: they need a new one. */
  late: number[];
  /** Slot numbers (1-based, as `rate-acquire` names them) to drop: unused, or their message came late. */
  drop: number[];
}

/**
 * Matches a fetched batch to the slots reserved for it. Slot i (1-based)
 * lies `offsets[i - 1]` ms after the Redis clock's now of the reserve, which
 * ran before `reservedAt` (the host time its reply came): starting at
 * `reservedAt + offset` is never before the slot. Message k takes slot k + 1
 * (the earliest slots first). A message whose due time is more than `lateMs`
 * behind `now` (the fetch blocked on an empty queue) gives its slot back
 * and needs a new one: a start never trails its counted time by more than
 * `lateMs` plus the timer's wake-up lag. Slots without a message go back.
 * Pure.
 */
export function planAhead(offsets: readonly number[], fetched: number, reservedAt: number, now: number, lateMs: number): AheadPlan {
  const plan: AheadPlan = { onTime: [], late: [], drop: [] };
  for (let slot = 1; slot <= offsets.length; slot += 1) {
    const index = slot - 1;
    if (index >= fetched) {
      plan.drop.push(slot);
      continue;
    }
    const dueAt = reservedAt + offsets[index];
    if (now - dueAt > lateMs) {
      plan.late.push(index);
      plan.drop.push(slot);
    } else {
      plan.onTime.push({ index, dueAt });
    }
  }
  return plan;
}
