/**
 * The keys a subscription signs with. During a rotation the previous key keeps signing until
 * `previousValidUntil`, so receivers can switch secrets at any moment of the grace period:
 * every delivery carries a signature that both the old and the new secret verify.
 */

export type SigningKeysInit =
  { current: Buffer } | { current: Buffer; previous: Buffer; previousValidUntil: Date };

export class SigningKeys {
  readonly current: Buffer;
  readonly previous: Buffer | undefined;
  readonly previousValidUntil: Date | undefined;
  // Built once: activeKeys runs for every delivery attempt.
  private readonly currentOnly: readonly Buffer[];
  private readonly currentAndPrevious: readonly Buffer[];

  constructor(init: SigningKeysInit) {
    // Copies, so a caller reusing its buffers cannot change what we sign with.
    this.current = ownCopy(init.current);
    const hasPrevious = "previous" in init && !init.previous.equals(init.current);
    this.previous = hasPrevious ? ownCopy(init.previous) : undefined;
    this.previousValidUntil = hasPrevious ? new Date(init.previousValidUntil.getTime()) : undefined;
    this.currentOnly = Object.freeze([this.current]);
    this.currentAndPrevious =
      this.previous === undefined ? this.currentOnly : Object.freeze([this.current, this.previous]);
  }

  /**
   * Current key first, then the previous one while `now` is before `previousValidUntil`
   * (at that instant it is dropped). The result is shared and frozen.
   */
  activeKeys(now: Date): readonly Buffer[] {
    const until = this.previousValidUntil;
    return until !== undefined && now.getTime() < until.getTime()
      ? this.currentAndPrevious
      : this.currentOnly;
  }
}

/**
 * A copy in its own memory. `Buffer.from(buffer)` of a small buffer lands in Node's shared 8 KiB
 * pool, and handing such a view to a worker thread would clone the whole pool slab each time.
 */
function ownCopy(b: Uint8Array): Buffer {
  return Buffer.from(new Uint8Array(b).buffer);
}
