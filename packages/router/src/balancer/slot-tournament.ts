/**
 * The first of a fixed list's slots 0..n-1 in the caller's order, kept as a tournament tree:
 * each inner entry holds the winner of its two halves. When slots' keys change, `update`
 * replays the matches on each one's path to the root (log2 n comparisons). The order is read
 * from the list's items at each comparison, so the tree holds no keys of its own.
 *
 * Unlike a binary heap, the tree stays right when several keys changed before any of them is
 * updated, in whatever order they are then updated: a match is always replayed from its two
 * halves' current winners, and the last path that passes through a match replays it after every
 * match below it. Balancers learn of changes afterwards, in batches (fleet/selection-changes.ts).
 */
export class SlotTournament {
  /** Leaves from `width` on (slot or -1 past the end); inner entry i plays 2i against 2i+1. */
  private readonly winners: Int32Array;
  private readonly width: number;

  /** `before(a, b)`: slot a goes strictly before slot b (a total order: break ties by slot). */
  constructor(
    size: number,
    private readonly before: (a: number, b: number) => boolean,
  ) {
    let width = 1;
    while (width < size) width *= 2;
    this.width = width;
    this.winners = new Int32Array(2 * width).fill(-1);
    for (let slot = 0; slot < size; slot++) this.winners[width + slot] = slot;
    this.rebuild();
  }

  /** The first slot in the order; -1 for an empty list. */
  first(): number {
    return this.winners[1] as number;
  }

  /** Replays the matches above `slot` after its key changed. */
  update(slot: number): void {
    for (let at = (this.width + slot) >> 1; at >= 1; at >>= 1) this.play(at);
  }

  /** Replays every match, in O(n). */
  rebuild(): void {
    for (let at = this.width - 1; at >= 1; at--) this.play(at);
  }

  private play(at: number): void {
    const a = this.winners[2 * at] as number;
    const b = this.winners[2 * at + 1] as number;
    this.winners[at] = b === -1 || (a !== -1 && !this.before(b, a)) ? a : b;
  }
}
