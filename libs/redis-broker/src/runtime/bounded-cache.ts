/**
 * A memo of values built from a name (a queue's or stream's keys), holding
 * at most `max` of them: a producer that writes to ever new names (one
 * queue per tenant, per day, ...) must not keep every name it ever saw. When
 * full, the entry made first is dropped; a dropped name is simply built again.
 */
export class BoundedCache<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly max: number) {}

  /** How many values it holds now. */
  get size(): number {
    return this.entries.size;
  }

  /** The value for `name`, built with `make` when absent. */
  get(name: string, make: (name: string) => V): V {
    let value = this.entries.get(name);
    if (value === undefined) {
      value = make(name);
      if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(name, value);
    }
    return value;
  }
}
