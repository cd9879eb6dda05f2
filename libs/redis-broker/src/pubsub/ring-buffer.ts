/**
 * A first-in, first-out queue on a circular array: O(1) push and shift at any
 * size (`Array#shift` copies). The array grows by doubling as needed; callers
 * bound the length themselves.
 */
export class RingBuffer<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow();
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count += 1;
  }

  /** Removes and returns the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count -= 1;
    return item;
  }

  /** Empties the buffer; returns how many items it held. */
  clear(): number {
    const count = this.count;
    this.items = new Array<T | undefined>(16);
    this.head = 0;
    this.count = 0;
    return count;
  }

  private grow(): void {
    const bigger = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.count; i += 1) bigger[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = bigger;
    this.head = 0;
  }
}
