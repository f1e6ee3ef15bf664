/**
 * A znode's child names, iterated in the order the server returns them. ZooKeeper keeps children in a
 * `java.util.HashSet<String>` (DataNode: `new HashSet<>(8)`) and getChildren copies it as is, so the
 * order is Java's hash order, not insertion and not sorted. It is reproduced here so that code which
 * wrongly relies on an order fails in memory as it would against a real server.
 *
 * Java's HashMap: bucket = (h ^ h >>> 16) & (capacity - 1); a bucket lists its entries in insertion
 * order and a resize keeps that relative order; capacity starts at 8, doubles when the size passes
 * 3/4 of it, or when one bucket reaches 9 entries while the capacity is under 64. It never shrinks.
 */

/** `String.hashCode()`: over UTF-16 code units, as JS strings are. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

function spread(h: number): number {
  return h ^ (h >>> 16);
}

export class ChildSet {
  /** name -> insertion sequence (re-adding after a removal appends to its bucket again). */
  private readonly entries = new Map<string, number>();
  private capacity = 8;
  private seq = 0;

  get size(): number {
    return this.entries.size;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  add(name: string): void {
    if (this.entries.has(name)) return;
    this.entries.set(name, this.seq++);
    if (this.capacity < 64 && this.crowded(this.bucketOf(name))) this.capacity *= 2;
    else if (this.entries.size > this.capacity * 0.75) this.capacity *= 2;
  }

  delete(name: string): void {
    this.entries.delete(name);
  }

  /** The names in Java's iteration order. */
  values(): string[] {
    return [...this.entries.entries()]
      .map(([name, seq]) => ({ name, seq, bucket: this.bucketOf(name) }))
      .sort((a, b) => a.bucket - b.bucket || a.seq - b.seq)
      .map((e) => e.name);
  }

  /** Java treeifies a bucket of 9; under capacity 64 it resizes instead. */
  private crowded(bucket: number): boolean {
    let count = 0;
    for (const other of this.entries.keys()) if (this.bucketOf(other) === bucket) count++;
    return count >= 9;
  }

  private bucketOf(name: string): number {
    return spread(javaStringHash(name)) & (this.capacity - 1);
  }
}
