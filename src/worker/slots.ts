/**
 * The worker's slot book: jobs running (overall and per type) and slots promised to claims
 * still under way. Every claim reserves the room it asks for until its answer is back, so claims
 * in flight together never promise more than `max_concurrent` or a type's limit.
 */
export class Slots {
  private used = 0;
  private reserved = 0;
  private readonly usedPerType = new Map<string, number>();
  private readonly reservedPerType = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Slots neither running nor promised to a claim under way. */
  free(): number {
    return this.max - this.used - this.reserved;
  }

  /**
   * Room per type for a claim of at most `limit` jobs; `caps` gives each claimable type's limit
   * (undefined: none). Types without room are left out.
   */
  room(limit: number, caps: Iterable<[string, number | undefined]>): Record<string, number> {
    const types: Record<string, number> = {};
    if (limit <= 0) return types;
    for (const [type, cap] of caps) {
      const used = (this.usedPerType.get(type) ?? 0) + (this.reservedPerType.get(type) ?? 0);
      const room = cap === undefined ? limit : Math.min(limit, cap - used);
      if (room > 0) types[type] = room;
    }
    return types;
  }

  /** Promises `limit` slots (and each type's room) to a claim; returns the call that gives them back. */
  reserve(limit: number, types: Record<string, number>): () => void {
    this.book(limit, types, 1);
    return () => this.book(limit, types, -1);
  }

  /** A claimed job starts running. */
  take(type: string): void {
    this.used++;
    this.usedPerType.set(type, (this.usedPerType.get(type) ?? 0) + 1);
  }

  /** A running job gave its slot back. */
  give(type: string): void {
    this.used--;
    this.usedPerType.set(type, (this.usedPerType.get(type) ?? 1) - 1);
  }

  private book(limit: number, types: Record<string, number>, sign: 1 | -1): void {
    this.reserved += sign * limit;
    for (const [type, room] of Object.entries(types)) {
      this.reservedPerType.set(type, (this.reservedPerType.get(type) ?? 0) + sign * room);
    }
  }
}
