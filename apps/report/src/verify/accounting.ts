/**
 * The bookkeeping of `verify`: for one partition, every offset from the log's start to the offset
 * the sink stored must be exactly one of a stored row, a dead letter, or a recorded re-send, unless
 * Kafka does not return it at all (a transaction marker, a compacted record). Offsets are kept in
 * flat arrays indexed from the log start, so millions of them cost a few bytes each.
 */

/** What is known of one partition before its offsets are counted. */
export interface PartitionBounds {
  readonly partition: number;
  /** The log start offset: records below it are gone (retention). */
  readonly low: bigint;
  /** The high watermark: the next offset Kafka will write. */
  readonly high: bigint;
  /** The next offset the sink stored in PostgreSQL for the group; everything below is done. */
  readonly stored: bigint;
}

/** Up to this many offsets of each problem are listed by number; the rest are counted. */
const EXAMPLES = 5;

export interface PartitionAccount extends PartitionBounds {
  /** Offsets in [low, stored) holding one stored row. */
  readonly rows: number;
  readonly deadLetters: number;
  readonly resends: number;
  /** Offsets in [low, stored) Kafka did not return: transaction markers, compacted records. */
  readonly notReturned: number;
  /** Offsets Kafka returned that nothing accounts for: a message lost. */
  readonly gaps: number;
  readonly gapExamples: readonly bigint[];
  /** Offsets accounted for more than once (two rows, a row and a dead letter, ...). */
  readonly duplicates: number;
  readonly duplicateExamples: readonly bigint[];
  /** Offsets whose only account is several dead letters: at least once, as documented; no error. */
  readonly deadLettersRepeated: number;
  /** Rows or re-sends from offsets at or beyond the stored offset: the offset should have moved. */
  readonly beyondStored: number;
  /** Rows from offsets below the log start: Kafka no longer has them to compare with. */
  readonly beforeLogStart: number;
  /** high - stored: what the sink has yet to store. */
  readonly lag: bigint;
  /** Records Kafka deleted (retention) before the sink stored them: low - stored when positive. */
  readonly expiredUnstored: bigint;
}

const ROW = 0;
const DEAD_LETTER = 1;
const RESEND = 2;

/**
 * Counts one partition's offsets. Feed it what Kafka returned (returned), then what PostgreSQL and
 * the dead-letter topic hold (row, deadLetter, resend), in any order; account() gives the result.
 */
export class PartitionLedger {
  readonly bounds: PartitionBounds;
  private readonly span: number;
  private readonly returnedFlags: Uint8Array;
  /** Per offset and kind (row, dead letter, re-send), how often it was seen, saturating at 255. */
  private readonly counts: Uint8Array;
  private beyondStored = 0;
  private beforeLogStart = 0;

  constructor(bounds: PartitionBounds) {
    this.bounds = bounds;
    const span = bounds.stored > bounds.low ? bounds.stored - bounds.low : 0n;
    if (span > BigInt(2 ** 31)) {
      throw new Error(
        `partition ${bounds.partition}: ${span} offsets to verify is more than one pass can hold`,
      );
    }
    this.span = Number(span);
    this.returnedFlags = new Uint8Array(this.span);
    this.counts = new Uint8Array(this.span * 3);
  }

  /** Kafka returned a record at this offset. */
  returned(offset: bigint): void {
    const index = this.indexOf(offset);
    if (index !== undefined) this.returnedFlags[index] = 1;
  }

  row(offset: bigint): void {
    this.count(offset, ROW, true);
  }

  deadLetter(offset: bigint): void {
    this.count(offset, DEAD_LETTER, false);
  }

  resend(offset: bigint): void {
    this.count(offset, RESEND, true);
  }

  account(): PartitionAccount {
    let rows = 0;
    let deadLetters = 0;
    let resends = 0;
    let notReturned = 0;
    let gaps = 0;
    let duplicates = 0;
    let deadLettersRepeated = 0;
    const gapExamples: bigint[] = [];
    const duplicateExamples: bigint[] = [];
    for (let i = 0; i < this.span; i++) {
      const row = this.counts[i * 3 + ROW] ?? 0;
      const letters = this.counts[i * 3 + DEAD_LETTER] ?? 0;
      const resent = this.counts[i * 3 + RESEND] ?? 0;
      const offset = this.bounds.low + BigInt(i);
      if (this.returnedFlags[i] === 0) {
        // Nothing can stand for a record Kafka does not have; something that does is a duplicate
        // of nothing, i.e. a row from a message that never existed.
        if (row + letters + resent === 0) notReturned++;
        else {
          duplicates++;
          if (duplicateExamples.length < EXAMPLES) duplicateExamples.push(offset);
        }
        continue;
      }
      const kinds = (row > 0 ? 1 : 0) + (letters > 0 ? 1 : 0) + (resent > 0 ? 1 : 0);
      if (kinds === 0) {
        gaps++;
        if (gapExamples.length < EXAMPLES) gapExamples.push(offset);
      } else if (kinds > 1 || row > 1 || resent > 1) {
        duplicates++;
        if (duplicateExamples.length < EXAMPLES) duplicateExamples.push(offset);
      } else if (row === 1) rows++;
      else if (resent === 1) resends++;
      else {
        deadLetters++;
        if (letters > 1) deadLettersRepeated++;
      }
    }
    return {
      ...this.bounds,
      rows,
      deadLetters,
      resends,
      notReturned,
      gaps,
      gapExamples,
      duplicates,
      duplicateExamples,
      deadLettersRepeated,
      beyondStored: this.beyondStored,
      beforeLogStart: this.beforeLogStart,
      lag: this.bounds.high > this.bounds.stored ? this.bounds.high - this.bounds.stored : 0n,
      expiredUnstored: this.bounds.low > this.bounds.stored ? this.bounds.low - this.bounds.stored : 0n,
    };
  }

  private count(offset: bigint, kind: number, strict: boolean): void {
    if (offset < this.bounds.low) {
      this.beforeLogStart++;
      return;
    }
    const index = this.indexOf(offset);
    if (index === undefined) {
      // A dead letter sent before a crash can outlive its chunk: only stored state must not run ahead.
      if (strict) this.beyondStored++;
      return;
    }
    const at = index * 3 + kind;
    this.counts[at] = Math.min(255, (this.counts[at] ?? 0) + 1);
  }

  private indexOf(offset: bigint): number | undefined {
    if (offset < this.bounds.low || offset >= this.bounds.stored) return undefined;
    return Number(offset - this.bounds.low);
  }
}

/**
 * Whether the partitions' accounts prove what the sink claims: no gap, no duplicate, nothing
 * stored ahead of its offset, nothing deleted by retention before it was stored.
 */
export function accountsHold(accounts: readonly PartitionAccount[]): boolean {
  return accounts.every(
    (a) => a.gaps === 0 && a.duplicates === 0 && a.beyondStored === 0 && a.expiredUnstored === 0n,
  );
}
