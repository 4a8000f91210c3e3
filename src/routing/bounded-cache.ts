/**
 * A size-bounded cache with approximately-LRU eviction, built from two generations of Map.
 *
 * Lookups hit `young` first, then `old` (promoting the entry). When `young` fills up it becomes
 * `old` and the previous `old` is dropped wholesale. Compared with an exact LRU (delete and
 * re-insert on every hit) a hit costs one Map.get and no writes, which is what matters on the
 * per-event path; entries used at least once per generation survive, the rest age out.
 * At most 2 × `capacity` entries are held.
 */
export class BoundedCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();

  constructor(private readonly capacity: number) {}

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) this.set(key, aged);
    return aged;
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    if (this.young.size >= this.capacity) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}
